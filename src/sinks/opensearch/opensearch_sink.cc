// OpenSearchSink: `_bulk` create requests with deterministic ids over libcurl. See
// include/lakelog/opensearch_sink.h for the contract and docs/sinks.md for the details.
#include "lakelog/opensearch_sink.h"

#include <curl/curl.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <unordered_set>
#include <vector>

#include "common/event_json.h"
#include "common/timestamp.h"
#include "lakelog/event.h"

namespace lakelog {
namespace {

struct HttpResponse {
  long status = 0;  // NOLINT(runtime/int): libcurl's type
  std::string body;
};

size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

Status Gzip(std::string_view in, std::string* out) {
  z_stream z{};
  // 15 window bits + 16: a gzip header and trailer rather than zlib's.
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Internal("opensearch sink: deflateInit2 failed");
  }
  out->resize(deflateBound(&z, in.size()) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out->data());
  z.avail_out = static_cast<uInt>(out->size());
  const int rc = deflate(&z, Z_FINISH);
  out->resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return Status::Internal("opensearch sink: gzip failed");
  return Status::OK();
}

// "lakelog-logs-%Y.%m.%d" for the UTC date of `ts_micros`.
std::string IndexFor(const std::string& pattern, int64_t ts_micros) {
  const std::string date = FormatDate(DaysFromMicros(ts_micros));  // YYYY-MM-DD
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size()) {
      const char c = pattern[++i];
      if (c == 'Y') {
        out += date.substr(0, 4);
      } else if (c == 'm') {
        out += date.substr(5, 2);
      } else if (c == 'd') {
        out += date.substr(8, 2);
      } else {
        out.push_back('%');
        out.push_back(c);
      }
    } else {
      out.push_back(pattern[i]);
    }
  }
  return out;
}

bool Retryable(int status) { return status == 408 || status == 429 || status >= 500; }

class OpenSearchSink final : public Sink {
 public:
  explicit OpenSearchSink(OpenSearchSinkOptions options) : options_(std::move(options)) {
    while (!options_.url.empty() && options_.url.back() == '/') options_.url.pop_back();
    curl_ = curl_easy_init();
    multi_ = curl_multi_init();
  }
  ~OpenSearchSink() override {
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
  }

