#pragma once
// Fetches the certificate chain a TLS server presents, without trusting it,
// so that registration can pin the SCM CA by its fingerprint
// (protocol/scm/PROTOCOL.md §1, "Pinning for registration"): the caller
// picks the certificate whose SHA-256 matches the token's ca_sha256 and then
// connects again, verifying properly, with that certificate as the only root.
// Beast stays in the .cpp.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/http/http_client.hpp"

namespace cbcs::actors {

// The chain as sent by the server (leaf first), each certificate in PEM.
// Throws std::runtime_error with a one-line reason ("tls: ..." for TLS
// problems) when the server cannot be reached.
std::vector<std::string> fetch_server_chain(const std::string& host, std::uint16_t port,
                                            const proxy_settings& proxy,
                                            std::chrono::milliseconds timeout);

// The certificate (PEM) of that chain whose SHA-256 fingerprint (lower-case
// hex of the DER, protocol::scm::certificate_fingerprint) is ca_sha256;
// nullopt when the server presents none. Throws as fetch_server_chain does.
// `cbcs register` and the installer's Test Connection trust only it.
std::optional<std::string> fetch_pinned_certificate(const std::string& host, std::uint16_t port,
                                                    const proxy_settings& proxy,
                                                    const std::string& ca_sha256,
                                                    std::chrono::milliseconds timeout);

}  // namespace cbcs::actors
