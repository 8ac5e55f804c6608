// writer_bench: lands N prepared events in a committed, partitioned Delta table with lakelog.
//
// The NDJSON input (bench/gen_events.py) is parsed into LogEvents first, untimed; the timed part
// is DeltaTable::Open (which creates the table) plus one Append of the whole set: Parquet files
// per (pipeline, log_date), then the commit. Prints one JSON object with the figures; the
// driver bench/writer_bench.py runs it beside delta-rs and Spark and computes the ratios.
//
// Besides wall time it reports the CPU time of the timed part (every thread of the process), so
// "events per CPU second" says what one core sustains even when the machine is shared.
// --repeat K lands the set K times into fresh tables (DIR, DIR.1, ...) in one process and reports
// the median (and the fastest, *_min); it is meant for profiling and for comparing builds.
//
//   writer_bench --input events.ndjson --table /tmp/t [--compression zstd] [--zstd-level L]
//                [--repeat K]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakelog/delta_table.h"
#include "lakelog/event.h"
#include "lakelog/file_system.h"
#include "lakelog/parquet_options.h"

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)" -> UTC epoch microseconds.
std::optional<int64_t> ParseRfc3339Micros(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
      !Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' ||
      !Digits(s, 17, 2, &second)) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int scale = 100000;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 0) micros += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om)) {
      return std::nullopt;
    }
    offset_minutes = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t days = DaysFromCivil(year, month, day);
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1000000 + micros;
}

std::optional<std::string> OptionalString(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}

bool ToEvent(const nlohmann::json& obj, lakelog::LogEvent* event) {
  event->pipeline = obj.at("pipeline").get<std::string>();
  const auto& ts = obj.at("ts");
  if (ts.is_number_integer()) {
    event->ts_micros = ts.get<int64_t>() * 1000;
  } else {
    auto micros = ParseRfc3339Micros(ts.get<std::string>());
    if (!micros) return false;
    event->ts_micros = *micros;
  }
  if (auto level = OptionalString(obj, "level")) {
    if (!lakelog::ParseLevel(*level, &event->level)) return false;
  }
  event->stage = OptionalString(obj, "stage");
  event->status = OptionalString(obj, "status");
  event->message = OptionalString(obj, "message");
  event->run_id = OptionalString(obj, "run_id");
  event->host = OptionalString(obj, "host");
  if (auto it = obj.find("attributes"); it != obj.end() && it->is_object()) {
    for (const auto& [key, value] : it->items()) {
      event->attributes.emplace_back(key, value.get<std::string>());
    }
  }
  return true;
}

int Usage() {
  std::fprintf(stderr,
               "usage: writer_bench --input FILE --table DIR [--compression "
               "zstd|snappy|lz4_raw|none] [--zstd-level L] [--repeat K]\n");
  return 2;
}

// CPU time of the whole process (all threads), in seconds.
double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Run {
  double seconds = 0;
  double cpu_seconds = 0;
  lakelog::DeltaCommitResult commit;
};

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string input, table, compression = "zstd";
  int repeat = 1;
  std::optional<int> zstd_level;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (i + 1 >= argc) return Usage();
    if (arg == "--input") {
      input = argv[++i];
    } else if (arg == "--table") {
      table = argv[++i];
    } else if (arg == "--compression") {
      compression = argv[++i];
    } else if (arg == "--zstd-level") {
      zstd_level = std::atoi(argv[++i]);
    } else if (arg == "--repeat") {
      repeat = std::atoi(argv[++i]);
      if (repeat < 1) return Usage();
    } else {
      return Usage();
    }
  }
  if (input.empty() || table.empty()) return Usage();
  lakelog::DeltaTableOptions options;
  if (!lakelog::ParseCompression(compression, &options.parquet.compression)) return Usage();
  if (zstd_level.has_value()) options.parquet.zstd_level = *zstd_level;

  // Untimed: read and parse the whole input.
  std::ifstream in(input, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", input.c_str());
    return 1;
  }
  std::vector<lakelog::LogEvent> events;
  uint64_t input_bytes = 0;
  std::string line;
  while (std::getline(in, line)) {
    input_bytes += line.size() + 1;
    if (line.empty()) continue;
    lakelog::LogEvent event;
    bool ok = false;
    try {
      ok = ToEvent(nlohmann::json::parse(line), &event);
    } catch (const nlohmann::json::exception& e) {
      std::fprintf(stderr, "bad input line %zu: %s\n", events.size() + 1, e.what());
      return 1;
    }
    if (!ok) {
      std::fprintf(stderr, "bad input line %zu\n", events.size() + 1);
      return 1;
    }
    events.push_back(std::move(event));
  }
  std::vector<const lakelog::LogEvent*> pointers;
  pointers.reserve(events.size());
  for (const auto& e : events) pointers.push_back(&e);

  // Timed: create the table, write every file, commit.
  std::vector<Run> runs;
  for (int r = 0; r < repeat; ++r) {
    const std::string dir = r == 0 ? table : table + "." + std::to_string(r);
    const double cpu_start = ProcessCpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    auto opened = lakelog::DeltaTable::Open(lakelog::PosixFileSystem(), dir, options);
    if (!opened.ok()) {
      std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
      return 1;
    }
    auto committed = (*opened)->Append(pointers);
    const auto end = std::chrono::steady_clock::now();
    const double cpu_end = ProcessCpuSeconds();
    if (!committed.ok()) {
      std::fprintf(stderr, "append: %s\n", committed.status().ToString().c_str());
      return 1;
    }
    runs.push_back(
        {std::chrono::duration<double>(end - start).count(), cpu_end - cpu_start, *committed});
  }
  std::vector<double> wall, cpu;
  for (const Run& run : runs) {
    wall.push_back(run.seconds);
    cpu.push_back(run.cpu_seconds);
  }
  const double seconds = Median(wall);
  const double cpu_seconds = Median(cpu);
  const lakelog::DeltaCommitResult* committed = &runs.front().commit;

  nlohmann::json out = {
      {"writer", "lakelog"},
      {"events", events.size()},
      {"input_bytes", input_bytes},
      {"seconds", seconds},
      {"events_per_s", events.size() / seconds},
      {"cpu_seconds", cpu_seconds},
      // The fastest repeat: noise on a shared machine only ever adds time, so for comparing
      // two builds (profiling) the minimum is steadier than the median.
      {"seconds_min", *std::min_element(wall.begin(), wall.end())},
      {"cpu_seconds_min", *std::min_element(cpu.begin(), cpu.end())},
      {"events_per_cpu_s", events.size() / cpu_seconds},
      {"repeat", repeat},
      {"files", committed->files_written},
      {"rows", committed->rows_written},
      {"bytes_written", committed->bytes_written},
      {"version", committed->version},
      {"compression", compression},
      {"zstd_level", options.parquet.zstd_level},
  };
  std::cout << out.dump() << std::endl;
  return 0;
}
