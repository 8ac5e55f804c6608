// `lakelog serve`: one embedded HTTP server (cpp-httplib) over a table:
//   GET /            the dashboard: the report's pipelines worst first, a chart of failures and
//                    success rate over time per pipeline, top failing stages, SLA compliance
//                    and freshness; refreshes itself. Page and chart code are compiled in.
//   GET /api/report  the report as JSON (query parameters as `lakelog report`'s flags)
//   GET /api/query   events as JSON (query parameters as `lakelog query`'s flags)
//   GET /metrics     Prometheus text: the report's numbers per pipeline, the server's requests,
//                    and whatever `extra_metrics` returns (the demo's engine)
//   GET /healthz     "ok", never behind the token
// With a token, every other path needs `Authorization: Bearer TOKEN` (or `?token=TOKEN`, for
// a browser's first visit; the page sends the header from then on).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "analytics/sla.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog::analytics {

struct DashboardOptions {
  std::string listen = "127.0.0.1";
  int port = 8080;    // 0 = a free port (see DashboardServer::port())
  std::string token;  // "" = no authentication
  SlaConfig sla;
  int64_t window_micros = 24LL * 3600 * 1'000'000;  // the dashboard's default window
  int64_t bucket_micros = 3600LL * 1'000'000;       // the chart's bucket width
  int refresh_seconds = 10;                         // the page reloads its data this often
  std::function<int64_t()> now;                     // the clock; the wall clock when empty
  std::function<std::string()> extra_metrics;       // appended to GET /metrics when set
  std::string title = "lakelog";
};

class DashboardServer {
 public:
  // Binds and starts serving on a thread of its own; `fs` must outlive the server.
  // Unavailable when the address cannot be bound.
  static Result<std::unique_ptr<DashboardServer>> Start(FileSystem* fs, const std::string& root,
                                                        DashboardOptions options);
  ~DashboardServer();  // stops

  int port() const;
  void Stop();

  class Impl;

 private:
  explicit DashboardServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The dashboard page with `initial_report_json` inlined (rendered before any request).
std::string DashboardPage(const std::string& title, const std::string& initial_report_json,
                          const std::string& api_query, int refresh_seconds);

}  // namespace lakelog::analytics
