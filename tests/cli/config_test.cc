#include "cli/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

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
sink_backlog_bytes = 1048576

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
  EXPECT_EQ(config->engine.sink_backlog_bytes, 1048576u);
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

TEST(CliConfigTest, KafkaSectionAddsADestination) {
  auto config = ParseConfig(R"(
[kafka]
brokers = "10.0.0.1:9092,10.0.0.2:9092"
topic = "logs"
operation_timeout_ms = 5000
[kafka.properties]
"compression.type" = "zstd"
"security.protocol" = "SASL_SSL"
)",
                            "k.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(config->kafka.has_value());
  EXPECT_EQ(config->kafka->brokers, "10.0.0.1:9092,10.0.0.2:9092");
  EXPECT_EQ(config->kafka->topic, "logs");
  EXPECT_EQ(config->kafka->progress_topic, "lakelog_sink_progress");
  EXPECT_EQ(config->kafka->operation_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(config->kafka->properties.at("compression.type"), "zstd");
  EXPECT_EQ(config->kafka->properties.size(), 2u);
  EXPECT_FALSE(ParseConfig("", "e.toml")->kafka.has_value());
  EXPECT_EQ(ErrorOf("[kafka]\ntopic = \"t\"\n"),
            "test.toml: kafka.brokers: is required (host:port[,host:port...])");
  EXPECT_EQ(ErrorOf("[kafka]\nbrokers = \"b:1\"\nproperties = { \"linger.ms\" = 5 }\n"),
            "test.toml: kafka.properties.linger.ms: must be a string");
  EXPECT_EQ(ErrorOf("[kafka]\nbrokers = \"b:1\"\ntopics = \"t\"\n"),
            "test.toml: kafka.topics: unknown key");
}

TEST(CliConfigTest, OpenSearchSectionAddsADestination) {
  auto config = ParseConfig(R"(
[opensearch]
url = "https://search.internal:9200"
index = "pipeline-logs-%Y.%m"
username = "lakelog"
password = "secret"
ca_file = "/etc/ssl/search-ca.pem"
gzip = false
max_batch_events = 2000
max_in_flight = 8
timeout_ms = 5000
progress_index = ""
dead_letter_path = "/var/lib/lakelog/dead.ndjson"
)",
                            "o.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(config->opensearch.has_value());
  const OpenSearchSinkOptions& o = *config->opensearch;
  EXPECT_EQ(o.url, "https://search.internal:9200");
  EXPECT_EQ(o.index, "pipeline-logs-%Y.%m");
  EXPECT_EQ(o.username, "lakelog");
  EXPECT_EQ(o.ca_file, "/etc/ssl/search-ca.pem");
  EXPECT_FALSE(o.gzip);
  EXPECT_TRUE(o.verify_tls);  // not given: the default
  EXPECT_EQ(o.max_batch_events, 2000u);
  EXPECT_EQ(o.max_batch_bytes, OpenSearchSinkOptions().max_batch_bytes);
  EXPECT_EQ(o.max_in_flight, 8u);
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(o.progress_index, "");
  EXPECT_EQ(o.dead_letter_path, "/var/lib/lakelog/dead.ndjson");
  EXPECT_FALSE(ParseConfig("", "e.toml")->opensearch.has_value());
  EXPECT_EQ(ErrorOf("[opensearch]\nindex = \"x\"\n"),
            "test.toml: opensearch.url: is required (http[s]://host:port)");
  EXPECT_EQ(ErrorOf("[opensearch]\nurl = \"http://h:1\"\nmax_in_flight = 0\n"),
            "test.toml: opensearch.max_in_flight: must be between 1 and 64");
  EXPECT_EQ(ErrorOf("[opensearch]\nurl = \"http://h:1\"\nverify = false\n"),
            "test.toml: opensearch.verify: unknown key");
}

TEST(CliConfigTest, S3SectionAdjustsTheEnvironmentsOptions) {
  auto config = ParseConfig(
      "[s3]\nendpoint = \"http://127.0.0.1:9000\"\nregion = \"eu-west-1\"\n"
      "max_attempts = 3\ntimeout_ms = 2000\n",
      "s.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(config->s3.has_value());
  S3Options options;
  options.path_style = false;  // as the environment gives it for AWS itself
  config->s3->ApplyTo(&options);
  EXPECT_EQ(options.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(options.region, "eu-west-1");
  EXPECT_TRUE(options.path_style);  // a custom endpoint is addressed path-style
  EXPECT_EQ(options.max_attempts, 3);
  EXPECT_EQ(options.timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(options.part_size, S3Options().part_size);  // not given: unchanged
  EXPECT_EQ(ErrorOf("[s3]\npart_size_bytes = 1024\n"),
            "test.toml: s3.part_size_bytes: must be between 5242880 and 5368709120");
  EXPECT_EQ(ErrorOf("[s3]\naccess_key_id = \"x\"\n"), "test.toml: s3.access_key_id: unknown key");
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
  EXPECT_NE(ErrorOf("[defaults\n").find("test.toml:1:"), std::string::npos)
      << "syntax errors carry a position";
}

TEST(CliConfigTest, AutoCompactionKeys) {
  auto config = ParseConfig(
      "[table]\nauto_compact = true\nauto_compact_fan_in = 6\n"
      "auto_compact_target_file_bytes = 33554432\n",
      "test.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->table.auto_compaction.enabled, true);
  EXPECT_EQ(config->table.auto_compaction.fan_in, 6);
  EXPECT_EQ(config->table.auto_compaction.target_file_size, 33554432u);
  auto unset = ParseConfig("", "test.toml");
  ASSERT_TRUE(unset.ok());
  EXPECT_FALSE(unset->table.auto_compaction.enabled.has_value());  // the table property decides
  EXPECT_EQ(ErrorOf("[table]\nauto_compact = \"yes\"\n"),
            "test.toml: table.auto_compact: must be true or false");
  EXPECT_NE(ErrorOf("[table]\nauto_compact_fan_in = 1\n").find("table.auto_compact_fan_in"),
            std::string::npos);
}

TEST(CliConfigTest, NumbersMustBeFiniteAndInRange) {
  // TOML spells NaN and infinities; `x < min || x > max` lets NaN through.
  for (const char* key : {"seconds", "rate", "failure_rate"}) {
    for (const char* value : {"nan", "+nan", "inf", "-inf"}) {
      const std::string toml = std::string("[demo]\n") + key + " = " + value + "\n";
      EXPECT_NE(ErrorOf(toml).find(std::string("demo.") + key), std::string::npos) << toml;
    }
  }
  EXPECT_NE(ErrorOf("[defaults]\nhigh_water_mark = nan\n").find("defaults.high_water_mark"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[defaults]\nerror_reserve = inf\n").find("defaults.error_reserve"),
            std::string::npos);
  // A rate of 0 would divide by zero (and run unpaced): the range excludes it.
  EXPECT_EQ(ErrorOf("[demo]\nrate = 0\n"),
            "test.toml: demo.rate: must be greater than 0 and at most 1e+09 (got 0)");
  EXPECT_NE(ErrorOf("[demo]\nrate = -5\n").find("demo.rate"), std::string::npos);
  EXPECT_NE(ErrorOf("[demo]\nseconds = -1\n").find("demo.seconds: must be between 0 and 86400"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[demo]\nproducers = 0\n").find("demo.producers"), std::string::npos);
  // Too large for int64: a syntax error with its position, not a wrapped value.
  EXPECT_NE(ErrorOf("[demo]\nproducers = 99999999999999999999\n").find("test.toml:2:"),
            std::string::npos);
  auto ok = ParseConfig("[demo]\nrate = 0.5\nseconds = 0\n", "test.toml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_DOUBLE_EQ(ok->demo.rate, 0.5);
}

TEST(CliConfigTest, PipelineListsAreDistinctAndNamed) {
  EXPECT_EQ(ErrorOf("[demo]\npipelines = [\"a\", \"a\", \"b\"]\n"),
            "test.toml: demo.pipelines: pipeline 'a' is named twice; each pipeline is listed once");
  EXPECT_NE(ErrorOf("[demo]\npipelines = [\"a\", \" \"]\n").find("pipeline 2 is blank"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[demo]\npipelines = [\"\"]\n").find("pipeline 1 is empty"), std::string::npos);
  EXPECT_NE(ErrorOf("[demo]\npipelines = []\n").find("at least one pipeline"), std::string::npos);
  EXPECT_NE(ErrorOf("[demo]\npipelines = [\"" + std::string(300, 'x') + "\"]\n").find("too long"),
            std::string::npos);

  auto names = ParsePipelineList(" a , b,c ");
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_NE(ParsePipelineList("a,a,b").status().message().find("'a' is named twice"),
            std::string::npos);
  EXPECT_NE(ParsePipelineList("a, ,b").status().message().find("pipeline 2 is empty"),
            std::string::npos);
  EXPECT_NE(ParsePipelineList(" ").status().message().find("pipeline 1 is empty"),
            std::string::npos);
  EXPECT_NE(ParsePipelineList("a,").status().message().find("pipeline 2 is empty"),
            std::string::npos);
  EXPECT_NE(ParsePipelineList("a,\xff").status().message().find("not valid UTF-8"),
            std::string::npos);
}

TEST(CliConfigTest, WalSyncKeysAreRemembered) {
  auto config = ParseConfig("[wal]\nsync = \"none\"\n", "test.toml");
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->wal_sync_set);
  EXPECT_FALSE(config->wal_sync_interval_set);
  EXPECT_EQ(config->engine.wal.sync_mode, WalSyncMode::kNone);
  auto plain = ParseConfig("[wal]\ndir = \"/w\"\n", "test.toml");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->wal_sync_set);
}

TEST(CliConfigTest, AMissingFileOrADirectoryIsAnErrorNotAnEmptyConfig) {
  const std::string dir = ::testing::TempDir() + "/lakelog-config-test-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  auto as_dir = LoadConfigFile(dir);
  ASSERT_FALSE(as_dir.ok());
  EXPECT_EQ(as_dir.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(as_dir.status().message().find("is a directory"), std::string::npos);

  auto missing = LoadConfigFile(dir + "/nope.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("No such file or directory"), std::string::npos)
      << missing.status().message();

  // A path through a regular file (ENOTDIR): the reason is the system's, not a guess.
  const std::string file = dir + "/file.toml";
  std::FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("[demo]\nrate = 10\n", f);
  std::fclose(f);
  auto through_file = LoadConfigFile(file + "/x.toml");
  ASSERT_FALSE(through_file.ok());
  EXPECT_NE(through_file.status().message().find("Not a directory"), std::string::npos);

  auto loaded = LoadConfigFile(file);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_DOUBLE_EQ(loaded->demo.rate, 10);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lakelog::cli
