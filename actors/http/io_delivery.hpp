#pragma once
// How a transport's completion reaches its actor. On the shared I/O thread
// the receiving actor runs right there, in the same turn of the event loop:
// a backend against a slow CA otherwise pays a scheduler thread's wake-up
// (~20 us of CPU on a small VM) for every answer, and the next request a
// second hop back. Anywhere else (the scripted transports of the tests) it
// is an ordinary anonymous send.

#include <caf/fwd.hpp>

namespace cbcs::actors {

void send_from_io(const caf::strong_actor_ptr& to, caf::message msg);

}  // namespace cbcs::actors
