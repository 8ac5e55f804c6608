// The OpenSearch sink against canned responses from a local HTTP server (fast, every edge of the
// bulk protocol); tests/opensearch/test_*.py run it against a real OpenSearch node.
#include "lakelog/opensearch_sink.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <zlib.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

namespace lakelog {
namespace {

std::string Gunzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(in.size() * 20 + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

struct BulkRequest {
  bool gzipped = false;
  std::vector<nlohmann::json> actions;
  std::vector<nlohmann::json> docs;
  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const auto& a : actions) out.push_back(a["create"]["_id"]);
    return out;
  }
};

// A local stand-in for a cluster: the status of each bulk item comes from `item_status`
// (id, how many times that id was sent before), of the whole request from `bulk_status`.
class FakeCluster {
 public:
  FakeCluster() {
    server_.Put(R"(/_index_template/(.+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  std::lock_guard<std::mutex> l(mu_);
                  templates_.push_back(nlohmann::json::parse(req.body));
                  templates_.back()["name"] = req.matches[1];
                  res.status = template_status_;
                  res.set_content(R"({"acknowledged":true})", "application/json");
                });
    server_.Put(R"(/lakelog-progress/_doc/(.+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  std::lock_guard<std::mutex> l(mu_);
                  const std::string id = req.matches[1];
                  const int64_t version = std::stoll(req.get_param_value("version"));
                  EXPECT_EQ(req.get_param_value("version_type"), "external");
                  if (progress_.count(id) && progress_[id] >= version) {
                    res.status = 409;  // version_conflict_engine_exception
                    return;
                  }
                  progress_[id] = version;
                  res.status = 201;
                  res.set_content(R"({"result":"created"})", "application/json");
                });
    server_.Get(R"(/lakelog-progress/_doc/(.+))", [this](const httplib::Request& req,
                                                         httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu_);
      auto it = progress_.find(req.matches[1]);
      if (it == progress_.end()) {
        res.status = 404;
        res.set_content(R"({"found":false})", "application/json");
        return;
      }
      res.set_content(nlohmann::json({{"found", true}, {"_version", it->second}}).dump(),
                      "application/json");
    });
    server_.Post("/_bulk", [this](const httplib::Request& req, httplib::Response& res) {
      if (hold_until_in_flight_ > 0) HoldUntilInFlight();
      std::lock_guard<std::mutex> l(mu_);
      BulkRequest bulk;
      bulk.gzipped = req.get_header_value("Content-Encoding") == "gzip";
      // cpp-httplib built with zlib inflates a gzip body itself (so it was valid gzip); one
      // built without hands over the raw bytes.
      const bool raw_gzip = req.body.size() > 2 &&
                            static_cast<unsigned char>(req.body[0]) == 0x1f &&
                            static_cast<unsigned char>(req.body[1]) == 0x8b;
      const std::string body = raw_gzip ? Gunzip(req.body) : req.body;
      std::istringstream lines(body);
      std::string line;
      bool action = true;
      while (std::getline(lines, line)) {
        (action ? bulk.actions : bulk.docs).push_back(nlohmann::json::parse(line));
        action = !action;
      }
      filter_paths_.push_back(req.get_param_value("filter_path"));
      requests_.push_back(bulk);
      const int whole = bulk_status_ ? bulk_status_(bulk) : 200;
      if (whole != 200) {
        res.status = whole;
        return;
      }
      nlohmann::json items = nlohmann::json::array();
      bool errors = false;
      for (const std::string& id : bulk.ids()) {
        const int status = item_status_ ? item_status_(id, sent_[id]++) : 201;
        nlohmann::json item = {{"status", status}};
        if (status >= 300) {
          errors = true;
          item["error"] = {{"type", status == 400 ? "mapper_parsing_exception" : "busy"},
                           {"reason", "scripted " + std::to_string(status)}};
        }
        items.push_back({{"create", item}});
      }
      res.set_content(nlohmann::json({{"errors", errors}, {"items", items}}).dump(),
                      "application/json");
    });
    // Idle keep-alive connections hold a server thread each until this passes, also at stop().
    server_.set_keep_alive_timeout(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeCluster() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<BulkRequest> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  std::vector<nlohmann::json> templates() {
    std::lock_guard<std::mutex> l(mu_);
    return templates_;
  }

  std::map<std::string, int64_t> progress() {
    std::lock_guard<std::mutex> l(mu_);
    return progress_;
  }
  int max_in_flight_seen() {
    std::lock_guard<std::mutex> l(flight_mu_);
    return max_in_flight_seen_;
  }

  // Each bulk request waits (up to 10 s) until this many are in flight at once, so a sink
  // that sends them one at a time shows as max_in_flight_seen() == 1.
  int hold_until_in_flight_ = 0;
  std::function<int(const std::string& id, int times_sent_before)> item_status_;
  std::function<int(const BulkRequest&)> bulk_status_;
  int template_status_ = 200;
  std::vector<std::string> filter_paths_;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<BulkRequest> requests_;
  std::vector<nlohmann::json> templates_;
  std::map<std::string, int> sent_;
  std::map<std::string, int64_t> progress_;
  std::mutex flight_mu_;
  std::condition_variable flight_cv_;
  int in_flight_ = 0;
  int max_in_flight_seen_ = 0;
  bool released_ = false;

  void HoldUntilInFlight() {
    std::unique_lock<std::mutex> l(flight_mu_);
    ++in_flight_;
    max_in_flight_seen_ = std::max(max_in_flight_seen_, in_flight_);
    if (in_flight_ >= hold_until_in_flight_) released_ = true;
    flight_cv_.notify_all();
    flight_cv_.wait_for(l, std::chrono::seconds(10), [this] { return released_; });
    --in_flight_;
  }
};

class OpenSearchSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 8; ++i) {
      LogEvent e;
      e.pipeline = "loader";
      e.ts_micros = 1795515330123456 + i;  // 2026-11-24T10:15:30.123456Z
      e.level = Level::kInfo;
      e.stage = "merge";
      e.status = "SUCCESS";
      e.message = "event " + std::to_string(i);
      e.attributes = {{"rows", std::to_string(i)}};
      events_.push_back(e);
    }
    for (const LogEvent& e : events_) rows_.push_back(&e);
  }

  std::unique_ptr<Sink> Make(OpenSearchSinkOptions o = {}) {
    o.url = cluster_.url();
    auto sink = NewOpenSearchSink(o);
    EXPECT_TRUE(sink.ok()) << sink.status().ToString();
    return std::move(sink).value();
  }

  std::span<const LogEvent* const> Rows(size_t n) { return {rows_.data(), n}; }

  FakeCluster cluster_;
  std::vector<LogEvent> events_;
  std::vector<const LogEvent*> rows_;
};

TEST_F(OpenSearchSinkTest, DeterministicIdsDailyIndexGzipAndTheEventAsTheDocument) {
  auto sink = Make();
  SinkWriteContext ctx{.writer_id = "w1", .round = 7};
  ASSERT_TRUE(sink->Write(Rows(2), ctx).ok());
  const std::vector<uint64_t> seqs = {11, 12};
  SinkWriteContext with_wal{.writer_id = "w1", .round = 12, .event_sequences = seqs};
  ASSERT_TRUE(sink->Write(Rows(2), with_wal).ok());
  auto requests = cluster_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(requests[0].gzipped);
  EXPECT_EQ(requests[0].ids(), (std::vector<std::string>{"w1-r7-0", "w1-r7-1"}));
  EXPECT_EQ(requests[1].ids(), (std::vector<std::string>{"w1-s11", "w1-s12"}));
  EXPECT_EQ(requests[0].actions[0]["create"]["_index"], "lakelog-logs-2026.11.24");
  const nlohmann::json& doc = requests[0].docs[1];
  EXPECT_EQ(doc["pipeline"], "loader");
  EXPECT_EQ(doc["ts"], "2026-11-24T10:15:30.123457Z");
  EXPECT_EQ(doc["@timestamp"], doc["ts"]);
  EXPECT_EQ(doc["message"], "event 1");
  EXPECT_EQ(doc["attributes"]["rows"], "1");
  EXPECT_NE(cluster_.filter_paths_[0].find("items.*.status"), std::string::npos);
}

