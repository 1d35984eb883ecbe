#pragma once
// AD CS's own transport for -transport dcom (runtime_policy::make_transport):
// the driver's calls (dcom_wire.hpp) made on a ca_com, one at a time, on a
// thread of its own (on Windows COM's multithreaded apartment, joined by the
// ca_com made there). Every HRESULT goes back in the answer: the driver
// decides what it means (dcom_api.hpp).

#include <chrono>
#include <functional>
#include <memory>

#include "protocol/ca/msca/ca_com.hpp"
#include "protocol/ca/transport.hpp"

namespace cbcs::protocol::ca::msca {

// `make` runs on the transport's thread, once, before the first call (and
// again on each thread that replaces one left in a hung call); nullptr from
// it: every call fails with a transport error saying so.
using ca_com_maker = std::function<std::unique_ptr<ca_com>()>;

// A deadline on every call, from send(): COM gives its calls none of ours
// (DCOM's own RPC timeouts may be minutes), and the drivers count on an
// answer or a failure within the attempt limit (transport.hpp).
//   - A call that has not answered in time fails `network` (retried; a
//     placement is then in doubt), in one line naming the COM method and
//     the time. Its thread is left in the call with its COM object (made
//     and destroyed on it, as COM wants) and a new thread with a new object
//     takes the next calls; the late answer is dropped.
//   - At most one such thread at a time: while one is still in its call,
//     a second hung call fails the same way but keeps its thread, and the
//     calls queued behind it fail `not_sent` at their deadline, naming the
//     call they waited for. When the first returns, the second is replaced.
//   - A call still queued at its deadline fails `not_sent`.
// CoCancelCall ("requests cancellation of an outbound DCOM method call
// pending on a specified thread", after CoEnableCallCancellation there)
// could end a hung call in place on Windows; it is not used: a thread left
// behind works the same under the fake, Wine and Windows, needs nothing of
// the server, and bounds what a stuck CA costs (two threads).
std::unique_ptr<transport> make_dcom_transport(ca_com_maker make,
                                               std::chrono::milliseconds deadline);

// The msca type's runtime_policy::make_transport: -transport dcom on
// Windows, CertCli/CertAdm's objects; otherwise nullptr (the HTTP client,
// and off Windows the driver's settings problem says DCOM needs Windows).
std::unique_ptr<transport> make_msca_transport(const driver_config& backend,
                                               const transport_timeouts& timeouts);

}  // namespace cbcs::protocol::ca::msca
