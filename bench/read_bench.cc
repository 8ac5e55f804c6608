// read_bench: reads columns of a Delta table's live files with lakelog's columnar Parquet reader.
//
// The snapshot (the list of live files) is read once, untimed. Each repeat then opens every
// live file (footer included), reads the projected columns of every row group into column
// vectors, and counts the rows whose status is FAILED per stage, so that the decoded values are
// used (dictionary-encoded chunks compare one dictionary entry each, no string per row). One
// thread. Wall time and process CPU time are both reported: on a shared machine the CPU time
// says what the reading costs when other processes take turns on the cores. Prints one JSON
// object; bench/read_bench.py runs it beside pyarrow and computes the
// ratio.
//
//   read_bench --table /tmp/t [--columns status,stage] [--repeats 5]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "lakelog/delta_table.h"
#include "lakelog/file_system.h"
#include "parquet/columnar_reader.h"

namespace {

using lakelog::parquet::ColumnVector;
using lakelog::parquet::VectorLayout;

std::vector<std::string> Split(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

struct Pass {
  int64_t rows = 0;
  int64_t failed = 0;  // rows whose first column is "FAILED"
  int64_t valid = 0;   // non-null values over all columns, so that every column is used
};

// Counts rows with columns[0] == "FAILED" and the non-null values of every column.
void Consume(const std::vector<ColumnVector>& columns, Pass* pass) {
  if (columns.empty()) return;
  const ColumnVector& first = columns[0];
  if (first.layout() == VectorLayout::kDictionary) {
    std::vector<uint8_t> is_failed(first.dictionary().size());
    for (size_t i = 0; i < is_failed.size(); ++i) {
      is_failed[i] = first.dictionary().Get(i) == "FAILED";
    }
    const uint32_t* indices = first.indices().data();
    for (size_t i = 0; i < first.size(); ++i) {
      pass->failed += is_failed[indices[i]] & first.IsValid(i);
    }
  } else if (first.layout() == VectorLayout::kBytes) {
    for (size_t i = 0; i < first.size(); ++i) {
      pass->failed += first.IsValid(i) && first.GetBytes(i) == "FAILED";
    }
  }
  for (const ColumnVector& column : columns) {
    for (size_t i = 0; i < column.size(); ++i) pass->valid += column.IsValid(i);
  }
  pass->rows += static_cast<int64_t>(first.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::string table;
  std::string columns_arg = "status,stage";
  int repeats = 5;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--table" && i + 1 < argc) {
      table = argv[++i];
    } else if (arg == "--columns" && i + 1 < argc) {
      columns_arg = argv[++i];
    } else if (arg == "--repeats" && i + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else {
      std::cerr << "usage: read_bench --table DIR [--columns a,b] [--repeats N]\n";
      return 2;
    }
  }
  if (table.empty()) {
    std::cerr << "read_bench: --table is required\n";
    return 2;
  }
  lakelog::FileSystem* fs = lakelog::PosixFileSystem();
  auto snapshot = lakelog::ReadDeltaSnapshot(fs, table);
  if (!snapshot.ok()) {
    std::cerr << "read_bench: " << snapshot.status().ToString() << "\n";
    return 1;
  }
  const std::vector<std::string> columns = Split(columns_arg);

  std::vector<double> seconds;
  std::vector<double> cpu_seconds;
  Pass last;
  for (int r = 0; r < repeats; ++r) {
    Pass pass;
    std::vector<ColumnVector> vectors;  // reused across row groups and files
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    for (const lakelog::DeltaAddFile& file : snapshot->files) {
      auto opened = lakelog::parquet::ParquetFile::Open(fs, lakelog::JoinPath(table, file.path));
      if (!opened.ok()) {
        std::cerr << "read_bench: " << opened.status().ToString() << "\n";
        return 1;
      }
      auto leaves = (*opened)->ResolveProjection(columns);
      if (!leaves.ok()) {
        std::cerr << "read_bench: " << leaves.status().ToString() << "\n";
        return 1;
      }
      for (int rg = 0; rg < (*opened)->num_row_groups(); ++rg) {
        lakelog::Status s = (*opened)->ReadRowGroup(rg, *leaves, &vectors);
        if (!s.ok()) {
          std::cerr << "read_bench: " << s.ToString() << "\n";
          return 1;
        }
        Consume(vectors, &pass);
      }
    }
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    cpu_seconds.push_back(static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC);
    last = pass;
  }
  auto median_of = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double median = median_of(seconds);
  const double cpu_median = median_of(cpu_seconds);
  nlohmann::json out = {
      {"reader", "lakelog"},
      {"files", snapshot->files.size()},
      {"rows", last.rows},
      {"failed", last.failed},
      {"non_null_values", last.valid},
      {"seconds", seconds},
      {"median_s", median},
      {"events_per_s", median > 0 ? static_cast<double>(last.rows) / median : 0.0},
      {"cpu_seconds", cpu_seconds},
      {"cpu_median_s", cpu_median},
      {"events_per_cpu_s", cpu_median > 0 ? static_cast<double>(last.rows) / cpu_median : 0.0},
  };
  std::cout << out.dump() << std::endl;
  return 0;
}