TEST_F(OpenSearchSinkTest, MixedItemsRetryOnlyWhatDidNotLandAndDeadLetterTheRest) {
  const std::string dead = ::testing::TempDir() + "/os-dead-letters.ndjson";
  std::remove(dead.c_str());
  cluster_.item_status_ = [](const std::string& id, int before) {
    if (id == "w-r1-1") return 409;                      // already there (an earlier try)
    if (id == "w-r1-2") return before == 0 ? 429 : 201;  // busy once
    if (id == "w-r1-3") return 400;                      // a mapping conflict
    if (id == "w-r1-4") return before == 0 ? 503 : 201;
    return 201;
  };
  OpenSearchSinkOptions o;
  o.dead_letter_path = dead;
  auto sink = Make(o);
  std::vector<std::string> warnings;
  SinkWriteContext ctx{.writer_id = "w", .round = 1, .warn = [&](const Status& st) {
                         warnings.push_back(st.ToString());
                       }};
  Status first = sink->Write(Rows(6), ctx);
  EXPECT_EQ(first.code(), StatusCode::kUnavailable) << first.ToString();
  EXPECT_TRUE(first.retryable());
  EXPECT_NE(first.message().find("2 documents"), std::string::npos) << first.ToString();
  ctx.attempt = 2;
  ASSERT_TRUE(sink->Write(Rows(6), ctx).ok());
  auto requests = cluster_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].ids().size(), 6u);
  // The retry sends the two that were refused for now, nothing else.
  EXPECT_EQ(requests[1].ids(), (std::vector<std::string>{"w-r1-2", "w-r1-4"}));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("1 documents refused for good"), std::string::npos) << warnings[0];
  std::ifstream in(dead);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  nlohmann::json letter = nlohmann::json::parse(line);
  EXPECT_EQ(letter["id"], "w-r1-3");
  EXPECT_EQ(letter["status"], 400);
  EXPECT_NE(letter["reason"].get<std::string>().find("mapper_parsing_exception"),
            std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(letter["document"].get<std::string>())["message"], "event 3");
  EXPECT_FALSE(std::getline(in, line));
}

TEST_F(OpenSearchSinkTest, BatchesAreBoundedByEventsAndBytes) {
  OpenSearchSinkOptions o;
  o.max_batch_events = 3;
  auto sink = Make(o);
  ASSERT_TRUE(sink->Write(Rows(8), SinkWriteContext{.writer_id = "w", .round = 1}).ok());
  std::vector<size_t> sizes;  // the requests may arrive in any order (several in flight)
  for (const auto& r : cluster_.requests()) sizes.push_back(r.ids().size());
  std::sort(sizes.begin(), sizes.end());
  EXPECT_EQ(sizes, (std::vector<size_t>{2, 3, 3}));
  OpenSearchSinkOptions small;
  small.max_batch_bytes = 1;  // one document per request, whatever its size
  auto one_each = Make(small);
  ASSERT_TRUE(one_each->Write(Rows(4), SinkWriteContext{.writer_id = "w", .round = 2}).ok());
  EXPECT_EQ(cluster_.requests().size(), 3u + 4u);
}

