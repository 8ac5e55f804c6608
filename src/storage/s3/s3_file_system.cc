// S3FileSystem: see include/lakelog/s3_file_system.h and docs/object-storage.md.
#include "lakelog/s3_file_system.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <pugixml.hpp>
#include <random>
#include <thread>
#include <vector>

#include "storage/s3/sigv4.h"

namespace lakelog {
namespace {

struct HttpResult {
  long status = 0;  // NOLINT(runtime/int): libcurl's type
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t CollectHeader(char* data, size_t size, size_t n, void* out) {
  std::string_view line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = std::string(value);
  }
  return size * n;
}

// "Wed, 21 Oct 2015 07:28:00 GMT" (Last-Modified) or "2015-10-21T07:28:00.000Z" (listings).
int64_t ParseTimeMs(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

bool Retryable(long status) {  // NOLINT(runtime/int)
  return status == 429 || status >= 500;
}

std::string ErrorCode(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_string(body.c_str())) return "";
  return std::string(doc.child("Error").child_value("Code")) + ": " +
         doc.child("Error").child_value("Message");
}

class S3FileSystem;

// One request: method, key, query, extra headers, body.
struct Request {
  std::string method;
  std::string key;  // "" = the bucket itself
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
};

class S3FileSystem final : public FileSystem {
 public:
  explicit S3FileSystem(S3Options options)
      : options_(std::move(options)), rng_(std::random_device{}()) {
    if (options_.endpoint.empty()) {
      options_.endpoint = "https://s3." + options_.region + ".amazonaws.com";
    }
    while (!options_.endpoint.empty() && options_.endpoint.back() == '/') {
      options_.endpoint.pop_back();
    }
    const size_t scheme = options_.endpoint.find("://");
    host_ = scheme == std::string::npos ? options_.endpoint : options_.endpoint.substr(scheme + 3);
    scheme_ = scheme == std::string::npos ? "https" : options_.endpoint.substr(0, scheme);
  }
  ~S3FileSystem() override {
    for (CURL* c : idle_) curl_easy_cleanup(c);
  }

  // Sends with retries. OK with the final response for any HTTP status the caller must look
  // at; an error for connection failures and retryable statuses that outlast the attempts,
  // and for 403 (never retried).
  Status Send(const Request& r, HttpResult* out) {
    Status last;
    for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(Backoff(attempt - 1));
      *out = HttpResult();
      Status st = SendOnce(r, out);
      if (!st.ok()) {
        last = st;
        continue;
      }
      if (out->status == 403) {
        return Status::InvalidArgument("s3: " + r.method + " " + Describe(r.key) + ": HTTP 403 " +
                                       ErrorCode(out->body) +
                                       " (check the credentials, the region and the bucket "
                                       "policy; not retried)");
      }
      if (Retryable(out->status)) {
        last = Status::Unavailable("s3: " + r.method + " " + Describe(r.key) + ": HTTP " +
                                   std::to_string(out->status) + " " + ErrorCode(out->body));
        continue;
      }
      return Status::OK();
    }
    return last.WithContext("after " + std::to_string(options_.max_attempts) + " attempts");
  }

  Status Expect2xx(const Request& r, HttpResult* out) {
    LAKELOG_RETURN_IF_ERROR(Send(r, out));
    if (out->status / 100 == 2) return Status::OK();
    if (out->status == 404) return Status::NotFound("s3: " + Describe(r.key) + " not found");
    return Status::IOError("s3: " + r.method + " " + Describe(r.key) + ": HTTP " +
                           std::to_string(out->status) + " " + ErrorCode(out->body));
  }

  std::string Describe(const std::string& key) const {
    return "s3://" + options_.bucket + "/" + key;
  }
  const S3Options& options() const { return options_; }

  // --- FileSystem ---

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    return Status::NotSupported("s3: objects cannot be appended to (" + Describe(path) +
                                "); keep write-ahead logs and dead-letter files on a local disk");
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;

