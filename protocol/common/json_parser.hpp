#pragma once
// A simdjson DOM parser kept between documents. A fresh parser allocates its
// buffers for every document, and on a busy connector the page faults of
// those allocations cost more than the parse. Each call site keeps its own
// (per-thread, CBCS_PER_THREAD) parser, so a document one site still reads is never
// overwritten by another's parse.

#include <simdjson.h>

namespace cbcs::protocol {

// The parser at a call site, emptied first when a large document grew it
// past 1 MiB: one large answer must not stay resident for good.
inline simdjson::dom::parser& reused(simdjson::dom::parser& parser) {
  constexpr std::size_t keep_capacity = 1 << 20;
  if (parser.capacity() > keep_capacity) parser = simdjson::dom::parser{};
  return parser;
}

}  // namespace cbcs::protocol
