#pragma once
// The data directory a command works on, with its config and vault.

#include <memory>

#include "cli/options.hpp"
#include "config/connector_config.hpp"
#include "config/data_dir.hpp"
#include "config/vault.hpp"

namespace cbcs::cli {

class workspace {
 public:
  explicit workspace(const po::variables_map& vm);
  // For the commands that only read: a missing data directory is an error.
  workspace(const po::variables_map& vm, config::data_dir::existing_only_t);
  explicit workspace(std::filesystem::path root) : dir_(std::move(root)) {}

  const config::data_dir& dir() const { return dir_; }
  config::connector_config load_config() const;
  void save_config(const config::connector_config& c) const;
  std::unique_ptr<config::vault> open_vault() const;

 private:
  config::data_dir dir_;
};

}  // namespace cbcs::cli