  std::string_view name() const override { return "opensearch"; }

  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext& ctx) override {
    if (curl_ == nullptr || multi_ == nullptr) {
      return Status::Internal("opensearch sink: curl_easy_init/curl_multi_init failed");
    }
    LAKELOG_RETURN_IF_ERROR(EnsureTemplate());
    // A retry of the same round sends only what did not land the first time.
    if (ctx.round != pending_round_ || ctx.writer_id != pending_writer_ ||
        done_.size() != events.size()) {
      pending_round_ = ctx.round;
      pending_writer_ = std::string(ctx.writer_id);
      done_.assign(events.size(), false);
    }
    std::vector<Doc> docs;
    for (size_t i = 0; i < events.size(); ++i) {
      if (done_[i]) continue;
      docs.push_back(MakeDoc(*events[i], i, ctx));
    }
    std::deque<std::span<Doc>> batches;
    size_t begin = 0;
    while (begin < docs.size()) {
      size_t end = begin;
      uint64_t bytes = 0;
      while (end < docs.size() && end - begin < options_.max_batch_events &&
             (end == begin || bytes + docs[end].Size() <= options_.max_batch_bytes)) {
        bytes += docs[end++].Size();
      }
      batches.push_back(std::span<Doc>(docs).subspan(begin, end - begin));
      begin = end;
    }
    Outcome outcome;
    const Status sent = SendAll(std::move(batches), &outcome);
    // Refused documents are marked done: report them now, whatever else failed.
    if (!outcome.dead.empty()) ReportDead(outcome.dead, ctx);
    if (!sent.ok()) return sent;
    if (outcome.to_retry > 0) {
      return Status::Unavailable("opensearch sink: " + std::to_string(outcome.to_retry) +
                                 " documents of round " + std::to_string(ctx.round) +
                                 " were refused for now (" + outcome.retry_reason +
                                 "); the round is retried with the rest only");
    }
    pending_round_ = -1;
    RecordProgress(ctx);
    return Status::OK();
  }

  // Write() returns once every document is acknowledged: nothing is held back.
  Status Flush(std::chrono::milliseconds) override { return Status::OK(); }

  // The round recorded by RecordProgress() for this writer (its document's _version); 0 when
  // there is none (a new writer, or no progress_index).
  Result<int64_t> CommittedRound(std::string_view writer_id) override {
    if (options_.progress_index.empty()) return int64_t{0};
    if (curl_ == nullptr) return Status::Internal("opensearch sink: curl_easy_init failed");
    HttpResponse response;
    LAKELOG_RETURN_IF_ERROR(
        Request("GET", ProgressPath(writer_id) + "?_source=false", "", nullptr, &response));
    if (response.status == 404) return int64_t{0};  // no document, or no index yet
    LAKELOG_RETURN_IF_ERROR(
        CheckStatus(response, "reading the progress of " + std::string(writer_id)));
    nlohmann::json parsed = nlohmann::json::parse(response.body, nullptr, false);
    if (!parsed.is_object() || !parsed.contains("_version") ||
        !parsed["_version"].is_number_integer()) {
      return Status::Corruption("opensearch sink: the progress document of " +
                                std::string(writer_id) + " in " + options_.progress_index +
                                " has no integer _version: " + response.body.substr(0, 300));
    }
    return parsed["_version"].get<int64_t>();
  }

 private:
  struct Doc {
    size_t position = 0;
    std::string action;  // the bulk action line, with its newline
    std::string source;  // the document line, with its newline
    std::string index;
    std::string id;
    int status = 0;
    std::string reason;
    size_t Size() const { return action.size() + source.size(); }
  };
  struct Outcome {
    size_t to_retry = 0;
    std::string retry_reason;
    std::vector<Doc> dead;
  };
  // One `_bulk` request on the multi handle.
  struct Transfer {
    std::span<Doc> docs;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string payload;
    std::string response;
    char error[CURL_ERROR_SIZE] = {};
    ~Transfer() {
      if (easy != nullptr) curl_easy_cleanup(easy);
      curl_slist_free_all(headers);
    }
  };

  Doc MakeDoc(const LogEvent& e, size_t position, const SinkWriteContext& ctx) const {
    Doc d;
    d.position = position;
    d.id = std::string(ctx.writer_id) +
           (ctx.event_sequences.empty()
                ? "-r" + std::to_string(ctx.round) + "-" + std::to_string(position)
                : "-s" + std::to_string(ctx.event_sequences[position]));
    d.index =
        options_.data_stream.empty() ? IndexFor(options_.index, e.ts_micros) : options_.data_stream;
    nlohmann::json action = {{"create", {{"_index", d.index}, {"_id", d.id}}}};
    d.action = action.dump() + "\n";
    std::string body;
    AppendEventJson(e, &body);
    // The event's own JSON plus @timestamp (what data streams and Dashboards key on).
    d.source =
        "{\"@timestamp\":\"" + FormatRfc3339Micros(e.ts_micros) + "\"," + body.substr(1) + "\n";
    return d;
  }

  static constexpr const char* kBulkPath =
      "/_bulk?filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason";

  // Sends the batches, at most max_in_flight at once; records per document what happened
  // (done_, outcome). An error only for what fails a whole request (the other requests in
  // flight still finish and count).
  Status SendAll(std::deque<std::span<Doc>> queue, Outcome* outcome) {
    std::vector<std::unique_ptr<Transfer>> active;
    Status failed;
    while (!queue.empty() || !active.empty()) {
      while (failed.ok() && !queue.empty() && active.size() < options_.max_in_flight) {
        auto transfer = StartTransfer(queue.front());
        queue.pop_front();
        if (!transfer.ok()) {
          failed = transfer.status();
          break;
        }
        curl_multi_add_handle(multi_, (*transfer)->easy);
        active.push_back(std::move(transfer).value());
      }
      if (active.empty()) break;
      int running = 0;
      CURLMcode mc = curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        auto it = std::find_if(active.begin(), active.end(),
                               [&](const auto& t) { return t->easy == msg->easy_handle; });
        if (it == active.end()) continue;
        std::unique_ptr<Transfer> t = std::move(*it);
        active.erase(it);
        const CURLcode rc = msg->data.result;
        curl_multi_remove_handle(multi_, t->easy);
        Status st = FinishTransfer(*t, rc, outcome, &queue);
        if (!st.ok() && failed.ok()) failed = st;
      }
      if (mc == CURLM_OK && !active.empty())
        mc = curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
      if (mc != CURLM_OK) {
        for (auto& t : active) curl_multi_remove_handle(multi_, t->easy);
        return Status::Internal(std::string("opensearch sink: curl multi: ") +
                                curl_multi_strerror(mc));
      }
    }
    return failed;
  }

  Result<std::unique_ptr<Transfer>> StartTransfer(std::span<Doc> docs) {
    auto t = std::make_unique<Transfer>();
    t->docs = docs;
    std::string body;
    for (const Doc& d : docs) body += d.action + d.source;
    if (options_.gzip) {
      LAKELOG_RETURN_IF_ERROR(Gzip(body, &t->payload));
    } else {
      t->payload = std::move(body);
    }
    t->easy = curl_easy_init();
    if (t->easy == nullptr) return Status::Internal("opensearch sink: curl_easy_init failed");
    t->headers = curl_slist_append(t->headers, "Content-Type: application/x-ndjson");
    if (options_.gzip) t->headers = curl_slist_append(t->headers, "Content-Encoding: gzip");
    Configure(t->easy, "POST", options_.url + kBulkPath, t->payload, t->headers, &t->response);
    curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->error);
    return t;
  }

  // One finished request: its items, a 413 split (the halves go back on the queue), or the
  // error that fails the whole request.
  Status FinishTransfer(Transfer& t, CURLcode rc, Outcome* outcome,
                        std::deque<std::span<Doc>>* queue) {
    if (rc != CURLE_OK) {
      // Unreachable, refused, timed out, TLS: the engine retries.
      return Status::Unavailable(
          "opensearch sink: POST " + options_.url + "/_bulk: " +
          (t.error[0] != '\0' ? std::string(t.error) : std::string(curl_easy_strerror(rc))));
    }
    HttpResponse response;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &response.status);
    response.body = std::move(t.response);
    std::span<Doc> docs = t.docs;
    if (response.status == 413) {
      if (docs.size() == 1) {
        docs[0].status = 413;
        docs[0].reason = "request_too_large: the document alone is over the cluster's limit";
        MarkDead(docs[0], outcome);
        return Status::OK();
      }
      const size_t half = docs.size() / 2;
      queue->push_front(docs.subspan(half));
      queue->push_front(docs.subspan(0, half));
      return Status::OK();
    }
    LAKELOG_RETURN_IF_ERROR(CheckStatus(response, "_bulk"));
    nlohmann::json parsed = nlohmann::json::parse(response.body, nullptr, false);
    const nlohmann::json* items =
        parsed.is_object() && parsed.contains("items") ? &parsed["items"] : nullptr;
    if (items == nullptr || !items->is_array() || items->size() != docs.size()) {
      if (parsed.is_object() && parsed.value("errors", true) == false) {
        // filter_path leaves out items without error fields only when none is requested;
        // "errors": false means every create succeeded.
        for (Doc& d : docs) done_[d.position] = true;
        return Status::OK();
      }
      return Status::Unavailable(
          "opensearch sink: a _bulk response without one item per "
          "document (" +
          std::to_string(docs.size()) + " sent): " + response.body.substr(0, 300));
    }
    for (size_t i = 0; i < docs.size(); ++i) {
      const nlohmann::json& item = (*items)[i];
      const nlohmann::json& result =
          item.is_object() && !item.empty() ? item.begin().value() : nlohmann::json();
      const int status = result.is_object() ? result.value("status", 0) : 0;
      Doc& d = docs[i];
      if (status == 200 || status == 201 || status == 409) {
        done_[d.position] = true;  // 409 on create: written by an earlier try
      } else if (Retryable(status) || status == 0) {
        ++outcome->to_retry;
        if (outcome->retry_reason.empty()) {
          outcome->retry_reason = "HTTP " + std::to_string(status) + " " + ErrorText(result);
        }
      } else {
        d.status = status;
        d.reason = ErrorText(result);
        MarkDead(d, outcome);
      }
    }
    return Status::OK();
  }

  // Dead letters once per document: a replayed round (a restart before its progress record,
  // or no progress_index) meets the same refusals again, and neither the file nor the warning
  // should count them twice. The ids already lettered are read from the file once.
  void ReportDead(std::vector<Doc>& dead_docs, const SinkWriteContext& ctx) {
    if (!lettered_) LoadLettered();
    std::vector<Doc> fresh;
    for (Doc& d : dead_docs) {
      if (lettered_->insert(d.id).second) fresh.push_back(std::move(d));
    }
    if (fresh.empty()) return;
    Status dead = WriteDeadLetters(fresh);
    if (!ctx.warn) return;
    const Doc& first = fresh.front();
    ctx.warn(Status::InvalidArgument(
        "opensearch sink: " + std::to_string(fresh.size()) +
        " documents refused for good (first: " + std::to_string(first.status) + " " + first.reason +
        ")" +
        (options_.dead_letter_path.empty() ? std::string(", not kept (no dead_letter_path)")
                                           : ", written to " + options_.dead_letter_path) +
        (dead.ok() ? std::string() : "; the dead-letter file failed: " + dead.ToString())));
  }

  void LoadLettered() {
    lettered_.emplace();
    if (options_.dead_letter_path.empty()) return;
    std::ifstream in(options_.dead_letter_path, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      nlohmann::json letter = nlohmann::json::parse(line, nullptr, false);
      if (letter.is_object() && letter.contains("id") && letter["id"].is_string()) {
        lettered_->insert(letter["id"].get<std::string>());
      }
    }
  }

  std::string ProgressPath(std::string_view writer_id) {
    char* escaped = curl_easy_escape(curl_, writer_id.data(), static_cast<int>(writer_id.size()));
    std::string path = "/" + options_.progress_index + "/_doc/" + (escaped ? escaped : "");
    curl_free(escaped);
    return path;
  }

  // Records the round as the writer's progress: the document's version is the round
  // (external versioning refuses to go back, so an older incarnation cannot undo a newer
  // one's record). A failure only costs a longer replay after a restart: a warning.
  void RecordProgress(const SinkWriteContext& ctx) {
    if (options_.progress_index.empty() || ctx.round <= 0) return;
    nlohmann::json doc = {{"writer_id", ctx.writer_id}, {"round", ctx.round}};
    HttpResponse response;
    Status st = Request("PUT",
                        ProgressPath(ctx.writer_id) + "?version=" + std::to_string(ctx.round) +
                            "&version_type=external",
                        doc.dump(), "application/json", &response);
    if (st.ok() && response.status != 409) st = CheckStatus(response, "recording progress");
    if (!st.ok() && ctx.warn) {
      ctx.warn(st.WithContext("opensearch sink: round " + std::to_string(ctx.round) +
                              " is in, but its progress record is not (a restart replays it)"));
    }
  }

  void MarkDead(Doc& d, Outcome* outcome) {
    done_[d.position] = true;  // never holds the round back
    outcome->dead.push_back(std::move(d));
  }

  static std::string ErrorText(const nlohmann::json& result) {
    if (!result.is_object() || !result.contains("error")) return "";
    const nlohmann::json& e = result["error"];
    if (!e.is_object()) return e.dump();
    return e.value("type", std::string()) + ": " + e.value("reason", std::string());
  }

  Status WriteDeadLetters(const std::vector<Doc>& dead) {
    if (options_.dead_letter_path.empty()) return Status::OK();
    std::ofstream out(options_.dead_letter_path, std::ios::app | std::ios::binary);
    if (!out) return Status::IOError("cannot open " + options_.dead_letter_path);
    for (const Doc& d : dead) {
      nlohmann::json line = {{"index", d.index},
                             {"id", d.id},
                             {"status", d.status},
                             {"reason", d.reason},
                             {"document", d.source.substr(0, d.source.size() - 1)}};
      out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
    out.flush();
    if (!out) return Status::IOError("writing " + options_.dead_letter_path);
    return Status::OK();
  }

  Status EnsureTemplate() {
    if (!options_.install_template || template_installed_) return Status::OK();
    const bool stream = !options_.data_stream.empty();
    std::string pattern =
        stream ? options_.data_stream : options_.index.substr(0, options_.index.find('%')) + "*";
    auto keyword = nlohmann::json{{"type", "keyword"}};
    // `date` (millisecond resolution, years 0001..9999 and beyond) rather than date_nanos,
    // whose 1970..2262 range would refuse events lakelog accepts; the exact ts stays in
    // _source.
    auto date = nlohmann::json{{"type", "date"}, {"format", "strict_date_optional_time_nanos"}};
    nlohmann::json mappings = {
        {"dynamic", false},
        {"properties",
         {{"@timestamp", date},
          {"ts", date},
          {"pipeline", keyword},
          {"level", keyword},
          {"stage", keyword},
          {"status", keyword},
          {"run_id", keyword},
          {"host", keyword},
          {"message",
           {{"type", "text"},
            {"fields", {{"keyword", {{"type", "keyword"}, {"ignore_above", 1024}}}}}}},
          {"attributes", {{"type", options_.attributes_type}}}}}};
    nlohmann::json body = {
        {"index_patterns", {pattern}},
        // Templates of equal priority may not overlap: a longer (more specific) pattern gets a
        // higher one, so nested patterns ("logs-app-*" inside "logs-*") live side by side.
        {"priority", 200 + static_cast<int>(std::min<size_t>(pattern.size(), 500))},
        {"template", {{"mappings", mappings}}}};
    if (stream) body["data_stream"] = nlohmann::json::object();
    HttpResponse response;
    std::string name = options_.template_name;
    if (name.empty()) {
      name = stream ? options_.data_stream : pattern.substr(0, pattern.size() - 1);
      while (!name.empty() && (name.back() == '-' || name.back() == '.' || name.back() == '_')) {
        name.pop_back();
      }
      if (name.empty()) name = "lakelog-logs";
    }
    LAKELOG_RETURN_IF_ERROR(
        Request("PUT", "/_index_template/" + name, body.dump(), "application/json", &response));
    LAKELOG_RETURN_IF_ERROR(CheckStatus(response, "installing the index template"));
    template_installed_ = true;
    return Status::OK();
  }

  // Maps a request-level HTTP status to a Status.
  Status CheckStatus(const HttpResponse& response, const std::string& what) const {
    const long s = response.status;  // NOLINT(runtime/int)
    if (s >= 200 && s < 300) return Status::OK();
    const std::string text = "opensearch sink: " + what + " at " + options_.url + ": HTTP " +
                             std::to_string(s) + ": " + response.body.substr(0, 300);
    if (s == 401 || s == 403) {
      return Status::InvalidArgument(text +
                                     " (check username/password and the user's "
                                     "permissions; retrying will not help)");
    }
    if (Retryable(static_cast<int>(s))) return Status::Unavailable(text);
    return Status::InvalidArgument(text);
  }

  // The options every request shares (URL, method, body, TLS, auth, timeout).
  void Configure(CURL* easy, const char* method, const std::string& url, const std::string& payload,
                 curl_slist* headers, std::string* response) const {
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    if (std::string_view(method) != "GET") {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, payload.data());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
    }
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // gzip responses too
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, response);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.username.empty()) {
      curl_easy_setopt(easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(easy, CURLOPT_USERNAME, options_.username.c_str());
      curl_easy_setopt(easy, CURLOPT_PASSWORD, options_.password.c_str());
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  }

  // One request on the sink's own handle (the template, the progress record).
  Status Request(const char* method, const std::string& path, const std::string& body,
                 const char* content_type, HttpResponse* response) {
    std::string payload;
    const bool gzip = options_.gzip && !body.empty();
    if (gzip) {
      LAKELOG_RETURN_IF_ERROR(Gzip(body, &payload));
    } else {
      payload = body;
    }
    curl_easy_reset(curl_);
    const std::string url = options_.url + path;
    curl_slist* headers = nullptr;
    if (content_type != nullptr) {
      headers = curl_slist_append(headers, (std::string("Content-Type: ") + content_type).c_str());
    }
    if (gzip) headers = curl_slist_append(headers, "Content-Encoding: gzip");
    response->body.clear();
    Configure(curl_, method, url, payload, headers, &response->body);
    const CURLcode rc = curl_easy_perform(curl_);
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response->status);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      // Unreachable, refused, timed out, TLS: the engine retries.
      return Status::Unavailable("opensearch sink: " + std::string(method) + " " + url + ": " +
                                 curl_easy_strerror(rc));
    }
    return Status::OK();
  }

  OpenSearchSinkOptions options_;
  CURL* curl_ = nullptr;    // the template and progress requests
  CURLM* multi_ = nullptr;  // the bulk requests, max_in_flight at once
  bool template_installed_ = false;
  // The round being written and which of its events are in (the engine calls Write() from one
  // thread at a time, so no lock).
  int64_t pending_round_ = -1;
  // Ids of the documents dead-lettered so far (this process, and the file's earlier lines).
  std::optional<std::unordered_set<std::string>> lettered_;
  std::string pending_writer_;
  std::vector<bool> done_;
};

}  // namespace