  Status PutIfAbsent(const std::string& path, std::string_view data) override {
    Request r{"PUT", Key(path), {}, {{"If-None-Match", "*"}}, data};
    HttpResult out;
    LAKELOG_RETURN_IF_ERROR(Send(r, &out));
    if (out.status / 100 == 2) return Status::OK();
    if (out.status == 412 || out.status == 409) {
      // The object there may be our own: an attempt whose answer was lost (a timeout after the
      // server stored it, a dropped connection) that we or libcurl itself (it silently resends
      // a request whose reused connection died) sent again. Our bytes there mean we won; a
      // commit's bytes are unique (its data file names are random).
      std::string there;
      if (ReadFile(path, &there).ok() && there == data) return Status::OK();
      return Status::AlreadyExists(Describe(path) + " already exists");
    }
    return Status::IOError("s3: conditional PUT " + Describe(path) + ": HTTP " +
                           std::to_string(out.status) + " " + ErrorCode(out.body));
  }

  Status WriteFileAtomic(const std::string& path, std::string_view data) override {
    HttpResult out;
    return Expect2xx(Request{"PUT", Key(path), {}, {}, data}, &out);
  }

  Status CreateDirs(const std::string&) override { return Status::OK(); }
  Status DeleteDir(const std::string&) override { return Status::OK(); }
  Status SyncDir(const std::string&) override { return Status::OK(); }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    std::string prefix = Key(path);
    if (!prefix.empty() && prefix.back() != '/') prefix += '/';
    std::vector<std::string> names;
    std::string token;
    do {
      Request r{"GET", "", {{"list-type", "2"}, {"prefix", prefix}, {"delimiter", "/"}}, {}, {}};
      if (!token.empty()) r.query.emplace_back("continuation-token", token);
      HttpResult out;
      LAKELOG_RETURN_IF_ERROR(Expect2xx(r, &out));
      pugi::xml_document doc;
      if (!doc.load_string(out.body.c_str())) {
        return Status::Corruption("s3: a ListObjectsV2 answer that is not XML for " +
                                  Describe(prefix));
      }
      pugi::xml_node result = doc.child("ListBucketResult");
      for (pugi::xml_node c : result.children("Contents")) {
        std::string key = c.child_value("Key");
        if (key.size() > prefix.size()) names.push_back(key.substr(prefix.size()));
      }
      for (pugi::xml_node c : result.children("CommonPrefixes")) {
        std::string p = c.child_value("Prefix");
        if (p.size() > prefix.size() + 1)
          names.push_back(p.substr(prefix.size(), p.size() - prefix.size() - 1));
      }
      token = std::string(result.child_value("IsTruncated")) == "true"
                  ? result.child_value("NextContinuationToken")
                  : "";
    } while (!token.empty());
    if (names.empty()) return Status::NotFound(Describe(prefix) + " holds nothing");
    return names;
  }

  Result<FileInfo> Stat(const std::string& path) override {
    HttpResult out;
    LAKELOG_RETURN_IF_ERROR(Send(Request{"HEAD", Key(path), {}, {}, {}}, &out));
    FileInfo info;
    if (out.status / 100 == 2) {
      info.size = std::strtoull(out.headers["content-length"].c_str(), nullptr, 10);
      info.modification_time_ms = ParseTimeMs(out.headers["last-modified"]);
      return info;
    }
    if (out.status != 404) {
      return Status::IOError("s3: HEAD " + Describe(path) + ": HTTP " + std::to_string(out.status));
    }
    // A "directory": some key below it.
    auto listed = ListDir(path);
    if (!listed.ok()) return Status::NotFound(Describe(path) + " not found");
    info.is_directory = true;
    return info;
  }

  Status DeleteFile(const std::string& path) override {
    HttpResult out;
    return Expect2xx(Request{"DELETE", Key(path), {}, {}, {}}, &out);
  }

  // Keys: no leading '/', no "./".
  static std::string Key(const std::string& path) {
    std::string_view p = path;
    while (p.rfind("./", 0) == 0) p.remove_prefix(2);
    while (!p.empty() && p.front() == '/') p.remove_prefix(1);
    return std::string(p);
  }

