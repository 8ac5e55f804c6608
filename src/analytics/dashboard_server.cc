#include "analytics/dashboard_server.h"

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "analytics/event_query.h"
#include "analytics/output.h"
#include "analytics/report.h"
#include "analytics/time_spec.h"
#include "lakelog/delta_table.h"

namespace lakelog::analytics {
namespace {

// The paths counted by name in lakelog_serve_requests_total; anything else is "other", so a
// scanner cannot grow the series without bound.
const char* PathLabel(const std::string& path) {
  for (const char* known : {"/", "/healthz", "/metrics", "/api/report", "/api/query"}) {
    if (path == known) return known;
  }
  return "other";
}

bool SameSecret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::vector<std::string> Params(const httplib::Request& req, const char* key) {
  std::vector<std::string> out;
  for (size_t i = 0; i < req.get_param_value_count(key); ++i) {
    out.push_back(req.get_param_value(key, i));
  }
  return out;
}

std::string Param(const httplib::Request& req, const char* key, const std::string& fallback) {
  return req.has_param(key) ? req.get_param_value(key) : fallback;
}

Result<size_t> Count(const httplib::Request& req, const char* key, size_t fallback, size_t max) {
  if (!req.has_param(key)) return fallback;
  const std::string text = req.get_param_value(key);
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value > max) {
    return Status::InvalidArgument(std::string(key) + " '" + text + "': expected 0.." +
                                   std::to_string(max));
  }
  return static_cast<size_t>(value);
}

void SendError(const Status& status, httplib::Response& res) {
  res.status = status.code() == StatusCode::kInvalidArgument ? 400 : 500;
  res.set_content(nlohmann::json{{"error", status.ToString()}}.dump(), "application/json");
}

}  // namespace

class DashboardServer::Impl {
 public:
  Impl(FileSystem* fs, std::string root, DashboardOptions options)
      : fs_(fs), root_(std::move(root)), options_(std::move(options)) {
    if (!options_.now) options_.now = &NowMicros;
  }

  Status Bind() {
    Routes();
    if (options_.port == 0) {
      port_ = server_.bind_to_any_port(options_.listen);
    } else {
      port_ = server_.bind_to_port(options_.listen, options_.port) ? options_.port : -1;
    }
    if (port_ <= 0) {
      return Status::Unavailable("serve: cannot listen on " + options_.listen + ":" +
                                 std::to_string(options_.port));
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return Status::OK();
  }

  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }

 private:
  // The report a request asks for: the dashboard's window and bucket unless it says otherwise.
  Result<Report> ReportFor(const httplib::Request& req) {
    const int64_t now = options_.now();
    ReportOptions report;
    report.now_micros = now;
    report.sla = options_.sla;
    report.bucket_micros = options_.bucket_micros;
    report.threads = 2;  // requests are served concurrently too
    report.since_micros = now - options_.window_micros;
    if (req.has_param("since")) {
      const std::string since = req.get_param_value("since");
      if (since.empty() || since == "all") {
        report.since_micros.reset();
      } else {
        auto parsed = ParseInstant("since", since, now);
        if (!parsed.ok()) return parsed.status();
        report.since_micros = *parsed;
      }
    }
    if (req.has_param("until")) {
      auto parsed = ParseInstant("until", req.get_param_value("until"), now);
      if (!parsed.ok()) return parsed.status();
      report.until_micros = *parsed;
    }
    if (req.has_param("bucket")) {
      std::optional<int64_t> bucket = ParseDuration(req.get_param_value("bucket"));
      if (!bucket || *bucket < kMicrosPerSecond) {
        return Status::InvalidArgument("bucket: expected a duration of 1s or more");
      }
      report.bucket_micros = *bucket;
    }
    report.pipelines.values = Params(req, "pipeline");
    auto runs = Count(req, "runs", 10, 100000);
    if (!runs.ok()) return runs.status();
    report.runs_listed = *runs;
    auto top = Count(req, "top_stages", 5, 1000);
    if (!top.ok()) return top.status();
    report.top_stages = *top;
    auto snapshot = ReadDeltaSnapshot(fs_, root_);
    if (!snapshot.ok()) return snapshot.status();
    return BuildReport(fs_, root_, *snapshot, report);
  }

