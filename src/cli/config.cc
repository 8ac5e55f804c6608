#include "cli/config.h"

#include <sys/stat.h>
#include <toml++/toml.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "common/utf8.h"
#include "delta/partition_path.h"

namespace lakelog::cli {
namespace {

// Reads the keys of one TOML table, remembering which were used so the rest can be reported
// as unknown. Every error names the full dotted key.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix, const std::string& source)
      : table_(table), prefix_(std::move(prefix)), source_(source) {}

  Status Int(const char* key, int64_t min, int64_t max, int64_t* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return Status::OK();
    auto value = node->value<int64_t>();
    if (!node->is_integer() || !value) return Error(key, "must be an integer");
    if (*value < min || *value > max) {
      return Error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    *out = *value;
    return Status::OK();
  }

  template <typename T>
  Status Integer(const char* key, int64_t min, int64_t max, T* out) {
    int64_t v = static_cast<int64_t>(*out);
    LAKELOG_RETURN_IF_ERROR(Int(key, min, max, &v));
    *out = static_cast<T>(v);
    return Status::OK();
  }

  Status Millis(const char* key, int64_t min, std::chrono::milliseconds* out) {
    int64_t v = out->count();
    LAKELOG_RETURN_IF_ERROR(Int(key, min, int64_t{86'400'000} * 365, &v));
    *out = std::chrono::milliseconds(v);
    return Status::OK();
  }

  // A finite number in [min, max], or in (min, max] when `min_exclusive`. TOML spells NaN and
  // infinities (nan, inf), so they are refused by name.
  Status Double(const char* key, double min, double max, double* out, bool min_exclusive = false) {
    const toml::node* node = Find(key);
    if (node == nullptr) return Status::OK();
    std::optional<double> value = node->value<double>();  // integers convert too
    if (!value || !(node->is_floating_point() || node->is_integer())) {
      return Error(key, "must be a number");
    }
    const bool below = min_exclusive ? !(*value > min) : !(*value >= min);
    if (!std::isfinite(*value) || below || *value > max) {
      return Error(key, (min_exclusive ? "must be greater than " + Num(min) + " and at most "
                                       : "must be between " + Num(min) + " and ") +
                            Num(max) + " (got " + Num(*value) + ")");
    }
    *out = *value;
    return Status::OK();
  }

  Status Bool(const char* key, std::optional<bool>* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return Status::OK();
    if (!node->is_boolean()) return Error(key, "must be true or false");
    *out = *node->value<bool>();
    return Status::OK();
  }

  Status String(const char* key, std::string* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return Status::OK();
    if (!node->is_string()) return Error(key, "must be a string");
    *out = *node->value<std::string>();
    return Status::OK();
  }

  Status StringList(const char* key, std::vector<std::string>* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return Status::OK();
    const toml::array* array = node->as_array();
    if (array == nullptr) return Error(key, "must be an array of strings");
    std::vector<std::string> values;
    for (const toml::node& item : *array) {
      if (!item.is_string()) return Error(key, "must be an array of strings");
      values.push_back(*item.value<std::string>());
    }
    *out = std::move(values);
    return Status::OK();
  }

  // A table of string values ([section.key] or key = { a = "b" }).
  Status StringMap(const char* key, std::map<std::string, std::string>* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return Status::OK();
    const toml::table* table = node->as_table();
    if (table == nullptr) return Error(key, "must be a table of strings");
    for (const auto& [k, v] : *table) {
      if (!v.is_string()) {
        return Error(std::string(key) + "." + std::string(k.str()), "must be a string");
      }
      (*out)[std::string(k.str())] = *v.value<std::string>();
    }
    return Status::OK();
  }

  // Whether the table sets `key` (without marking it read).
  bool Has(const char* key) const { return table_.get(key) != nullptr; }

  Status Error(const std::string& key, const std::string& problem) const {
    return Status::InvalidArgument(source_ + ": " + Dotted(key) + ": " + problem);
  }

  // InvalidArgument naming the first key that no reader asked for.
  Status RejectUnknown() const {
    for (const auto& [key, node] : table_) {
      if (!used_.count(std::string(key.str()))) return Error(std::string(key.str()), "unknown key");
    }
    return Status::OK();
  }

 private:
  const toml::node* Find(const char* key) {
    used_.insert(key);
    return table_.get(key);
  }

  std::string Dotted(const std::string& key) const {
    return prefix_.empty() ? key : prefix_ + "." + key;
  }
  static std::string Num(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  }

  const toml::table& table_;
  std::string prefix_;
  const std::string& source_;
  std::set<std::string> used_;
};

Status ReadLogger(TableReader& r, LoggerOptions* o) {
  LAKELOG_RETURN_IF_ERROR(r.Integer("capacity_events", 1, 1 << 30, &o->capacity_events));
  LAKELOG_RETURN_IF_ERROR(r.Integer("capacity_bytes", 1024, int64_t{1} << 40, &o->capacity_bytes));
  std::string overflow(OverflowPolicyName(o->overflow));
  LAKELOG_RETURN_IF_ERROR(r.String("overflow", &overflow));
  if (!ParseOverflowPolicy(overflow, &o->overflow)) {
    return r.Error("overflow", "unknown policy \"" + overflow +
                                   "\" (block, drop_newest, drop_oldest, shed_by_level, "
                                   "aggregate_repeats)");
  }
  LAKELOG_RETURN_IF_ERROR(r.Integer("max_event_bytes", 64, 1 << 30, &o->max_event_bytes));
  LAKELOG_RETURN_IF_ERROR(r.Millis("flush_interval_ms", 1, &o->flush_interval));
  LAKELOG_RETURN_IF_ERROR(r.Integer("batch_events", 1, 1 << 30, &o->batch_events));
  LAKELOG_RETURN_IF_ERROR(r.Integer("batch_bytes", 1, int64_t{1} << 40, &o->batch_bytes));
  LAKELOG_RETURN_IF_ERROR(
      r.Integer("target_file_bytes", 0, int64_t{1} << 40, &o->target_file_bytes));
  LAKELOG_RETURN_IF_ERROR(r.Millis("max_latency_ms", 1, &o->max_latency));
  LAKELOG_RETURN_IF_ERROR(r.Integer("error_burst_events", 0, 1 << 30, &o->error_burst_events));
  LAKELOG_RETURN_IF_ERROR(r.Millis("error_flush_interval_ms", 1, &o->error_flush_interval));
  LAKELOG_RETURN_IF_ERROR(r.Millis("block_timeout_ms", 0, &o->block_timeout));
  LAKELOG_RETURN_IF_ERROR(r.Double("high_water_mark", 0.0, 1.0, &o->high_water_mark));
  std::string level(LevelName(o->shed_below_level));
  LAKELOG_RETURN_IF_ERROR(r.String("shed_below_level", &level));
  if (!ParseLevel(level, &o->shed_below_level)) {
    return r.Error("shed_below_level",
                   "unknown level \"" + level + "\" (TRACE, DEBUG, INFO, WARN, ERROR, FATAL)");
  }
  LAKELOG_RETURN_IF_ERROR(r.Double("error_reserve", 0.0, 1.0, &o->error_reserve));
  LAKELOG_RETURN_IF_ERROR(r.Millis("aggregate_window_ms", 1, &o->aggregate_window));
  LAKELOG_RETURN_IF_ERROR(r.String("run_id", &o->run_id));
  return r.RejectUnknown();
}

Status ReadEngine(TableReader& r, EngineOptions* o) {
  LAKELOG_RETURN_IF_ERROR(r.Integer("flush_threads", 0, 64, &o->flush_threads));
  LAKELOG_RETURN_IF_ERROR(r.Millis("poll_interval_ms", 1, &o->poll_interval));
  LAKELOG_RETURN_IF_ERROR(r.Millis("retry_initial_backoff_ms", 1, &o->retry_initial_backoff));
  LAKELOG_RETURN_IF_ERROR(r.Millis("retry_max_backoff_ms", 1, &o->retry_max_backoff));
  LAKELOG_RETURN_IF_ERROR(r.String("writer_id", &o->writer_id));
  LAKELOG_RETURN_IF_ERROR(r.String("host", &o->host));
  LAKELOG_RETURN_IF_ERROR(r.Integer("metrics_port", -1, 65535, &o->metrics_port));
  LAKELOG_RETURN_IF_ERROR(r.String("metrics_bind_address", &o->metrics_bind_address));
  LAKELOG_RETURN_IF_ERROR(r.Millis("stop_timeout_ms", 0, &o->stop_timeout));
  LAKELOG_RETURN_IF_ERROR(
      r.Integer("sink_backlog_bytes", 1024, int64_t{1} << 40, &o->sink_backlog_bytes));
  if (o->retry_max_backoff < o->retry_initial_backoff) {
    return r.Error("retry_max_backoff_ms", "must not be below retry_initial_backoff_ms");
  }
  return r.RejectUnknown();
}

Status ReadKafka(TableReader& r, KafkaSinkOptions* o) {
  LAKELOG_RETURN_IF_ERROR(r.String("brokers", &o->brokers));
  if (o->brokers.empty()) return r.Error("brokers", "is required (host:port[,host:port...])");
  LAKELOG_RETURN_IF_ERROR(r.String("topic", &o->topic));
  LAKELOG_RETURN_IF_ERROR(r.String("progress_topic", &o->progress_topic));
  LAKELOG_RETURN_IF_ERROR(r.String("transactional_id_prefix", &o->transactional_id_prefix));
  LAKELOG_RETURN_IF_ERROR(r.Millis("operation_timeout_ms", 1, &o->operation_timeout));
  LAKELOG_RETURN_IF_ERROR(r.StringMap("properties", &o->properties));
  return r.RejectUnknown();
}

Status ReadOpenSearch(TableReader& r, OpenSearchSinkOptions* o) {
  LAKELOG_RETURN_IF_ERROR(r.String("url", &o->url));
  if (o->url.empty()) return r.Error("url", "is required (http[s]://host:port)");
  LAKELOG_RETURN_IF_ERROR(r.String("index", &o->index));
  LAKELOG_RETURN_IF_ERROR(r.String("data_stream", &o->data_stream));
  LAKELOG_RETURN_IF_ERROR(r.String("template_name", &o->template_name));
  std::optional<bool> install_template, verify_tls, gzip;
  LAKELOG_RETURN_IF_ERROR(r.Bool("install_template", &install_template));
  LAKELOG_RETURN_IF_ERROR(r.String("attributes_type", &o->attributes_type));
  LAKELOG_RETURN_IF_ERROR(r.String("username", &o->username));
  LAKELOG_RETURN_IF_ERROR(r.String("password", &o->password));
  LAKELOG_RETURN_IF_ERROR(r.String("ca_file", &o->ca_file));
  LAKELOG_RETURN_IF_ERROR(r.Bool("verify_tls", &verify_tls));
  LAKELOG_RETURN_IF_ERROR(r.Bool("gzip", &gzip));
  o->install_template = install_template.value_or(o->install_template);
  o->verify_tls = verify_tls.value_or(o->verify_tls);
  o->gzip = gzip.value_or(o->gzip);
  LAKELOG_RETURN_IF_ERROR(r.Integer("max_batch_events", 1, 1000000, &o->max_batch_events));
  LAKELOG_RETURN_IF_ERROR(
      r.Integer("max_batch_bytes", 1024, int64_t{1} << 30, &o->max_batch_bytes));
  LAKELOG_RETURN_IF_ERROR(r.Integer("max_in_flight", 1, 64, &o->max_in_flight));
  LAKELOG_RETURN_IF_ERROR(r.Millis("timeout_ms", 1, &o->timeout));
  LAKELOG_RETURN_IF_ERROR(r.String("progress_index", &o->progress_index));
  LAKELOG_RETURN_IF_ERROR(r.String("dead_letter_path", &o->dead_letter_path));
  return r.RejectUnknown();
}

Status ReadS3(TableReader& r, CliConfig::S3Settings* o) {
  std::string endpoint, region;
  LAKELOG_RETURN_IF_ERROR(r.String("endpoint", &endpoint));
  LAKELOG_RETURN_IF_ERROR(r.String("region", &region));
  if (r.Has("endpoint")) o->endpoint = endpoint;
  if (r.Has("region")) o->region = region;
  LAKELOG_RETURN_IF_ERROR(r.Bool("path_style", &o->path_style));
  LAKELOG_RETURN_IF_ERROR(r.Bool("single_writer", &o->single_writer));
  uint64_t part_size = S3Options().part_size;
  LAKELOG_RETURN_IF_ERROR(r.Integer("part_size_bytes", 5 << 20, int64_t{5} << 30, &part_size));
  if (r.Has("part_size_bytes")) o->part_size = part_size;
  int attempts = S3Options().max_attempts;
  LAKELOG_RETURN_IF_ERROR(r.Integer("max_attempts", 1, 100, &attempts));
  if (r.Has("max_attempts")) o->max_attempts = attempts;
  std::chrono::milliseconds timeout = S3Options().timeout;
  LAKELOG_RETURN_IF_ERROR(r.Millis("timeout_ms", 1, &timeout));
  if (r.Has("timeout_ms")) o->timeout = timeout;
  return r.RejectUnknown();
}

}  // namespace

void CliConfig::S3Settings::ApplyTo(S3Options* options) const {
  if (endpoint) options->endpoint = *endpoint;
  if (region) options->region = *region;
  if (endpoint && !path_style) options->path_style = true;
  if (path_style) options->path_style = *path_style;
  if (single_writer) options->single_writer = *single_writer;
  if (part_size) options->part_size = *part_size;
  if (max_attempts) options->max_attempts = *max_attempts;
  if (timeout) options->timeout = *timeout;
}

namespace {

Status ReadWal(TableReader& r, EngineOptions* o, bool* sync_set, bool* interval_set) {
  LAKELOG_RETURN_IF_ERROR(r.String("dir", &o->wal_dir));
  std::string sync;
  LAKELOG_RETURN_IF_ERROR(r.String("sync", &sync));
  *sync_set = r.Has("sync");
  *interval_set = r.Has("sync_interval_ms");
  if (!*sync_set) sync = WalSyncModeName(o->wal.sync_mode);
  if (!ParseWalSyncMode(sync, &o->wal.sync_mode)) {
    return r.Error("sync", "unknown sync mode \"" + sync + "\" (none, interval, group)");
  }
  LAKELOG_RETURN_IF_ERROR(r.Integer("sync_interval_ms", 0, 3600000, &o->wal.sync_interval_ms));
  LAKELOG_RETURN_IF_ERROR(
      r.Integer("segment_bytes", 32 << 10, int64_t{1} << 40, &o->wal.segment_bytes));
  return r.RejectUnknown();
}

Status ReadTable(TableReader& r, CliConfig* config) {
  std::string path;
  LAKELOG_RETURN_IF_ERROR(r.String("path", &path));
  if (!path.empty()) config->table_path = path;
  ParquetWriteOptions& p = config->table.parquet;
  std::string compression(CompressionName(p.compression));
  LAKELOG_RETURN_IF_ERROR(r.String("compression", &compression));
  if (!ParseCompression(compression, &p.compression)) {
    return r.Error("compression",
                   "unknown codec \"" + compression + "\" (zstd, snappy, lz4_raw, none)");
  }
  LAKELOG_RETURN_IF_ERROR(r.Integer("zstd_level", 1, 22, &p.zstd_level));
  LAKELOG_RETURN_IF_ERROR(r.Integer("page_size_bytes", 4096, int64_t{1} << 30, &p.page_size_bytes));
  LAKELOG_RETURN_IF_ERROR(
      r.Integer("row_group_size_bytes", 65536, int64_t{1} << 40, &p.row_group_size_bytes));
  LAKELOG_RETURN_IF_ERROR(
      r.Integer("dictionary_limit_bytes", 0, int64_t{1} << 30, &p.dictionary_limit_bytes));
  AutoCompactionOptions& compaction = config->table.auto_compaction;
  LAKELOG_RETURN_IF_ERROR(r.Bool("auto_compact", &compaction.enabled));
  LAKELOG_RETURN_IF_ERROR(r.Integer("auto_compact_fan_in", 2, 64, &compaction.fan_in));
  LAKELOG_RETURN_IF_ERROR(r.Integer("auto_compact_target_file_bytes", int64_t{1} << 20,
                                    int64_t{1} << 40, &compaction.target_file_size));
  return r.RejectUnknown();
}

Status ReadDemo(TableReader& r, DemoSettings* d) {
  LAKELOG_RETURN_IF_ERROR(r.StringList("pipelines", &d->pipelines));
  if (Status st = CheckPipelineNames(d->pipelines); !st.ok()) {
    return r.Error("pipelines", st.message());
  }
  LAKELOG_RETURN_IF_ERROR(r.Double("seconds", 0.0, DemoSettings::kMaxSeconds, &d->seconds));
  LAKELOG_RETURN_IF_ERROR(
      r.Double("rate", 0.0, DemoSettings::kMaxRate, &d->rate, /*min_exclusive=*/true));
  LAKELOG_RETURN_IF_ERROR(r.Integer("producers", 1, DemoSettings::kMaxProducers, &d->producers));
  LAKELOG_RETURN_IF_ERROR(r.Double("failure_rate", 0.0, 1.0, &d->failure_rate));
  return r.RejectUnknown();
}

}  // namespace

const LoggerOptions& CliConfig::LoggerFor(const std::string& pipeline) const {
  auto it = pipelines.find(pipeline);
  return it == pipelines.end() ? defaults : it->second;
}

Result<CliConfig> ParseConfig(std::string_view toml_text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Status::InvalidArgument(source + ":" + std::to_string(where.line) + ":" +
                                   std::to_string(where.column) + ": " +
                                   std::string(e.description()));
  }
  CliConfig config;
  const std::string& src = source;
  auto section = [&](const char* name) -> Result<const toml::table*> {
    const toml::node* node = root.get(name);
    if (node == nullptr) return static_cast<const toml::table*>(nullptr);
    if (!node->is_table()) return Status::InvalidArgument(src + ": " + name + ": must be a table");
    return node->as_table();
  };
  // Sections are read in dependency order: [pipelines.*] start from the finished [defaults].
  LAKELOG_ASSIGN_OR_RETURN(const toml::table* engine, section("engine"));
  if (engine) {
    TableReader r(*engine, "engine", src);
    LAKELOG_RETURN_IF_ERROR(ReadEngine(r, &config.engine));
  }
  LAKELOG_ASSIGN_OR_RETURN(const toml::table* wal, section("wal"));
  if (wal) {
    TableReader r(*wal, "wal", src);
    LAKELOG_RETURN_IF_ERROR(
        ReadWal(r, &config.engine, &config.wal_sync_set, &config.wal_sync_interval_set));
  }
  LAKELOG_ASSIGN_OR_RETURN(const toml::table* table, section("table"));
  if (table) {
    TableReader r(*table, "table", src);
    LAKELOG_RETURN_IF_ERROR(ReadTable(r, &config));
  }
  LAKELOG_ASSIGN_OR_RETURN(const toml::table* defaults, section("defaults"));
  if (defaults) {
    TableReader r(*defaults, "defaults", src);
    LAKELOG_RETURN_IF_ERROR(ReadLogger(r, &config.defaults));
  }
  LAKELOG_ASSIGN_OR_RETURN(const toml::table* pipelines, section("pipelines"));
  if (pipelines) {
    for (const auto& [name, node] : *pipelines) {
      std::string key = "pipelines." + std::string(name.str());
      if (!node.is_table()) return Status::InvalidArgument(src + ": " + key + ": must be a table");
      LoggerOptions options = config.defaults;
      TableReader r(*node.as_table(), key, src);
      LAKELOG_RETURN_IF_ERROR(ReadLogger(r, &options));
      config.pipelines[std::string(name.str())] = options;
    }
  }
  LAKELOG_ASSIGN_OR_RETURN(const toml::table* kafka, section("kafka"));
  if (kafka) {
    TableReader r(*kafka, "kafka", src);
    config.kafka.emplace();
    LAKELOG_RETURN_IF_ERROR(ReadKafka(r, &*config.kafka));
  }
  LAKELOG_ASSIGN_OR_RETURN(const toml::table* s3, section("s3"));
  if (s3) {
    TableReader r(*s3, "s3", src);
    config.s3.emplace();
    LAKELOG_RETURN_IF_ERROR(ReadS3(r, &*config.s3));
  }
  LAKELOG_ASSIGN_OR_RETURN(const toml::table* opensearch, section("opensearch"));
  if (opensearch) {
    TableReader r(*opensearch, "opensearch", src);
    config.opensearch.emplace();
    LAKELOG_RETURN_IF_ERROR(ReadOpenSearch(r, &*config.opensearch));
  }
  LAKELOG_ASSIGN_OR_RETURN(const toml::table* demo, section("demo"));
  if (demo) {
    TableReader r(*demo, "demo", src);
    LAKELOG_RETURN_IF_ERROR(ReadDemo(r, &config.demo));
  }
  for (const auto& [key, node] : root) {
    static const std::set<std::string> kSections = {
        "engine", "wal", "table", "defaults", "pipelines", "demo", "kafka", "opensearch", "s3"};
    if (!kSections.count(std::string(key.str()))) {
      return Status::InvalidArgument(src + ": " + std::string(key.str()) +
                                     ": unknown section (engine, wal, table, defaults, pipelines, "
                                     "demo, kafka, opensearch, s3)");
    }
  }
  return config;
}

