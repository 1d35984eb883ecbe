// cbcs_fuzz_replay: every fuzz target's entry point under its own name in one
// program that runs inputs through it, so the seed corpora replay in the
// normal test run (ctest fuzz_replay.<name>) with any compiler.
//
//   cbcs_fuzz_replay NAME PATH...   each PATH a file or a directory of inputs
//   cbcs_fuzz_replay --list         the target names
//
// A violated property aborts, naming the input on the line before.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

// tests/fuzz/CMakeLists.txt compiles each fuzz_<name>.cpp it finds with
// -DLLVMFuzzerTestOneInput=cbcs_fuzz_<name>, and writes their list here:
// CBCS_FUZZ_TARGETS(X) is X(name) for each.
#include "fuzz_targets.inc"

#define CBCS_DECLARE(name) extern "C" int cbcs_fuzz_##name(const std::uint8_t*, std::size_t);
CBCS_FUZZ_TARGETS(CBCS_DECLARE)
#undef CBCS_DECLARE

namespace {

namespace fs = std::filesystem;

struct target {
  std::string_view name;
  int (*run)(const std::uint8_t*, std::size_t);
};

#define CBCS_ENTRY(name) target{#name, cbcs_fuzz_##name},
const target targets[] = {CBCS_FUZZ_TARGETS(CBCS_ENTRY)};
#undef CBCS_ENTRY

std::vector<fs::path> inputs_of(const fs::path& path) {
  std::vector<fs::path> out;
  if (fs::is_directory(path)) {
    for (const auto& entry : fs::directory_iterator(path))
      if (entry.is_regular_file() && !entry.path().filename().string().starts_with("."))
        out.push_back(entry.path());
    std::sort(out.begin(), out.end());
  } else if (fs::is_regular_file(path)) {
    out.push_back(path);
  }
  return out;
}

int replay(const target& t, const std::vector<fs::path>& paths) {
  std::size_t count = 0;
  for (const auto& path : paths) {
    auto files = inputs_of(path);
    if (files.empty()) {
      std::fprintf(stderr, "%s: no inputs in %s\n", std::string(t.name).c_str(),
                   path.string().c_str());
      return 1;
    }
    for (const auto& file : files) {
      std::ifstream in(file, std::ios::binary);
      std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                      std::istreambuf_iterator<char>()};
      if (!in.eof() && in.fail()) {
        std::fprintf(stderr, "%s: cannot read %s\n", std::string(t.name).c_str(),
                     file.string().c_str());
        return 1;
      }
      std::fprintf(stderr, "%s: %s\n", std::string(t.name).c_str(), file.string().c_str());
      t.run(bytes.data(), bytes.size());
      ++count;
    }
  }
  std::printf("%s: %zu inputs replayed, every property held\n", std::string(t.name).c_str(), count);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == "--list") {
    for (const auto& t : targets) std::printf("%s\n", std::string(t.name).c_str());
    return 0;
  }
  if (args.size() < 2) {
    std::fprintf(stderr, "usage: cbcs_fuzz_replay NAME PATH... | --list\n");
    return 2;
  }
  auto it = std::find_if(std::begin(targets), std::end(targets),
                         [&](const target& t) { return t.name == args[0]; });
  if (it == std::end(targets)) {
    std::fprintf(stderr, "cbcs_fuzz_replay: unknown target %s (see --list)\n",
                 std::string(args[0]).c_str());
    return 2;
  }
  return replay(*it, std::vector<fs::path>(args.begin() + 1, args.end()));
}