  Result<EventQueryResult> QueryFor(const httplib::Request& req) {
    const int64_t now = options_.now();
    EventQuery query;
    query.filter.pipelines.values = Params(req, "pipeline");
    query.filter.stages.values = Params(req, "stage");
    query.filter.statuses.values = Params(req, "status");
    query.filter.run_ids.values = Params(req, "run_id");
    auto levels = ParseLevels(Params(req, "level"));
    if (!levels.ok()) return levels.status();
    query.filter.levels.values = *levels;
    query.filter.contains = Param(req, "contains", "");
    for (const char* key : {"since", "until"}) {
      if (!req.has_param(key)) continue;
      auto parsed = ParseInstant(key, req.get_param_value(key), now);
      if (!parsed.ok()) return parsed.status();
      (key[0] == 's' ? query.filter.since_micros : query.filter.until_micros) = *parsed;
    }
    auto limit = Count(req, "limit", 100, 10000);
    if (!limit.ok()) return limit.status();
    query.limit = *limit == 0 ? 10000 : *limit;
    query.oldest_first = Param(req, "order", "newest") == "oldest";
    auto snapshot = ReadDeltaSnapshot(fs_, root_);
    if (!snapshot.ok()) return snapshot.status();
    return QueryEvents(fs_, root_, *snapshot, query);
  }

