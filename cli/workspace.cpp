#include "cli/workspace.hpp"

#include "config/key_provider.hpp"

namespace cbcs::cli {

workspace::workspace(const po::variables_map& vm)
    : dir_(config::data_dir::resolve(optional_string(vm, "data-dir"))) {}

workspace::workspace(const po::variables_map& vm, config::data_dir::existing_only_t)
    : dir_(config::data_dir::resolve(optional_string(vm, "data-dir")),
           config::data_dir::existing_only) {}

config::connector_config workspace::load_config() const {
  return config::load_config(dir_.config_file());
}

void workspace::save_config(const config::connector_config& c) const {
  config::save_config(dir_.config_file(), c);
}

std::unique_ptr<config::vault> workspace::open_vault() const {
  return std::make_unique<config::vault>(dir_.vault_file(), config::load_machine_key(dir_));
}

}  // namespace cbcs::cli