 private:
  std::chrono::milliseconds Backoff(int retry) {
    const int64_t ceiling = std::min<int64_t>(
        options_.max_backoff.count(), options_.initial_backoff.count() << std::min(retry, 20));
    std::lock_guard<std::mutex> lock(mu_);
    return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, ceiling)(rng_));
  }

  CURL* Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        CURL* c = idle_.back();
        idle_.pop_back();
        return c;
      }
    }
    return curl_easy_init();
  }
  void Give(CURL* c) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(c);
  }

  Status SendOnce(const Request& r, HttpResult* out) {
    std::string path = options_.path_style ? "/" + options_.bucket : "";
    std::string host = options_.path_style ? host_ : options_.bucket + "." + host_;
    path += "/" + s3::UriEncode(r.key, true);
    if (!options_.path_style && r.key.empty()) path = "/";
    const std::string amz_date = s3::AmzDate(std::time(nullptr));
    const std::string payload_hash = s3::Sha256Hex(r.body);
    s3::SignableRequest sign{r.method, path, r.query, r.headers, payload_hash};
    sign.headers.emplace_back("host", host);
    sign.headers.emplace_back("x-amz-date", amz_date);
    sign.headers.emplace_back("x-amz-content-sha256", payload_hash);
    if (!options_.session_token.empty()) {
      sign.headers.emplace_back("x-amz-security-token", options_.session_token);
    }
    s3::Credentials credentials{options_.access_key_id, options_.secret_access_key,
                                options_.session_token};
    const std::string authorization =
        s3::Authorization(sign, credentials, options_.region, "s3", amz_date);
    std::string url = scheme_ + "://" + host + path;
    std::string query;
    for (const auto& [k, v] : r.query) {
      query +=
          (query.empty() ? "?" : "&") + s3::UriEncode(k, false) + "=" + s3::UriEncode(v, false);
    }
    url += query;
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : sign.headers) {
      if (k == "host") continue;  // curl sends Host itself, from the URL
      headers = curl_slist_append(headers, (k + ": " + v).c_str());
    }
    headers = curl_slist_append(headers, ("Authorization: " + authorization).c_str());
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    if (r.method == "PUT" || r.method == "POST")
      headers = curl_slist_append(headers, "Content-Type:");
    CURL* c = Take();
    if (c == nullptr) {
      curl_slist_free_all(headers);
      return Status::Internal("s3: curl_easy_init failed");
    }
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, CollectHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->headers);
    if (r.method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      if (r.method == "PUT" || r.method == "POST") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      }
    }
    const CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(headers);
    Give(c);
    if (rc != CURLE_OK) {
      return Status::Unavailable("s3: " + r.method + " " + Describe(r.key) + ": " +
                                 curl_easy_strerror(rc));
    }
    return Status::OK();
  }

  S3Options options_;
  std::string host_, scheme_;
  std::mutex mu_;
  std::vector<CURL*> idle_;  // guarded by mu_
  std::mt19937_64 rng_;      // guarded by mu_
};

// Buffers up to one part; past it, a multipart upload carries the parts as they fill.
class S3WritableFile final : public WritableFile {
 public:
  S3WritableFile(S3FileSystem* fs, std::string key) : fs_(fs), key_(std::move(key)) {}
  ~S3WritableFile() override {
    if (!upload_id_.empty() && !done_) Abort();
  }

  Status Append(std::string_view data) override {
    if (done_) return Status::InvalidArgument("s3: " + fs_->Describe(key_) + " is closed");
    buffer_.append(data);
    size_ += data.size();
    while (buffer_.size() >= fs_->options().part_size) {
      LAKELOG_RETURN_IF_ERROR(UploadPart(fs_->options().part_size));
    }
    return Status::OK();
  }
  // The object exists only once uploaded: Sync() completes the upload.
  Status Sync() override { return Finish(); }
  Status Close() override { return Finish(); }
  uint64_t Size() const override { return size_; }