Result<std::unique_ptr<Sink>> NewOpenSearchSink(const OpenSearchSinkOptions& options) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (options.url.rfind("http://", 0) != 0 && options.url.rfind("https://", 0) != 0) {
    return Status::InvalidArgument(
        "opensearch sink: url must start with http:// or https:// (got '" + options.url + "')");
  }
  if (options.data_stream.empty() && options.index.empty()) {
    return Status::InvalidArgument("opensearch sink: index (a pattern) or data_stream is required");
  }
  if (options.username.empty() != options.password.empty()) {
    return Status::InvalidArgument("opensearch sink: username and password go together");
  }
  if (options.max_batch_events == 0 || options.max_batch_bytes == 0) {
    return Status::InvalidArgument(
        "opensearch sink: max_batch_events and max_batch_bytes must be > 0");
  }
  if (options.max_in_flight == 0 || options.max_in_flight > 64) {
    return Status::InvalidArgument("opensearch sink: max_in_flight must be between 1 and 64 (got " +
                                   std::to_string(options.max_in_flight) + ")");
  }
  if (options.attributes_type.empty()) {
    return Status::InvalidArgument("opensearch sink: attributes_type is empty");
  }
  return std::unique_ptr<Sink>(new OpenSearchSink(options));
}

}  // namespace lakelog
