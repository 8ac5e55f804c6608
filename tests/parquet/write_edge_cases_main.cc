// parquet_edge_cases: writes a pipeline_logs data file full of edge cases and prints the rows it
// wrote as JSON lines, so the conformance suite can compare what real readers see.
//
//   parquet_edge_cases OUTPUT.parquet [--compression zstd|snappy|lz4_raw|none]
//                      [--page-size BYTES] [--row-group-size BYTES]
//   parquet_edge_cases --dump FILE.parquet
//
// --dump reads any Parquet file with lakelog's reader and prints its rows as JSON lines (binary
// values as strings), so the conformance suite can check the reader against files written by
// pyarrow and Spark.
//
// Each stdout line: {"ts": micros, "level": "...", "stage": str|null, "status": ..., "message":
// ..., "run_id": ..., "host": ..., "attributes": [[key, value], ...]}.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lakelog/event.h"
#include "lakelog/file_system.h"
#include "lakelog/parquet_options.h"
#include "parquet/log_file_writer.h"
#include "support/parquet_json_rows.h"

namespace {

using lakelog::Level;
using lakelog::LogEvent;

std::vector<LogEvent> EdgeCaseEvents() {
  std::vector<LogEvent> events;
  const Level levels[] = {Level::kTrace, Level::kDebug, Level::kInfo,
                          Level::kWarn,  Level::kError, Level::kFatal};
  const int64_t timestamps[] = {
      0,                   // the epoch
      1,                   // one microsecond after
      -1,                  // one microsecond before
      -2208988800000001,   // 1899-12-31T23:59:59.999999Z
      1732406400123456,    // 2024-11-24T00:00:00.123456Z
      253402300799999999,  // 9999-12-31T23:59:59.999999Z
      -62135596800000000,  // 0001-01-01T00:00:00Z
  };
  // Nulls in every nullable column, one at a time and all at once.
  for (int i = 0; i < 7; ++i) {
    LogEvent e;
    e.pipeline = "edge";
    e.ts_micros = timestamps[i];
    e.level = levels[i % 6];
    if (i != 0) e.stage = "stage-" + std::to_string(i);
    if (i != 1) e.status = i % 2 ? "SUCCESS" : "FAILED";
    if (i != 2) e.message = "message " + std::to_string(i);
    if (i != 3) e.run_id = "run-" + std::to_string(i / 2);
    if (i != 4) e.host = "host-a";
    if (i == 6) {
      e.stage.reset();
      e.status.reset();
      e.message.reset();
      e.run_id.reset();
      e.host.reset();
    }
    events.push_back(std::move(e));
  }
  // Empty strings everywhere.
  {
    LogEvent e;
    e.ts_micros = 1700000000000000;
    e.level = Level::kInfo;
    e.stage = e.status = e.message = e.run_id = e.host = "";
    e.attributes = {{"", ""}};
    events.push_back(std::move(e));
  }
  // Non-ASCII: CJK, emoji, combining marks, right-to-left, a NUL byte.
  {
    LogEvent e;
    e.ts_micros = 1700000000000001;
    e.level = Level::kWarn;
    e.stage = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";                                // 日本語
    e.status = "\xf0\x9f\x9a\x80\xf0\x9f\x94\xa5";                                   // 🚀🔥
    e.message = "e\xcc\x81t\xc3\xa9 cafe\xcc\x81 \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d";  // é, שלום
    e.run_id = std::string("nul\0byte", 8);
    e.host = "h\xc3\xb4te";
    e.attributes = {{"\xe9\x8d\xb5", "\xe5\x80\xa4"},
                    {"emoji\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"}};
    events.push_back(std::move(e));
  }
  // A 1 MiB message.
  {
    LogEvent e;
    e.ts_micros = 1700000000000002;
    e.level = Level::kError;
    e.message = std::string(1 << 20, 'x');
    e.message->back() = 'y';
    e.stage = "big";
    events.push_back(std::move(e));
  }
  // A map with 1000 entries.
  {
    LogEvent e;
    e.ts_micros = 1700000000000003;
    e.level = Level::kDebug;
    for (int i = 0; i < 1000; ++i) {
      e.attributes.emplace_back("key" + std::to_string(i), "value" + std::to_string(i * 7));
    }
    events.push_back(std::move(e));
  }
  // Many ordinary rows so columns get several pages and dictionary indices get real runs.
  for (int i = 0; i < 5000; ++i) {
    LogEvent e;
    e.ts_micros = 1732406400000000 + i * 1000;
    e.level = levels[(i / 7) % 6];
    e.stage = "stage-" + std::to_string(i % 5);
    e.status = i % 13 == 0 ? "FAILED" : "SUCCESS";
    e.message = "processed batch " + std::to_string(i);
    e.run_id = "run-" + std::to_string(i / 1000);
    if (i % 3 != 0) e.host = "host-" + std::to_string(i % 4);
    if (i % 2 == 0) e.attributes = {{"batch", std::to_string(i)}, {"repeat_count", "1"}};
    events.push_back(std::move(e));
  }
  return events;
}

nlohmann::json Optional(const std::optional<std::string>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s OUTPUT [--compression C] [--page-size N] [--row-group-size N]\n",
                 argv[0]);
    return 2;
  }
  std::string path = argv[1];
  if (path == "--dump" && argc == 3) {
    auto rows = lakelog::parquet::ReadParquetRowsAsJson(lakelog::PosixFileSystem(), argv[2]);
    if (!rows.ok()) {
      std::fprintf(stderr, "%s\n", rows.status().ToString().c_str());
      return 1;
    }
    for (const auto& row : *rows) {
      std::cout << row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
    return 0;
  }
  lakelog::ParquetWriteOptions options;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--compression") {
      if (!lakelog::ParseCompression(value, &options.compression)) {
        std::fprintf(stderr, "unknown compression %s\n", value.c_str());
        return 2;
      }
    } else if (flag == "--page-size") {
      options.page_size_bytes = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--row-group-size") {
      options.row_group_size_bytes = std::strtoull(value.c_str(), nullptr, 10);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::vector<LogEvent> events = EdgeCaseEvents();
  std::vector<const LogEvent*> rows;
  for (const auto& e : events) rows.push_back(&e);
  auto stats =
      lakelog::parquet::WriteLogEventsFile(lakelog::PosixFileSystem(), path, rows, options);
  if (!stats.ok()) {
    std::fprintf(stderr, "%s\n", stats.status().ToString().c_str());
    return 1;
  }
  for (const auto& e : events) {
    nlohmann::json row;
    row["ts"] = e.ts_micros;
    row["level"] = std::string(lakelog::LevelName(e.level));
    row["stage"] = Optional(e.stage);
    row["status"] = Optional(e.status);
    row["message"] = Optional(e.message);
    row["run_id"] = Optional(e.run_id);
    row["host"] = Optional(e.host);
    row["attributes"] = nlohmann::json::array();
    for (const auto& [k, v] : e.attributes) row["attributes"].push_back({k, v});
    std::cout << row.dump() << "\n";
  }
  return 0;
}
