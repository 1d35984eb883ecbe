// cbcs_fuzz_replay: every fuzz target's entry point under its own name in one
// program that runs inputs through it, so the seed corpora replay in the
// normal test run (ctest fuzz_replay.<name>) with any compiler.
//
//   cbcs_fuzz_replay NAME PATH...   each PATH a file or a directory of inputs
//   cbcs_fuzz_replay --smoke SECONDS NAME PATH...
//                                   mutations of those inputs for SECONDS
//                                   (ctest fuzz_smoke.<name>, every CI run)
//   cbcs_fuzz_replay --list         the target names
//
// A violated property aborts, naming the input on the line before. In the
// smoke the failing input is written to crash-<name> in the working
// directory first (also on a sanitizer's report), so that
// `cbcs_fuzz_replay NAME crash-<name>` replays it.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// tests/fuzz/CMakeLists.txt compiles each fuzz_<name>.cpp it finds with
// -DLLVMFuzzerTestOneInput=cbcs_fuzz_<name>, and writes their list here:
// CBCS_FUZZ_TARGETS(X) is X(name) for each.
#include "fuzz_targets.inc"
#include "mutation.hpp"

// Present when a sanitizer runtime is linked: called before it ends the process.
extern "C" __attribute__((weak)) void __sanitizer_set_death_callback(void (*)(void));

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

