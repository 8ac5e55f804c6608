// `lakelog serve`: the dashboard, the JSON API and /metrics over a table
// (src/analytics/dashboard_server.h), until SIGINT or SIGTERM.
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "analytics/dashboard_server.h"
#include "analytics/sla.h"
#include "analytics/time_spec.h"
#include "cli/analytics_flags.h"
#include "cli/command.h"
#include "cli/table_location.h"

namespace lakelog::cli {
namespace {

struct ServeFlags {
  std::string table;
  std::string listen = "127.0.0.1";
  int port = 8080;
  std::string token_file;
  std::string sla;
  std::string window = "24h";
  std::string bucket = "1h";
  int refresh = 10;
  std::string now;
};

Result<std::string> ReadToken(const ServeFlags& flags) {
  if (flags.token_file.empty()) {
    const char* env = std::getenv("LAKELOG_SERVE_TOKEN");
    return std::string(env == nullptr ? "" : env);
  }
  std::ifstream in(flags.token_file, std::ios::binary);
  if (!in) return Status::InvalidArgument("--token-file " + flags.token_file + ": cannot be read");
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) return Status::InvalidArgument("--token-file " + flags.token_file + ": empty");
  return token;
}

ExitCode RunServe(const ServeFlags& flags) {
  const std::string context = "serve " + flags.table;
  analytics::DashboardOptions options;
  options.listen = flags.listen;
  options.port = flags.port;
  options.refresh_seconds = flags.refresh;
  options.title = "lakelog · " + flags.table;
  std::optional<int64_t> window = analytics::ParseDuration(flags.window);
  if (!window || *window <= 0) {
    return ReportError(context, Status::InvalidArgument("--window '" + flags.window +
                                                        "': expected a duration (24h, 7d)"));
  }
  auto bucket = ParseBucketFlag(flags.bucket);
  if (!bucket.ok()) return ReportError(context, bucket.status());
  options.window_micros = *window;
  options.bucket_micros = *bucket;
  if (!flags.now.empty()) {
    std::optional<int64_t> now = analytics::ParseRfc3339(flags.now);
    if (!now) {
      return ReportError(context,
                         Status::InvalidArgument("--now '" + flags.now + "': expected RFC 3339"));
    }
    options.now = [fixed = *now] { return fixed; };
  }
  auto token = ReadToken(flags);
  if (!token.ok()) return ReportError(context, token.status());
  options.token = *token;
  if (!flags.sla.empty()) {
    auto sla = LoadSlaFile(flags.sla);
    if (!sla.ok()) return ReportError(context, sla.status());
    options.sla = std::move(*sla);
  }
  auto location = OpenTableLocation(flags.table);
  if (!location.ok()) return ReportError(context, location.status());

  // Block the stop signals before the server's threads start, so that only sigwait sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  auto server = analytics::DashboardServer::Start(location->fs, location->root, options);
  if (!server.ok()) return ReportFailure(context, server.status());
  std::fprintf(stderr, "lakelog serve: http://%s:%d/ (table %s%s)\n", flags.listen.c_str(),
               (*server)->port(), flags.table.c_str(),
               options.token.empty() ? "" : "; bearer token required");
  std::fflush(stderr);
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  (*server)->Stop();
  return ExitCode::kOk;
}

}  // namespace

Command AddServeCommand(CLI::App& root) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* app = root.add_subcommand(
      "serve",
      "Serve a dashboard of the table (GET /: the report's pipelines worst first, failures and\n"
      "success rate over time, SLA compliance, freshness; refreshes itself), the JSON API\n"
      "(GET /api/report, GET /api/query: parameters as the report and query flags), Prometheus\n"
      "GET /metrics and GET /healthz, until SIGINT or SIGTERM. With a token (--token-file or\n"
      "$LAKELOG_SERVE_TOKEN) every path but /healthz needs 'Authorization: Bearer TOKEN'\n"
      "(or ?token=TOKEN in the browser's address).");
  app->add_option("--table", flags->table, "Delta table: a directory, or s3://bucket/prefix")
      ->required();
  app->add_option("--port", flags->port, "TCP port; 0 picks a free one (printed) [8080]")
      ->check(CLI::Range(0, 65535));
  app->add_option("--listen", flags->listen,
                  "address to bind [127.0.0.1]; another one exposes the table's contents");
  app->add_option("--token-file", flags->token_file,
                  "file whose first line is the bearer token [$LAKELOG_SERVE_TOKEN]");
  app->add_option("--sla", flags->sla, "SLA file, as for `lakelog report --sla`");
  app->add_option("--window", flags->window, "the dashboard's default window [24h]");
  app->add_option("--bucket", flags->bucket, "the chart's bucket width [1h]");
  app->add_option("--refresh", flags->refresh, "seconds between the page's reloads [10]")
      ->check(CLI::Range(1, 3600));
  app->add_option("--now", flags->now,
                  "a fixed instant to report at (RFC 3339), for reproducible pages [the clock]");
  return Command{app, [flags] { return RunServe(*flags); }};
}

}  // namespace lakelog::cli
