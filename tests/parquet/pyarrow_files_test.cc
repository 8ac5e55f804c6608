// The columnar reader against files pyarrow writes: every codec (none, snappy, gzip, lz4_raw,
// zstd), data page v1 and v2, with and without dictionaries. tests/parquet/write_pyarrow_files.py
// writes the files and, beside each, the rows as pyarrow reads them back; the vectors must hold
// exactly those values.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "lakelog/file_system.h"
#include "parquet/columnar_reader.h"
#include "support/parquet_json_rows.h"

#ifndef LAKELOG_SOURCE_DIR
#error "LAKELOG_SOURCE_DIR must point at the source tree (tests/parquet/CMakeLists.txt sets it)"
#endif

namespace lakelog::parquet {
namespace {

using nlohmann::json;

// Runs the generator into a fresh directory; returns the file names it wrote.
std::vector<std::string> WritePyarrowFiles(const std::string& dir) {
  const std::string source = LAKELOG_SOURCE_DIR;
  const std::string command = "rm -rf '" + dir + "' && mkdir -p '" + dir + "' && '" + source +
                              "/.venv/bin/python' '" + source +
                              "/tests/parquet/write_pyarrow_files.py' '" + dir + "'";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {};
  std::vector<std::string> names;
  char line[512];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    std::string name(line);
    while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
    if (!name.empty()) names.push_back(name);
  }
  if (pclose(pipe) != 0) return {};
  return names;
}

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

json Value(const ColumnVector& column, size_t slot) {
  if (!column.IsValid(slot)) return nullptr;
  switch (column.layout()) {
    case VectorLayout::kBool: return column.bools()[slot] != 0;
    case VectorLayout::kInt32: return column.int32s()[slot];
    case VectorLayout::kInt64: return column.int64s()[slot];
    case VectorLayout::kFloat: return column.floats()[slot];
    case VectorLayout::kDouble: return column.doubles()[slot];
    case VectorLayout::kBytes:
    case VectorLayout::kDictionary: return std::string(column.GetBytes(slot));
  }
  return nullptr;
}

class PyarrowFilesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        new std::string(::testing::TempDir() + "lakelog_pyarrow_files_" + std::to_string(getpid()));
    names_ = new std::vector<std::string>(WritePyarrowFiles(*dir_));
  }
  static void TearDownTestSuite() {
    std::system(("rm -rf '" + *dir_ + "'").c_str());
    delete names_;
    delete dir_;
  }
  static std::string* dir_;
  static std::vector<std::string>* names_;
};
std::string* PyarrowFilesTest::dir_ = nullptr;
std::vector<std::string>* PyarrowFilesTest::names_ = nullptr;

TEST_F(PyarrowFilesTest, EveryCodecAndPageVersionReadsAsPyarrowReadsIt) {
  ASSERT_EQ(names_->size(), 20u) << "write_pyarrow_files.py failed; is .venv set up?";
  FileSystem* fs = PosixFileSystem();
  for (const std::string& name : *names_) {
    SCOPED_TRACE(name);
    const std::string path = *dir_ + "/" + name;
    const json expected = ReadJson(path + ".json");
    auto file = ParquetFile::Open(fs, path);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    ASSERT_GT((*file)->num_row_groups(), 1);
    auto leaves = (*file)->ResolveProjection(
        {"status", "message", "i32", "i64", "f64", "flag", "attributes"});
    ASSERT_TRUE(leaves.ok()) << leaves.status().ToString();
    ASSERT_EQ(leaves->size(), 8u);
    std::vector<ColumnVector> columns;
    size_t row = 0;
    for (int rg = 0; rg < (*file)->num_row_groups(); ++rg) {
      Status s = (*file)->ReadRowGroup(rg, *leaves, &columns);
      ASSERT_TRUE(s.ok()) << s.ToString();
      if (name.find("_dict") != std::string::npos) {
        EXPECT_EQ(columns[0].layout(), VectorLayout::kDictionary);
      } else {
        EXPECT_EQ(columns[0].layout(), VectorLayout::kBytes);
      }
      const ColumnVector& keys = columns[6];
      const ColumnVector& values = columns[7];
      std::vector<uint32_t> offsets;
      keys.RowOffsets(&offsets);
      ASSERT_EQ(offsets.size(), columns[0].size() + 1);
      for (size_t r = 0; r < columns[0].size(); ++r, ++row) {
        ASSERT_LT(row, expected.size());
        const json& want = expected[row];
        EXPECT_EQ(Value(columns[0], r), want["status"]) << "row " << row;
        EXPECT_EQ(Value(columns[1], r), want["message"]) << "row " << row;
        EXPECT_EQ(Value(columns[2], r), want["i32"]) << "row " << row;
        EXPECT_EQ(Value(columns[3], r), want["i64"]) << "row " << row;
        EXPECT_EQ(Value(columns[4], r), want["f64"]) << "row " << row;
        EXPECT_EQ(Value(columns[5], r), want["flag"]) << "row " << row;
        // attributes: optional map (def 1) > repeated key_value (def 2) > key, optional value.
        json map = nullptr;
        const uint32_t slot = offsets[r];
        if (keys.DefLevel(slot) >= 1) map = json::array();
        for (uint32_t e = offsets[r]; e < offsets[r + 1]; ++e) {
          if (keys.DefLevel(e) < 2) continue;
          map.push_back(json::array({Value(keys, e), Value(values, e)}));
        }
        EXPECT_EQ(map, want["attributes"]) << "row " << row;
      }
    }
    EXPECT_EQ(row, expected.size());
  }
}

TEST_F(PyarrowFilesTest, JsonRowsLayerAgreesWithPyarrow) {
  ASSERT_EQ(names_->size(), 20u) << "write_pyarrow_files.py failed; is .venv set up?";
  for (const std::string& name : *names_) {
    SCOPED_TRACE(name);
    const std::string path = *dir_ + "/" + name;
    const json expected = ReadJson(path + ".json");
    auto rows = ReadParquetRowsAsJson(PosixFileSystem(), path, {"status", "i64", "attributes"});
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), expected.size());
    for (size_t i = 0; i < rows->size(); ++i) {
      const json& row = (*rows)[i];
      EXPECT_EQ(row.size(), 3u);
      EXPECT_EQ(row["status"], expected[i]["status"]);
      EXPECT_EQ(row["i64"], expected[i]["i64"]);
      json map = expected[i]["attributes"].is_null() ? json(nullptr) : json::object();
      for (const json& entry : expected[i]["attributes"])
        map[entry[0].get<std::string>()] = entry[1];
      EXPECT_EQ(row["attributes"], map) << "row " << i;
    }
  }
}

}  // namespace
}  // namespace lakelog::parquet
