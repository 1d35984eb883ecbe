#pragma once
// Text from outside (a CA's answer, an SCM frame) made safe for our messages,
// logs and the journal, and secrets kept out of them.

#include <string>
#include <string_view>

namespace cbcs::protocol {

// One line of valid UTF-8 of at most `max_bytes` (at least 3): control
// characters (C0, DEL, C1) and the Unicode line and paragraph separators
// become spaces, invalid sequences U+FFFD; a longer text is cut on a
// character boundary and ends in "...", within the limit. Doing it twice
// changes nothing, so a text read back from a peer re-encodes unchanged.
std::string one_line(std::string_view text, std::size_t max_bytes = 512);

// Replaces every occurrence of `secret` (4 characters or more) in `message`
// with "[redacted]": a service could echo what it was sent.
void redact(std::string& message, std::string_view secret);

// A secret named without showing it: its last four characters, if it is
// long enough that they give nothing away ("...x7Qa"), else "[hidden]".
std::string masked(std::string_view secret);

bool iequals(std::string_view a, std::string_view b);

// Text put into a URL's path segment or query value (RFC 3986 2.1, 2.3): the
// unreserved characters A-Z a-z 0-9 - . _ ~ stay, every other byte is %XX in
// upper case ("a b/c" -> "a%20b%2Fc"). One rule for every driver; the SigV4
// signer keeps its own (crypto/ cannot use protocol/, and AWS fixes it there).
std::string url_encode(std::string_view text);

}  // namespace cbcs::protocol
