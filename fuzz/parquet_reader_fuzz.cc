// libFuzzer target: arbitrary bytes as a Parquet file through the columnar reader (footer,
// statistics, page headers, decompression, levels, dictionary and plain decoding into column
// vectors, whose every slot is then read) and the JSON row layer over it (record assembly).
// The first input byte picks a mutation of a valid lakelog file half of the time, so the fuzzer
// also explores damaged-but-plausible files, not only garbage.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lakelog/event.h"
#include "parquet/columnar_reader.h"
#include "parquet/log_file_writer.h"
#include "storage/mem_file_system.h"
#include "support/parquet_json_rows.h"

namespace {

// A small valid file, built once.
const std::string& SeedFile() {
  static const std::string* seed = [] {
    lakelog::MemFileSystem fs;
    (void)fs.CreateDirs("/s");
    std::vector<lakelog::LogEvent> events(3);
    for (int i = 0; i < 3; ++i) {
      events[i].pipeline = "p";
      events[i].ts_micros = 1'700'000'000'000'000 + i;
      events[i].stage = "stage" + std::to_string(i % 2);
      events[i].message = i == 1 ? std::optional<std::string>() : "message";
      events[i].attributes = {{"k", "v" + std::to_string(i)}};
    }
    std::vector<const lakelog::LogEvent*> rows;
    for (const auto& e : events) rows.push_back(&e);
    lakelog::ParquetWriteOptions options;
    options.compression = lakelog::Compression::kSnappy;
    (void)lakelog::parquet::WriteLogEventsFile(&fs, "/s/f.parquet", rows, options);
    auto* out = new std::string();
    (void)fs.ReadFile("/s/f.parquet", out);
    return out;
  }();
  return *seed;
}

// Reads every column of every row group and touches every slot, so that a vector whose
// sizes disagree with its contents shows up under ASan.
void ReadColumnar(lakelog::FileSystem* fs) {
  using lakelog::parquet::ColumnVector;
  using lakelog::parquet::VectorLayout;
  auto file = lakelog::parquet::ParquetFile::Open(fs, "/f/x.parquet");
  if (!file.ok()) return;
  std::vector<int> leaves;
  for (int i = 0; i < (*file)->num_leaves(); ++i) leaves.push_back(i);
  std::vector<ColumnVector> columns;
  std::vector<uint32_t> offsets;
  uint64_t sink = 0;
  for (int rg = 0; rg < (*file)->num_row_groups(); ++rg) {
    for (int leaf : leaves) (void)(*file)->Statistics(rg, leaf);
    if (!(*file)->ReadRowGroup(rg, leaves, &columns).ok()) return;
    for (const ColumnVector& column : columns) {
      column.RowOffsets(&offsets);
      for (size_t i = 0; i < column.size(); ++i) {
        sink += column.DefLevel(i) + column.RepLevel(i) + column.IsValid(i);
        switch (column.layout()) {
          case VectorLayout::kBool: sink += column.bools()[i]; break;
          case VectorLayout::kInt32: sink += static_cast<uint64_t>(column.int32s()[i]); break;
          case VectorLayout::kInt64: sink += static_cast<uint64_t>(column.int64s()[i]); break;
          case VectorLayout::kFloat: sink += column.floats()[i] > 0; break;
          case VectorLayout::kDouble: sink += column.doubles()[i] > 0; break;
          case VectorLayout::kBytes:
          case VectorLayout::kDictionary: sink += column.GetBytes(i).size(); break;
        }
      }
    }
  }
  volatile uint64_t keep = sink;
  (void)keep;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string file;
  if (size > 0 && (data[0] & 1) && !SeedFile().empty()) {
    // Overwrite bytes of the valid file with the input, at an offset the input chooses.
    file = SeedFile();
    size_t offset = size > 2 ? ((data[1] << 8) | data[2]) % file.size() : 0;
    for (size_t i = 3; i < size && offset < file.size(); ++i, ++offset) {
      file[offset] = static_cast<char>(data[i]);
    }
  } else {
    file.assign(reinterpret_cast<const char*>(data), size);
  }
  lakelog::MemFileSystem fs;
  if (!fs.CreateDirs("/f").ok() || !fs.WriteFile("/f/x.parquet", file, false).ok()) return 0;
  ReadColumnar(&fs);
  auto summary = lakelog::parquet::ReadParquetSummary(&fs, "/f/x.parquet");
  (void)summary;
  auto rows = lakelog::parquet::ReadParquetRowsAsJson(&fs, "/f/x.parquet");
  (void)rows;
  return 0;
}
