#pragma once
// AD CS's own transport for -transport dcom (runtime_policy::make_transport):
// the driver's calls (dcom_wire.hpp) made on a ca_com, one at a time, on a
// thread of its own (on Windows COM's multithreaded apartment, joined by the
// ca_com made there). Every HRESULT goes back in the answer: the driver
// decides what it means (dcom_api.hpp).

#include <functional>
#include <memory>

#include "protocol/ca/msca/ca_com.hpp"
#include "protocol/ca/transport.hpp"

namespace cbcs::protocol::ca::msca {

// `make` runs on the transport's thread, once, before the first call;
// nullptr from it: every call fails with a transport error saying so.
using ca_com_maker = std::function<std::unique_ptr<ca_com>()>;

std::unique_ptr<transport> make_dcom_transport(ca_com_maker make);

// The msca type's runtime_policy::make_transport: -transport dcom on
// Windows, CertCli/CertAdm's objects; otherwise nullptr (the HTTP client,
// and off Windows the driver's settings problem says DCOM needs Windows).
std::unique_ptr<transport> make_msca_transport(const driver_config& backend,
                                               const transport_timeouts& timeouts);

}  // namespace cbcs::protocol::ca::msca
