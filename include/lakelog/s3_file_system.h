// S3FileSystem: the FileSystem seam over S3 and S3-compatible object stores, so a Delta table
// can live at s3://bucket/prefix with no external lock.
//
//   auto options = lakelog::S3OptionsFromEnvironment("my-bucket");   // AWS_* variables, ~/.aws
//   auto fs = lakelog::NewS3FileSystem(*options);                     // probes put-if-absent
//   auto sink = lakelog::NewDeltaSink(fs->get(), "tables/pipeline_logs", {});
//
// Paths are object keys in the bucket ("tables/pipeline_logs/_delta_log/...json"); directories
// are key prefixes (CreateDirs, DeleteDir and SyncDir have nothing to do). Delta commits use
// PutIfAbsent, a conditional PUT (`If-None-Match: *`): a 412 means another writer won the
// version. A store that ignores the condition is found at open (a probe object written twice)
// and refused unless `single_writer` says only one writer will ever commit. Data files are
// uploaded when closed: in one PUT, or as a multipart upload of `part_size` parts as they are
// written (memory stays at one part). Requests are signed with AWS Signature V4; 5xx, 429
// (SlowDown) and connection errors are retried with full-jitter backoff; 403 is not.
// NewAppendableFile is not supported (objects cannot be appended to: the WAL stays on a local
// disk). See docs/object-storage.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog {

struct S3Options {
  std::string bucket;
  // "http://127.0.0.1:9000" for a local store; empty = https://s3.<region>.amazonaws.com.
  std::string endpoint;
  std::string region = "us-east-1";
  // Path-style URLs (endpoint/bucket/key) rather than virtual-hosted (bucket.endpoint/key).
  bool path_style = true;
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  // Multipart part size for data files (S3's minimum is 5 MiB).
  uint64_t part_size = 8ull << 20;
  // Attempts per request (retryable failures only) and the backoff between them.
  int max_attempts = 10;
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds timeout{30000};
  // Skip the put-if-absent probe: only ever one writer commits to tables on this store.
  bool single_writer = false;
};

// Options from the AWS SDKs' standard sources, first found wins: AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION (or AWS_DEFAULT_REGION),
// AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3); then the profile AWS_PROFILE (default "default")
// of the shared files AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and AWS_CONFIG_FILE
// (~/.aws/config: region, endpoint_url). InvalidArgument when no credentials are found.
Result<S3Options> S3OptionsFromEnvironment(std::string bucket);

// Checks the options and, unless single_writer, that the store honours put-if-absent.
Result<std::unique_ptr<FileSystem>> NewS3FileSystem(const S3Options& options);

// "s3://bucket/some/prefix" -> bucket "bucket", key prefix "some/prefix" (no trailing '/').
// Also accepts "s3a://". InvalidArgument for anything else.
Status ParseS3Uri(std::string_view uri, std::string* bucket, std::string* key_prefix);

}  // namespace lakelog