 private:
  Status Finish() {
    if (done_) return status_;
    done_ = true;
    if (upload_id_.empty()) {
      HttpResult out;
      status_ = fs_->Expect2xx(Request{"PUT", key_, {}, {}, buffer_}, &out);
      buffer_.clear();
      return status_;
    }
    if (!buffer_.empty()) {
      done_ = false;
      status_ = UploadPart(buffer_.size());
      done_ = true;
      if (!status_.ok()) return status_;
    }
    std::string xml = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags_.size(); ++i) {
      xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags_[i] +
             "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    HttpResult out;
    status_ = fs_->Expect2xx(Request{"POST", key_, {{"uploadId", upload_id_}}, {}, xml}, &out);
    // A 200 may still carry an error document.
    if (status_.ok() && out.body.find("<Error>") != std::string::npos) {
      status_ =
          Status::IOError("s3: completing " + fs_->Describe(key_) + ": " + ErrorCode(out.body));
    }
    if (!status_.ok()) Abort();
    return status_;
  }

  Status UploadPart(size_t n) {
    if (upload_id_.empty()) {
      HttpResult out;
      LAKELOG_RETURN_IF_ERROR(
          fs_->Expect2xx(Request{"POST", key_, {{"uploads", ""}}, {}, {}}, &out));
      pugi::xml_document doc;
      doc.load_string(out.body.c_str());
      upload_id_ = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
      if (upload_id_.empty()) {
        return Status::IOError("s3: no UploadId for " + fs_->Describe(key_));
      }
    }
    HttpResult out;
    Request r{"PUT",
              key_,
              {{"partNumber", std::to_string(etags_.size() + 1)}, {"uploadId", upload_id_}},
              {},
              std::string_view(buffer_).substr(0, n)};
    LAKELOG_RETURN_IF_ERROR(fs_->Expect2xx(r, &out));
    etags_.push_back(out.headers["etag"]);
    buffer_.erase(0, n);
    return Status::OK();
  }

  void Abort() {
    HttpResult out;
    (void)fs_->Send(Request{"DELETE", key_, {{"uploadId", upload_id_}}, {}, {}}, &out);
  }

  S3FileSystem* fs_;
  std::string key_;
  std::string buffer_;
  uint64_t size_ = 0;
  std::string upload_id_;
  std::vector<std::string> etags_;
  bool done_ = false;
  Status status_;
};

