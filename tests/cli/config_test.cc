#include "cli/config.h"

#include <gtest/gtest.h>

namespace lakelog::cli {
namespace {

std::string ErrorOf(std::string_view toml) {
  auto config = ParseConfig(toml, "test.toml");
  EXPECT_FALSE(config.ok()) << "accepted:\n" << toml;
  return config.ok() ? "" : config.status().message();
}

TEST(CliConfigTest, EveryKeyIsRead) {
  auto config = ParseConfig(R"(
[engine]
flush_threads = 2
poll_interval_ms = 5
retry_initial_backoff_ms = 20
retry_max_backoff_ms = 2000
writer_id = "etl-1"
host = "h"
metrics_port = 9464
metrics_bind_address = "127.0.0.1"
stop_timeout_ms = 1000

[table]
path = "/data/logs"
compression = "snappy"
zstd_level = 5
page_size_bytes = 65536
row_group_size_bytes = 1048576
dictionary_limit_bytes = 4096

[defaults]
capacity_events = 1000
capacity_bytes = 1048576
overflow = "drop_oldest"
max_event_bytes = 2048
flush_interval_ms = 250
batch_events = 500
batch_bytes = 65536
target_file_bytes = 8388608
max_latency_ms = 5000
error_burst_events = 4
error_flush_interval_ms = 100
block_timeout_ms = 10
high_water_mark = 0.75
shed_below_level = "info"
error_reserve = 0.2
aggregate_window_ms = 2000
run_id = "r"

[pipelines.index_loader]
overflow = "shed_by_level"

[demo]
pipelines = ["a", "b"]
seconds = 1.5
rate = 100
producers = 3
failure_rate = 0.5
)",
                            "test.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->engine.flush_threads, 2);
  EXPECT_EQ(config->engine.writer_id, "etl-1");
  EXPECT_EQ(config->engine.metrics_port, 9464);
  EXPECT_EQ(config->table.parquet.compression, Compression::kSnappy);
  EXPECT_EQ(config->table_path, "/data/logs");
  EXPECT_EQ(config->defaults.capacity_events, 1000u);
  EXPECT_EQ(config->defaults.overflow, OverflowPolicy::kDropOldest);
  EXPECT_EQ(config->defaults.flush_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(config->defaults.shed_below_level, Level::kInfo);
  EXPECT_DOUBLE_EQ(config->defaults.high_water_mark, 0.75);
  // A pipeline section starts from [defaults] and overrides only what it names.
  const LoggerOptions& loader = config->LoggerFor("index_loader");
  EXPECT_EQ(loader.overflow, OverflowPolicy::kShedByLevel);
  EXPECT_EQ(loader.capacity_events, 1000u);
  EXPECT_EQ(config->LoggerFor("other").overflow, OverflowPolicy::kDropOldest);
  EXPECT_EQ(config->demo.pipelines, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(config->demo.producers, 3);
}

TEST(CliConfigTest, EmptyConfigKeepsDefaults) {
  auto config = ParseConfig("", "empty.toml");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->defaults, LoggerOptions());
  EXPECT_EQ(config->table.parquet.compression, Compression::kZstd);
}

TEST(CliConfigTest, ErrorsNameTheKey) {
  EXPECT_EQ(ErrorOf("[defaults]\ncapacity_evnts = 5\n"),
            "test.toml: defaults.capacity_evnts: unknown key");
  EXPECT_EQ(ErrorOf("[defaults]\ncapacity_events = \"many\"\n"),
            "test.toml: defaults.capacity_events: must be an integer");
  EXPECT_NE(ErrorOf("[pipelines.x]\noverflow = \"drop_all\"\n").find("pipelines.x.overflow"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[defaults]\nhigh_water_mark = 1.5\n").find("defaults.high_water_mark"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[table]\ncompression = \"brotli\"\n").find("table.compression"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[engine]\nretry_initial_backoff_ms = 50\nretry_max_backoff_ms = 10\n")
                .find("engine.retry_max_backoff_ms"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[bogus]\n").find("bogus: unknown section"), std::string::npos);
  EXPECT_NE(ErrorOf("[defaults\n").find("test.toml:1:"), std::string::npos) << "syntax errors carry a position";
}

}  // namespace
}  // namespace lakelog::cli