Result<CliConfig> LoadConfigFile(const std::string& path) {
  // std::ifstream opens a directory and reads it as empty: check what the path is first.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::InvalidArgument("cannot open config file " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("config file " + path + " is a directory, not a TOML file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("cannot open config file " + path + ": " + std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError("reading config file " + path + " failed");
  return ParseConfig(text.str(), path);
}

Status CheckPipelineNames(const std::vector<std::string>& names) {
  if (names.empty()) return Status::InvalidArgument("must name at least one pipeline");
  std::set<std::string_view> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    const std::string which = "pipeline " + std::to_string(i + 1);
    if (name.find_first_not_of(" \t\r\n\v\f") == std::string::npos) {
      return Status::InvalidArgument(which + " is " + (name.empty() ? "empty" : "blank") +
                                     "; every pipeline needs a name");
    }
    if (!IsValidUtf8(name)) {
      return Status::InvalidArgument(which + " is not valid UTF-8");
    }
    if (Status st = delta::CheckPipelineName(name); !st.ok()) {
      return Status::InvalidArgument(which + ": " + st.message());
    }
    if (!seen.insert(name).second) {
      return Status::InvalidArgument("pipeline '" + name +
                                     "' is named twice; each pipeline is listed once");
    }
  }
  return Status::OK();
}

Result<std::vector<std::string>> ParsePipelineList(std::string_view text) {
  constexpr std::string_view kBlank = " \t\r\n\v\f";
  std::vector<std::string> names;
  size_t begin = 0;
  while (true) {
    const size_t end = std::min(text.find(',', begin), text.size());
    std::string_view item = text.substr(begin, end - begin);
    const size_t first = item.find_first_not_of(kBlank);
    item = first == std::string_view::npos
               ? std::string_view()
               : item.substr(first, item.find_last_not_of(kBlank) - first + 1);
    names.emplace_back(item);
    if (end == text.size()) break;
    begin = end + 1;
  }
  LAKELOG_RETURN_IF_ERROR(CheckPipelineNames(names));
  return names;
}

}  // namespace lakelog::cli