class S3RandomAccessFile final : public RandomAccessFile {
 public:
  S3RandomAccessFile(S3FileSystem* fs, std::string key, uint64_t size)
      : fs_(fs), key_(std::move(key)), size_(size) {}
  Status Read(uint64_t offset, size_t n, std::string* out) const override {
    out->clear();
    if (offset >= size_ || n == 0) return Status::OK();
    const uint64_t last = std::min<uint64_t>(size_, offset + n) - 1;
    HttpResult result;
    LAKELOG_RETURN_IF_ERROR(fs_->Expect2xx(
        Request{"GET",
                key_,
                {},
                {{"Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(last)}},
                {}},
        &result));
    *out = std::move(result.body);
    return Status::OK();
  }
  uint64_t Size() const override { return size_; }

 private:
  S3FileSystem* fs_;
  std::string key_;
  uint64_t size_;
};

Result<std::unique_ptr<WritableFile>> S3FileSystem::NewWritableFile(const std::string& path) {
  return std::unique_ptr<WritableFile>(new S3WritableFile(this, Key(path)));
}

Result<std::unique_ptr<RandomAccessFile>> S3FileSystem::NewRandomAccessFile(
    const std::string& path) {
  LAKELOG_ASSIGN_OR_RETURN(FileInfo info, Stat(path));
  if (info.is_directory)
    return Status::InvalidArgument(Describe(path) + " is a prefix, not an object");
  return std::unique_ptr<RandomAccessFile>(new S3RandomAccessFile(this, Key(path), info.size));
}

// The [profile] section of an INI-style AWS file ("[profile x]" in config, "[x]" in
// credentials).
std::map<std::string, std::string> ReadProfile(const std::string& file, const std::string& profile,
                                               bool config) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  std::string line;
  bool inside = false;
  const std::string want = config && profile != "default" ? "profile " + profile : profile;
  auto trim = [](std::string s) {
    s.erase(0, s.find_first_not_of(" \t\r"));
    s.erase(s.find_last_not_of(" \t\r") + 1);
    return s;
  };
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      inside = trim(line.substr(1, line.size() - 2)) == want;
      continue;
    }
    const size_t eq = line.find('=');
    if (inside && eq != std::string::npos)
      out[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

}  // namespace

Result<S3Options> S3OptionsFromEnvironment(std::string bucket) {
  S3Options o;
  o.bucket = std::move(bucket);
  o.access_key_id = Env("AWS_ACCESS_KEY_ID");
  o.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
  o.session_token = Env("AWS_SESSION_TOKEN");
  std::string region = Env("AWS_REGION");
  if (region.empty()) region = Env("AWS_DEFAULT_REGION");
  std::string endpoint = Env("AWS_ENDPOINT_URL_S3");
  if (endpoint.empty()) endpoint = Env("AWS_ENDPOINT_URL");
  const std::string home = Env("HOME");
  std::string profile = Env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::string credentials_file = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (credentials_file.empty()) credentials_file = home + "/.aws/credentials";
  std::string config_file = Env("AWS_CONFIG_FILE");
  if (config_file.empty()) config_file = home + "/.aws/config";
  if (o.access_key_id.empty()) {
    auto c = ReadProfile(credentials_file, profile, false);
    o.access_key_id = c["aws_access_key_id"];
    o.secret_access_key = c["aws_secret_access_key"];
    o.session_token = c["aws_session_token"];
  }
  auto config = ReadProfile(config_file, profile, true);
  if (region.empty()) region = config["region"];
  if (endpoint.empty()) endpoint = config["endpoint_url"];
  if (!region.empty()) o.region = region;
  o.endpoint = endpoint;
  if (o.access_key_id.empty() || o.secret_access_key.empty()) {
    return Status::InvalidArgument(
        "s3: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in " +
        credentials_file + " (AWS_PROFILE, default \"default\")");
  }
  // AWS itself serves virtual-hosted URLs; custom endpoints (local stores) path-style.
  o.path_style = !o.endpoint.empty();
  return o;
}

Status ParseS3Uri(std::string_view uri, std::string* bucket, std::string* key_prefix) {
  std::string_view rest;
  if (uri.rfind("s3://", 0) == 0) {
    rest = uri.substr(5);
  } else if (uri.rfind("s3a://", 0) == 0) {
    rest = uri.substr(6);
  } else {
    return Status::InvalidArgument("not an s3:// URI: " + std::string(uri));
  }
  const size_t slash = rest.find('/');
  *bucket = std::string(rest.substr(0, slash));
  std::string prefix = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  *key_prefix = prefix;
  if (bucket->empty())
    return Status::InvalidArgument("s3 URI without a bucket: " + std::string(uri));
  return Status::OK();
}

Result<std::unique_ptr<FileSystem>> NewS3FileSystem(const S3Options& options) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (options.bucket.empty()) return Status::InvalidArgument("s3: no bucket");
  if (options.access_key_id.empty() || options.secret_access_key.empty()) {
    return Status::InvalidArgument("s3: access_key_id and secret_access_key are required");
  }
  if (options.part_size < (5ull << 20)) {
    return Status::InvalidArgument("s3: part_size must be at least 5 MiB (S3's minimum part)");
  }
  if (options.max_attempts < 1) return Status::InvalidArgument("s3: max_attempts must be >= 1");
  auto fs = std::make_unique<S3FileSystem>(options);
  if (!options.single_writer) {
    // The store must refuse a second conditional PUT of one key, or two writers could both
    // "win" a Delta version.
    std::mt19937_64 rng(std::random_device{}());
    const std::string probe = "_lakelog_probe/" + std::to_string(rng());
    LAKELOG_RETURN_IF_ERROR(fs->PutIfAbsent(probe, "probe")
                                .WithContext("s3: probing put-if-absent on " + options.bucket));
    Status second = fs->PutIfAbsent(probe, "probe 2");
    (void)fs->DeleteFile(probe);
    if (!second.IsAlreadyExists()) {
      return Status::InvalidArgument(
          "s3: " + fs->Describe("") +
          " does not honour conditional writes (If-None-Match: *): two writers could commit the "
          "same Delta version. Use a store that does, or set single_writer if only one writer "
          "will ever commit" +
          (second.ok() ? std::string() : " (" + second.ToString() + ")"));
    }
  }
  return std::unique_ptr<FileSystem>(std::move(fs));
}

}  // namespace lakelog