TEST_F(OpenSearchSinkTest, A413SplitsTheRequestAndALoneTooLargeDocumentIsDeadLettered) {
  cluster_.bulk_status_ = [](const BulkRequest& bulk) {
    if (bulk.ids().size() > 2) return 413;
    for (const std::string& id : bulk.ids()) {
      if (id == "w-r1-5") return 413;
    }
    return 200;
  };
  auto sink = Make();
  std::vector<std::string> warnings;
  SinkWriteContext ctx{.writer_id = "w", .round = 1, .warn = [&](const Status& st) {
                         warnings.push_back(st.ToString());
                       }};
  ASSERT_TRUE(sink->Write(Rows(8), ctx).ok());
  // The requests the cluster took: at most two documents, none of them the too-large one.
  std::set<std::string> landed;
  for (const auto& r : cluster_.requests()) {
    const std::vector<std::string> ids = r.ids();
    if (ids.size() <= 2 && std::find(ids.begin(), ids.end(), "w-r1-5") == ids.end()) {
      landed.insert(ids.begin(), ids.end());
    }
  }
  EXPECT_EQ(landed.size(), 7u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("413"), std::string::npos) << warnings[0];
}

TEST_F(OpenSearchSinkTest, UnauthorizedIsNotRetryableAndADownNodeIs) {
  cluster_.template_status_ = 401;
  auto sink = Make();
  Status st = sink->Write(Rows(1), SinkWriteContext{.writer_id = "w", .round = 1});
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(st.retryable()) << st.ToString();
  EXPECT_NE(st.message().find("HTTP 401"), std::string::npos) << st.ToString();
  OpenSearchSinkOptions o;
  o.url = "http://127.0.0.1:1";  // nothing listens there
  auto down = NewOpenSearchSink(o).value();
  Status unreachable = down->Write(Rows(1), SinkWriteContext{.writer_id = "w", .round = 1});
  EXPECT_EQ(unreachable.code(), StatusCode::kUnavailable) << unreachable.ToString();
}

TEST_F(OpenSearchSinkTest, TheTemplateIsInstalledOnceAndLazilyWhenTheNodeWasNotReady) {
  cluster_.template_status_ = 503;
  OpenSearchSinkOptions o;
  o.attributes_type = "flattened";
  auto sink = Make(o);
  SinkWriteContext ctx{.writer_id = "w", .round = 1};
  Status not_ready = sink->Write(Rows(1), ctx);
  EXPECT_TRUE(not_ready.retryable()) << not_ready.ToString();
  EXPECT_TRUE(cluster_.requests().empty()) << "documents went out before the template";
  cluster_.template_status_ = 200;
  ASSERT_TRUE(sink->Write(Rows(1), ctx).ok());
  ASSERT_TRUE(sink->Write(Rows(1), SinkWriteContext{.writer_id = "w", .round = 2}).ok());
  auto templates = cluster_.templates();
  ASSERT_EQ(templates.size(), 2u);  // the refused one, then once
  const nlohmann::json& t = templates[1];
  EXPECT_EQ(t["index_patterns"][0], "lakelog-logs-*");
  EXPECT_EQ(t["name"], "lakelog-logs");
  const nlohmann::json& props = t["template"]["mappings"]["properties"];
  EXPECT_EQ(props["attributes"]["type"], "flattened");
  EXPECT_EQ(props["pipeline"]["type"], "keyword");
  EXPECT_EQ(props["message"]["type"], "text");
}

TEST_F(OpenSearchSinkTest, UpToMaxInFlightBulkRequestsAreSentAtOnceAndNoMore) {
  cluster_.hold_until_in_flight_ = 3;
  OpenSearchSinkOptions o;
  o.max_batch_events = 1;  // 8 requests for 8 events
  o.max_in_flight = 3;
  auto sink = Make(o);
  ASSERT_TRUE(sink->Write(Rows(8), SinkWriteContext{.writer_id = "w", .round = 1}).ok());
  EXPECT_EQ(cluster_.max_in_flight_seen(), 3);
  std::set<std::string> ids;
  for (const auto& r : cluster_.requests()) {
    for (const std::string& id : r.ids()) ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 8u);
  EXPECT_EQ(cluster_.requests().size(), 8u);
}

