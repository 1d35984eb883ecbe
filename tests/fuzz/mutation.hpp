#pragma once
// The fuzz smoke's input maker: a seeded random mutation of the corpus
// inputs (byte flips, interesting bytes and tokens, inserts, deletes,
// repeats, splices, cuts), a few at a time. No coverage feedback: it is the
// short run every CI makes with any compiler, not libFuzzer's long search.

#include <cstdint>
#include <random>
#include <vector>

namespace cbcs::fuzz {

using bytes = std::vector<std::uint8_t>;

class mutator {
 public:
  explicit mutator(std::uint64_t seed) : random_(seed) {}

  // One to four mutations of `input`, one of `corpus` (non-empty) spliced in
  // now and then; the result holds at most `max_size` bytes.
  bytes next(const bytes& input, const std::vector<bytes>& corpus, std::size_t max_size);

 private:
  std::size_t below(std::size_t n) { return n == 0 ? 0 : random_() % n; }
  void mutate_once(bytes& b, const std::vector<bytes>& corpus);

  std::mt19937_64 random_;
};

}  // namespace cbcs::fuzz
