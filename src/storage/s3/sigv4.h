// AWS Signature Version 4 for S3 requests, written here because Debian has no AWS C++ SDK
// (README, "Why some pieces are written here"). The algorithm is AWS's published one: a
// canonical request (method, URI-encoded path, sorted query, sorted lower-case headers, the
// signed header names, the payload's SHA-256), a string to sign over its hash and the
// credential scope, and an HMAC-SHA256 chain deriving the signing key from the secret.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lakelog::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials; empty when none
};

struct SignableRequest {
  std::string method;  // GET, PUT, ...
  // The path as sent, already URI-encoded ("/bucket/a%20b.parquet").
  std::string path;
  // Query parameters, not encoded; any order ("list-type" -> "2", "uploads" -> "").
  std::vector<std::pair<std::string, std::string>> query;
  // Headers to sign (host and x-amz-* at least), any case, any order.
  std::vector<std::pair<std::string, std::string>> headers;
  // Lower-case hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_hash;
};

// The value of the Authorization header. `amz_date` is "YYYYMMDDTHHMMSSZ" and must equal the
// x-amz-date header among request.headers.
std::string Authorization(const SignableRequest& request, const Credentials& credentials,
                          std::string_view region, std::string_view service,
                          std::string_view amz_date);

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - . _ ~)
// as they are, '/' as it is when `keep_slash`, everything else %XX (upper-case hex).
std::string UriEncode(std::string_view text, bool keep_slash);

// Lower-case hex SHA-256.
std::string Sha256Hex(std::string_view data);

// "YYYYMMDDTHHMMSSZ" for seconds since the Unix epoch.
std::string AmzDate(int64_t unix_seconds);

}  // namespace lakelog::s3