  std::string MetricsText() {
    auto registry = std::make_shared<prometheus::Registry>();
    auto gauge = [&](const char* name, const char* help) -> prometheus::Family<prometheus::Gauge>& {
      return prometheus::BuildGauge().Name(name).Help(help).Register(*registry);
    };
    httplib::Request defaults;
    auto report = ReportFor(defaults);
    auto& up = gauge("lakelog_report_up", "1 when the last report over the table succeeded");
    up.Add({}).Set(report.ok() ? 1 : 0);
    if (report.ok()) {
      auto& events = gauge("lakelog_report_events", "events in the dashboard's window");
      auto& failures = gauge("lakelog_report_failures", "events with status FAILED in the window");
      auto& successes =
          gauge("lakelog_report_successes", "events with status SUCCESS in the window");
      auto& errors = gauge("lakelog_report_errors", "events at level ERROR or FATAL in the window");
      auto& rate = gauge("lakelog_report_success_ratio", "successes / (successes + failures)");
      auto& last = gauge("lakelog_report_last_event_timestamp_seconds",
                         "Unix time of the pipeline's last event");
      auto& staleness =
          gauge("lakelog_report_staleness_seconds", "now minus the pipeline's last event");
      auto& runs = gauge("lakelog_report_runs", "runs in the window, label outcome");
      auto& sla_runs = gauge("lakelog_report_sla_runs", "runs judged by the SLA, label verdict");
      auto& compliance =
          gauge("lakelog_report_sla_compliance_ratio", "runs met / (met + breached)");
      auto& ok = gauge("lakelog_report_pipeline_ok", "1 when the pipeline's state is ok");
      for (const PipelineReport& p : report->pipelines) {
        const std::map<std::string, std::string> l = {{"pipeline", p.pipeline.value_or("")}};
        events.Add(l).Set(static_cast<double>(p.events));
        failures.Add(l).Set(static_cast<double>(p.failures));
        successes.Add(l).Set(static_cast<double>(p.successes));
        errors.Add(l).Set(static_cast<double>(p.errors));
        if (p.success_rate) rate.Add(l).Set(*p.success_rate);
        if (p.last_event_micros) {
          last.Add(l).Set(static_cast<double>(*p.last_event_micros) / kMicrosPerSecond);
        }
        if (p.staleness_micros) {
          staleness.Add(l).Set(static_cast<double>(*p.staleness_micros) / kMicrosPerSecond);
        }
        for (auto [outcome, n] :
             {std::pair{"SUCCESS", p.runs_succeeded}, std::pair{"FAILED", p.runs_failed},
              std::pair{"RUNNING", p.runs_running}}) {
          auto labels = l;
          labels["outcome"] = outcome;
          runs.Add(labels).Set(static_cast<double>(n));
        }
        if (p.runs_met) {
          auto met = l, breached = l;
          met["verdict"] = "met";
          breached["verdict"] = "breached";
          sla_runs.Add(met).Set(static_cast<double>(*p.runs_met));
          sla_runs.Add(breached).Set(static_cast<double>(*p.runs_breached));
        }
        if (p.sla_compliance) compliance.Add(l).Set(*p.sla_compliance);
        ok.Add(l).Set(p.state == PipelineState::kOk ? 1 : 0);
      }
      gauge("lakelog_report_healthy", "1 when no pipeline needs attention")
          .Add({})
          .Set(report->healthy ? 1 : 0);
      gauge("lakelog_report_table_version", "the table version the report read")
          .Add({})
          .Set(static_cast<double>(report->table_version));
    }
    auto& requests = prometheus::BuildCounter()
                         .Name("lakelog_serve_requests_total")
                         .Help("HTTP requests served, labels path and code")
                         .Register(*registry);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [key, n] : requests_) {
        requests.Add({{"path", key.first}, {"code", std::to_string(key.second)}})
            .Increment(static_cast<double>(n));
      }
    }
    std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
    if (options_.extra_metrics) text += options_.extra_metrics();
    return text;
  }

  void Routes() {
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (options_.token.empty() || req.path == "/healthz") {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      const std::string bearer = "Bearer " + options_.token;
      if (SameSecret(req.get_header_value("Authorization"), bearer) ||
          (req.has_param("token") && SameSecret(req.get_param_value("token"), options_.token))) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer realm=\"lakelog\"");
      res.set_content(R"({"error":"a bearer token is required"})", "application/json");
      return httplib::Server::HandlerResponse::Handled;
    });
    server_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      ++requests_[{PathLabel(req.path), res.status}];
    });
    server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    server_.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
      auto report = ReportFor(req);
      std::string json = report.ok() ? ReportJson(*report)
                                     : nlohmann::json{{"error", report.status().ToString()}}.dump();
      const std::string query =
          "since=" + std::to_string(options_.window_micros / kMicrosPerSecond) +
          "s&bucket=" + std::to_string(options_.bucket_micros / kMicrosPerSecond) + "s&runs=10";
      res.set_header("Cache-Control", "no-store");
      res.set_content(DashboardPage(options_.title, json, query, options_.refresh_seconds),
                      "text/html; charset=utf-8");
    });
    server_.Get("/api/report", [this](const httplib::Request& req, httplib::Response& res) {
      auto report = ReportFor(req);
      if (!report.ok()) return SendError(report.status(), res);
      res.set_content(ReportJson(*report), "application/json");
    });
    server_.Get("/api/query", [this](const httplib::Request& req, httplib::Response& res) {
      auto result = QueryFor(req);
      if (!result.ok()) return SendError(result.status(), res);
      res.set_content("{\"table_version\":" + std::to_string(result->table_version) +
                          ",\"scan\":" + DescribeScanJson(result->stats) +
                          ",\"events\":" + EventsJson(*result) + "}",
                      "application/json");
    });
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(MetricsText(), "text/plain; version=0.0.4");
    });
  }

  FileSystem* fs_;
  std::string root_;
  DashboardOptions options_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  std::mutex mu_;
  std::map<std::pair<std::string, int>, int64_t> requests_;  // guarded by mu_
};

DashboardServer::DashboardServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DashboardServer::~DashboardServer() { Stop(); }
int DashboardServer::port() const { return impl_->port(); }
void DashboardServer::Stop() { impl_->Stop(); }

Result<std::unique_ptr<DashboardServer>> DashboardServer::Start(FileSystem* fs,
                                                                const std::string& root,
                                                                DashboardOptions options) {
  auto impl = std::make_unique<Impl>(fs, root, std::move(options));
  LAKELOG_RETURN_IF_ERROR(impl->Bind());
  return std::unique_ptr<DashboardServer>(new DashboardServer(std::move(impl)));
}

}  // namespace lakelog::analytics