TEST_F(OpenSearchSinkTest, ARequestThatFailsDoesNotLoseWhatTheOthersInFlightLanded) {
  OpenSearchSinkOptions o;
  o.max_batch_events = 2;
  o.max_in_flight = 4;
  int calls = 0;
  cluster_.bulk_status_ = [&calls](const BulkRequest& bulk) {
    ++calls;  // under the cluster's lock
    return bulk.ids()[0] == "w-r1-2" && calls <= 4 ? 503 : 200;
  };
  auto sink = Make(o);
  SinkWriteContext ctx{.writer_id = "w", .round = 1};
  Status first = sink->Write(Rows(8), ctx);
  EXPECT_TRUE(first.retryable()) << first.ToString();
  ASSERT_TRUE(sink->Write(Rows(8), ctx).ok());
  auto requests = cluster_.requests();
  ASSERT_EQ(requests.size(), 5u);
  // The retry sends only the two documents of the refused request.
  EXPECT_EQ(requests[4].ids(), (std::vector<std::string>{"w-r1-2", "w-r1-3"}));
}

TEST_F(OpenSearchSinkTest, ProgressIsRecordedPerWriterAndReadBackAndNeverGoesBack) {
  auto sink = Make();
  EXPECT_EQ(sink->CommittedRound("w").value(), 0);  // nothing recorded yet
  ASSERT_TRUE(sink->Write(Rows(2), SinkWriteContext{.writer_id = "w", .round = 5}).ok());
  ASSERT_TRUE(sink->Write(Rows(2), SinkWriteContext{.writer_id = "w", .round = 9}).ok());
  EXPECT_EQ(sink->CommittedRound("w").value(), 9);
  // An older incarnation writing a lower round: no warning, the record stays at 9.
  auto older = Make();
  std::vector<std::string> warnings;
  ASSERT_TRUE(older
                  ->Write(Rows(1),
                          SinkWriteContext{
                              .writer_id = "w",
                              .round = 7,
                              .warn = [&](const Status& st) { warnings.push_back(st.ToString()); }})
                  .ok());
  EXPECT_TRUE(warnings.empty()) << warnings[0];
  EXPECT_EQ(older->CommittedRound("w").value(), 9);
  // A writer id that needs escaping in a URL path.
  ASSERT_TRUE(sink->Write(Rows(1), SinkWriteContext{.writer_id = "a/b c", .round = 3}).ok());
  EXPECT_EQ(cluster_.progress().at("a/b c"), 3);
  EXPECT_EQ(sink->CommittedRound("a/b c").value(), 3);
  // A round that is not fully in records nothing.
  cluster_.item_status_ = [](const std::string&, int) { return 429; };
  EXPECT_FALSE(sink->Write(Rows(1), SinkWriteContext{.writer_id = "w", .round = 12}).ok());
  EXPECT_EQ(sink->CommittedRound("w").value(), 9);
  // Without a progress index there is nothing to read.
  OpenSearchSinkOptions none;
  none.progress_index = "";
  EXPECT_EQ(Make(none)->CommittedRound("w").value(), 0);
  OpenSearchSinkOptions down;
  down.url = "http://127.0.0.1:1";
  EXPECT_TRUE(NewOpenSearchSink(down).value()->CommittedRound("w").status().retryable());
}

TEST(OpenSearchSinkOptionsTest, BadOptionsAreRefusedWithTheReason) {
  OpenSearchSinkOptions o;
  o.url = "127.0.0.1:9200";
  EXPECT_NE(NewOpenSearchSink(o).status().message().find("http:// or https://"), std::string::npos);
  o.url = "http://h:9200";
  o.username = "u";
  EXPECT_NE(NewOpenSearchSink(o).status().message().find("username and password go together"),
            std::string::npos);
  o.username.clear();
  o.max_in_flight = 0;
  EXPECT_NE(NewOpenSearchSink(o).status().message().find("max_in_flight must be between 1 and 64"),
            std::string::npos);
}

}  // namespace
}  // namespace lakelog
