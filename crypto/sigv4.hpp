#pragma once
// AWS Signature Version 4 (header form), checked against AWS's own test suite
// (tests/data/aws-sig-v4-test-suite). Pure: the caller gives the time.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cbcs::crypto::sigv4 {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::optional<std::string> session_token;  // STS temporary credentials

  // The same keys: AWS names a key pair by its id (credential_use's refusal).
  bool operator==(const credentials& o) const { return access_key_id == o.access_key_id; }
};

struct request {
  std::string method = "GET";
  // The path as it goes on the wire. It is URI-encoded once more for the
  // canonical request: AWS services other than S3 expect that double encoding
  // (a raw "/a b" becomes "/a%20b", a wire "/a%20b" becomes "/a%2520b").
  std::string path = "/";
  std::string query;  // without '?'; raw or percent-encoded
  // Every header here is signed; duplicates are allowed. Host is required.
  // X-Amz-Date, X-Amz-Security-Token and Authorization must not be given: the
  // signer makes them.
  header_list headers;
  std::string body;
};

struct options {
  std::string region;
  std::string service;
  std::chrono::system_clock::time_point timestamp;
  // False only for S3, which signs its object keys unnormalized and encoded
  // once: give it the decoded path.
  bool normalize_path = true;
  // Most services want the session token signed; a few want it added after
  // signing (the suite's post-sts-header-after case).
  bool sign_security_token = true;
};

struct signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string credential_scope;  // yyyymmdd/region/service/aws4_request
  std::string signed_headers;    // "host;x-amz-date"
  std::string signature;         // lower-case hex
  std::string authorization;     // the Authorization header value
  // Headers the request must carry besides its own and Authorization:
  // X-Amz-Date, and X-Amz-Security-Token when a session token is set.
  header_list headers_to_add;
};

// Throws std::invalid_argument when the request lacks Host or carries a
// header the signer makes (the message names the header, never a value).
signature sign(const request& req, const credentials& creds, const options& opts);

// Building blocks, public for tests and for callers that need one part.
std::string amz_date(std::chrono::system_clock::time_point t);  // 20150830T123600Z
// RFC 3986 percent-encoding: unreserved characters stay, all else %XX (upper case).
std::string uri_encode(std::string_view text, bool encode_slash);
// Removes "." and ".." segments and empty segments (RFC 3986 §5.2.4 plus
// AWS's collapsing of "//"); keeps a trailing slash.
std::string normalize_path(std::string_view path);
std::string canonical_uri(std::string_view path, bool normalize);
std::string canonical_query(std::string_view query);
// Lower-case names, trimmed values with inner whitespace runs collapsed,
// duplicates comma-joined in order, sorted by name. Returns {block, signed}.
std::pair<std::string, std::string> canonical_headers(const header_list& headers);

}  // namespace cbcs::crypto::sigv4