// The file's bytes; false when it could not be read to its end.
bool read_input(const fs::path& file, cbcs::fuzz::bytes& out) {
  std::ifstream in(file, std::ios::binary);
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return in.eof() || !in.fail();
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
      cbcs::fuzz::bytes bytes;
      if (!read_input(file, bytes)) {
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

// --- the smoke: the input being run, written out if it ends the process.
// Exactly as long as the input (a read past its end is an ASan report, as
// under libFuzzer); set only while the target runs.
const std::uint8_t* volatile running_data = nullptr;
volatile std::size_t running_size = 0;
char crash_path[512];

void write_current_input() {
  const std::uint8_t* data = running_data;
  running_data = nullptr;  // once, even if writing it fails on the way
  if (!data) return;
  int fd = ::open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  std::size_t done = 0, size = running_size;
  while (done < size) {
    auto n = ::write(fd, data + done, size - done);
    if (n <= 0) break;
    done += std::size_t(n);
  }
  ::close(fd);
  static const char said[] = "fuzz smoke: the failing input is in ";
  (void)!::write(2, said, sizeof said - 1);
  (void)!::write(2, crash_path, std::strlen(crash_path));
  (void)!::write(2, "\n", 1);
}

void on_fatal_signal(int sig) {
  write_current_input();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Under a sanitizer its runtime reports a SEGV (with the stack) and then
// calls the death callback, so only abort() is ours. Without one, every
// fatal signal is, on a stack of its own (the fault may be a stack overflow).
void keep_failing_inputs() {
  if (__sanitizer_set_death_callback) {
    __sanitizer_set_death_callback(write_current_input);
    ::signal(SIGABRT, on_fatal_signal);  // a violated property; UBSan with abort_on_error=1
    return;
  }
  static std::vector<char> alternate(1 << 16);
  stack_t ss{};
  ss.ss_sp = alternate.data();
  ss.ss_size = alternate.size();
  ::sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_handler = on_fatal_signal;
  sa.sa_flags = SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::sigaction(sig, &sa, nullptr);
}

// The smoke's own test (test_fuzz_smoke.py): CBCS_FUZZ_SMOKE_SELF_TEST=
// abort:N or overread:N fails run N the way a violated property or a
// read past the input (an ASan report) does.
struct self_test {
  bool overread = false;
  std::size_t at_run = 0;  // 0: none
};

self_test self_test_from_environment() {
  const char* v = std::getenv("CBCS_FUZZ_SMOKE_SELF_TEST");
  if (!v) return {};
  std::string_view text(v);
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return {};
  return {.overread = text.substr(0, colon) == "overread",
          .at_run = std::strtoull(std::string(text.substr(colon + 1)).c_str(), nullptr, 10)};
}

void run_exactly(const target& t, const cbcs::fuzz::bytes& input, std::size_t run,
                 const self_test& check) {
  auto exact = std::make_unique<std::uint8_t[]>(input.size());
  std::copy(input.begin(), input.end(), exact.get());
  running_size = input.size();
  running_data = exact.get();
  if (run == check.at_run && check.at_run != 0) {
    if (!check.overread) std::abort();
    volatile std::uint8_t past = exact.get()[input.size()];
    (void)past;
  }
  t.run(exact.get(), input.size());
  running_data = nullptr;
}

int smoke(const target& t, double seconds, const std::vector<fs::path>& paths) {
  std::vector<cbcs::fuzz::bytes> corpus;
  std::size_t largest = 0;
  for (const auto& path : paths)
    for (const auto& file : inputs_of(path)) {
      read_input(file, corpus.emplace_back());
      largest = std::max(largest, corpus.back().size());
    }
  auto name = std::string(t.name);
  if (corpus.empty()) {
    std::fprintf(stderr, "%s: no inputs to mutate\n", name.c_str());
    return 1;
  }
  std::snprintf(crash_path, sizeof crash_path, "crash-%s", name.c_str());
  if (char cwd[256]; ::getcwd(cwd, sizeof cwd))
    std::snprintf(crash_path, sizeof crash_path, "%s/crash-%s", cwd, name.c_str());
  ::unlink(crash_path);  // an earlier run's, fixed since or not: this run says
  keep_failing_inputs();

  // A seed of its own each run by hand, or CBCS_FUZZ_SEED's (the suite's is fixed).
  std::uint64_t seed = std::uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  if (const char* s = std::getenv("CBCS_FUZZ_SEED")) seed = std::strtoull(s, nullptr, 10);
  // At most this many runs (the suite's smoke: the same inputs on every
  // machine fast enough to reach it, so a test result never depends on luck).
  std::size_t max_runs = 0;
  if (const char* s = std::getenv("CBCS_FUZZ_MAX_RUNS")) max_runs = std::strtoull(s, nullptr, 10);
  cbcs::fuzz::mutator mutator(seed);
  auto max_size = std::max<std::size_t>(4096, 2 * largest);
  auto started = std::chrono::steady_clock::now();
  auto end = started + std::chrono::duration<double>(seconds);
  std::size_t runs = 0;
  auto check = self_test_from_environment();
  for (const auto& input : corpus) {  // every seed unchanged first
    run_exactly(t, input, ++runs, check);
  }
  std::fprintf(stderr, "%s: mutating %zu inputs for %.0f s (CBCS_FUZZ_SEED=%llu)\n", name.c_str(),
               corpus.size(), seconds, static_cast<unsigned long long>(seed));
  while (std::chrono::steady_clock::now() < end && (max_runs == 0 || runs < max_runs)) {
    for (int i = 0; i < 64 && (max_runs == 0 || runs < max_runs); ++i) {
      auto input = mutator.next(corpus[runs % corpus.size()], corpus, max_size);
      run_exactly(t, input, ++runs, check);
    }
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  std::printf("%s: %zu runs in %.1f s from %zu inputs (seed %llu), every property held\n",
              name.c_str(), runs, took.count(), corpus.size(),
              static_cast<unsigned long long>(seed));
  return 0;
}

const target* find_target(std::string_view name) {
  auto it = std::find_if(std::begin(targets), std::end(targets),
                         [&](const target& t) { return t.name == name; });
  if (it == std::end(targets)) {
    std::fprintf(stderr, "cbcs_fuzz_replay: unknown target %s (see --list)\n",
                 std::string(name).c_str());
    return nullptr;
  }
  return it;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == "--list") {
    for (const auto& t : targets) std::printf("%s\n", std::string(t.name).c_str());
    return 0;
  }
  if (args.size() >= 4 && args[0] == "--smoke") {
    char* end = nullptr;
    std::string text(args[1]);
    double seconds = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !(seconds > 0 && seconds <= 86400)) {
      std::fprintf(stderr, "cbcs_fuzz_replay: --smoke takes seconds, such as 5\n");
      return 2;
    }
    auto* t = find_target(args[2]);
    return t ? smoke(*t, seconds, std::vector<fs::path>(args.begin() + 3, args.end())) : 2;
  }
  if (args.size() < 2) {
    std::fprintf(stderr,
                 "usage: cbcs_fuzz_replay NAME PATH... | --smoke SECONDS NAME PATH... | --list\n");
    return 2;
  }
  auto* t = find_target(args[0]);
  return t ? replay(*t, std::vector<fs::path>(args.begin() + 1, args.end())) : 2;
}
