#include "delta/actions.h"

#include <limits>
#include <type_traits>
#include <utility>

#include "delta/partition_path.h"

namespace lakelog::delta {

namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// ---- Writing ---------------------------------------------------------------------------------

OrderedJson PartitionValuesJson(const std::map<std::string, std::optional<std::string>>& values) {
  OrderedJson out = OrderedJson::object();
  for (const auto& [name, value] : values) {
    if (value.has_value()) {
      out[name] = *value;
    } else {
      out[name] = nullptr;
    }
  }
  return out;
}

OrderedJson ProtocolJson(const DeltaProtocol& p) {
  OrderedJson body;
  body["minReaderVersion"] = p.min_reader_version;
  body["minWriterVersion"] = p.min_writer_version;
  // Feature lists exist only from reader 3 / writer 7 on; older readers reject them otherwise.
  if (p.min_reader_version >= 3) body["readerFeatures"] = p.reader_features;
  if (p.min_writer_version >= 7) body["writerFeatures"] = p.writer_features;
  OrderedJson out;
  out["protocol"] = std::move(body);
  return out;
}

OrderedJson StringMapJson(const std::map<std::string, std::string>& values) {
  OrderedJson out = OrderedJson::object();
  for (const auto& [k, v] : values) out[k] = v;
  return out;
}

OrderedJson MetadataJson(const DeltaMetadata& m) {
  OrderedJson body;
  body["id"] = m.id;
  // Spark leaves name and description out when they are null.
  if (m.name.has_value()) body["name"] = *m.name;
  if (m.description.has_value()) body["description"] = *m.description;
  body["format"] = {{"provider", "parquet"}, {"options", StringMapJson(m.format_options)}};
  body["schemaString"] = m.schema_string;
  body["partitionColumns"] = m.partition_columns;
  body["configuration"] = StringMapJson(m.configuration);
  if (m.created_time_ms.has_value()) body["createdTime"] = *m.created_time_ms;
  OrderedJson out;
  out["metaData"] = std::move(body);
  return out;
}

OrderedJson AddJson(const AddAction& a) {
  const DeltaAddFile& f = a.file;
  OrderedJson body;
  body["path"] = EncodeLogPath(f.path);
  body["partitionValues"] = PartitionValuesJson(f.partition_values);
  body["size"] = f.size;
  body["modificationTime"] = f.modification_time_ms;
  body["dataChange"] = f.data_change;
  if (f.stats.has_value()) body["stats"] = *f.stats;
  OrderedJson out;
  out["add"] = std::move(body);
  return out;
}

OrderedJson RemoveJson(const RemoveAction& r) {
  OrderedJson body;
  body["path"] = EncodeLogPath(r.path);
  if (r.deletion_timestamp_ms.has_value()) body["deletionTimestamp"] = *r.deletion_timestamp_ms;
  body["dataChange"] = r.data_change;
  body["extendedFileMetadata"] = r.extended_file_metadata;
  body["partitionValues"] = PartitionValuesJson(r.partition_values);
  if (r.size.has_value()) body["size"] = *r.size;
  OrderedJson out;
  out["remove"] = std::move(body);
  return out;
}

OrderedJson TxnJson(const TxnAction& t) {
  OrderedJson body;
  body["appId"] = t.app_id;
  body["version"] = t.version;
  if (t.last_updated_ms.has_value()) body["lastUpdated"] = *t.last_updated_ms;
  OrderedJson out;
  out["txn"] = std::move(body);
  return out;
}

OrderedJson CommitInfoJson(const CommitInfoAction& c) {
  const DeltaCommitInfo& info = c.info;
  OrderedJson body;
  if (info.timestamp_ms.has_value()) body["timestamp"] = *info.timestamp_ms;
  body["operation"] = info.operation;
  OrderedJson parameters = OrderedJson::object();
  for (const auto& [k, v] : info.parameters) parameters[k] = v;
  body["operationParameters"] = std::move(parameters);
  if (c.read_version.has_value()) body["readVersion"] = *c.read_version;
  if (c.isolation_level.has_value()) body["isolationLevel"] = *c.isolation_level;
  if (c.is_blind_append.has_value()) body["isBlindAppend"] = *c.is_blind_append;
  if (!info.metrics.empty()) {
    OrderedJson metrics = OrderedJson::object();
    for (const auto& [k, v] : info.metrics) metrics[k] = v;
    body["operationMetrics"] = std::move(metrics);
  }
  if (info.engine_info.has_value()) body["engineInfo"] = *info.engine_info;
  if (c.txn_id.has_value()) body["txnId"] = *c.txn_id;
  OrderedJson out;
  out["commitInfo"] = std::move(body);
  return out;
}

// ---- Reading ---------------------------------------------------------------------------------

Status Bad(std::string_view where, std::string_view action, std::string_view what) {
  std::string msg(where);
  msg += ": ";
  msg += action;
  msg += ": ";
  msg += what;
  return Status::Corruption(msg);
}

// The member `key` of `obj`, or nullptr when absent or JSON null.
const Json* Member(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

struct Reader {
  const Json& obj;
  std::string_view where;
  std::string_view action;

  Status Missing(const char* key) const {
    return Bad(where, action, std::string("missing field '") + key + "'");
  }
  Status WrongType(const char* key, const char* expected) const {
    return Bad(where, action, std::string("field '") + key + "' is not " + expected);
  }

  Status String(const char* key, bool required, std::optional<std::string>* out) const {
    const Json* v = Member(obj, key);
    if (v == nullptr) return required ? Missing(key) : Status::OK();
    if (!v->is_string()) return WrongType(key, "a string");
    *out = v->get_ref<const std::string&>();
    return Status::OK();
  }
  Status Int64(const char* key, bool required, std::optional<int64_t>* out) const {
    const Json* v = Member(obj, key);
    if (v == nullptr) return required ? Missing(key) : Status::OK();
    if (v->is_number_unsigned()) {
      if (v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return WrongType(key, "a 64-bit integer");
      }
      *out = static_cast<int64_t>(v->get<uint64_t>());
      return Status::OK();
    }
    if (!v->is_number_integer()) return WrongType(key, "an integer");
    *out = v->get<int64_t>();
    return Status::OK();
  }
  Status Bool(const char* key, bool required, std::optional<bool>* out) const {
    const Json* v = Member(obj, key);
    if (v == nullptr) return required ? Missing(key) : Status::OK();
    if (!v->is_boolean()) return WrongType(key, "a boolean");
    *out = v->get<bool>();
    return Status::OK();
  }
  Status StringList(const char* key, std::vector<std::string>* out) const {
    const Json* v = Member(obj, key);
    if (v == nullptr) return Status::OK();
    if (!v->is_array()) return WrongType(key, "an array");
    for (const Json& e : *v) {
      if (!e.is_string()) return WrongType(key, "an array of strings");
      out->push_back(e.get<std::string>());
    }
    return Status::OK();
  }
  // A string map whose values may be null (partitionValues).
  Status NullableStringMap(const char* key,
                           std::map<std::string, std::optional<std::string>>* out) const {
    const Json* v = Member(obj, key);
    if (v == nullptr) return Status::OK();
    if (!v->is_object()) return WrongType(key, "an object");
    for (auto it = v->begin(); it != v->end(); ++it) {
      if (it->is_null()) {
        (*out)[it.key()] = std::nullopt;
      } else if (it->is_string()) {
        (*out)[it.key()] = it->get<std::string>();
      } else {
        return WrongType(key, "a map of strings");
      }
    }
    return Status::OK();
  }
  // A map of strings whose null values are dropped: metaData's configuration and format
  // options, where a checkpoint's map may hold a null the model has no place for.
  Status StringMap(const char* key, std::map<std::string, std::string>* out) const {
    std::map<std::string, std::optional<std::string>> values;
    LAKELOG_RETURN_IF_ERROR(NullableStringMap(key, &values));
    for (auto& [k, v] : values) {
      if (v.has_value()) (*out)[k] = std::move(*v);
    }
    return Status::OK();
  }
  // A map rendered as text: strings as their content, anything else as its JSON. Writers disagree
  // on the value types of operationParameters/operationMetrics, and both are informational.
  Status TextMap(const char* key, std::map<std::string, std::string>* out) const {
    const Json* v = Member(obj, key);
    if (v == nullptr) return Status::OK();
    if (!v->is_object()) return WrongType(key, "an object");
    for (auto it = v->begin(); it != v->end(); ++it) {
      (*out)[it.key()] = it->is_string() ? it->get<std::string>()
                                         : it->dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    return Status::OK();
  }
};

// Reads the top-level "numRecords" of a stats object and stops there. Every add of a snapshot
// carries stats (~0.5-1 KB of JSON with min/max per column), and a full parse of each was most
// of the time a large table's replay took; writers put numRecords first, so this reads a few
// tokens. Anything else at the top (not an object, a non-integer numRecords, none) is nullopt,
// and so is a syntax error met before the key.
class NumRecordsScanner : public nlohmann::json_sax<Json> {
 public:
  std::optional<int64_t> result;

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t v) override { return Found(v); }
  bool number_unsigned(number_unsigned_t v) override {
    return v <= static_cast<number_unsigned_t>(INT64_MAX) ? Found(static_cast<int64_t>(v))
                                                          : Value();
  }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override {
    if (depth_ == 0 && started_) return false;
    started_ = true;
    if (at_key_) return Stop();  // numRecords is an object: not a count
    ++depth_;
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0 || at_key_) return Stop();  // a top-level array, or numRecords an array
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool key(string_t& k) override {
    at_key_ = depth_ == 1 && k == "numRecords";
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool Found(int64_t v) {
    if (!at_key_) return Value();
    result = v;
    return false;  // done: the rest is not needed
  }
  bool Value() {
    if (depth_ == 0) return false;  // a scalar at the top level
    return at_key_ ? Stop() : true;
  }
  bool Stop() {
    result.reset();
    return false;
  }

  int depth_ = 0;
  bool started_ = false;
  bool at_key_ = false;
};

Result<std::string> DecodePath(const Reader& r, const std::string& path) {
  Result<std::string> decoded = DecodeLogPath(path);
  if (!decoded.ok()) return Bad(r.where, r.action, decoded.status().message());
  return decoded;
}

Status ParseProtocol(const Reader& r, std::vector<Action>* out) {
  std::optional<int64_t> reader_version, writer_version;
  LAKELOG_RETURN_IF_ERROR(r.Int64("minReaderVersion", true, &reader_version));
  LAKELOG_RETURN_IF_ERROR(r.Int64("minWriterVersion", true, &writer_version));
  DeltaProtocol p;
  p.min_reader_version = static_cast<int>(*reader_version);
  p.min_writer_version = static_cast<int>(*writer_version);
  LAKELOG_RETURN_IF_ERROR(r.StringList("readerFeatures", &p.reader_features));
  LAKELOG_RETURN_IF_ERROR(r.StringList("writerFeatures", &p.writer_features));
  out->emplace_back(std::move(p));
  return Status::OK();
}

Status ParseMetadata(const Reader& r, std::vector<Action>* out) {
  std::optional<std::string> id, schema;
  LAKELOG_RETURN_IF_ERROR(r.String("id", true, &id));
  LAKELOG_RETURN_IF_ERROR(r.String("schemaString", true, &schema));
  DeltaMetadata m;
  m.id = std::move(*id);
  m.schema_string = std::move(*schema);
  LAKELOG_RETURN_IF_ERROR(r.StringList("partitionColumns", &m.partition_columns));
  LAKELOG_RETURN_IF_ERROR(r.StringMap("configuration", &m.configuration));
  LAKELOG_RETURN_IF_ERROR(r.Int64("createdTime", false, &m.created_time_ms));
  LAKELOG_RETURN_IF_ERROR(r.String("name", false, &m.name));
  LAKELOG_RETURN_IF_ERROR(r.String("description", false, &m.description));
  if (const Json* format = Member(r.obj, "format"); format != nullptr && format->is_object()) {
    const Json* provider = Member(*format, "provider");
    if (provider != nullptr &&
        (!provider->is_string() || provider->get<std::string>() != "parquet")) {
      return Bad(r.where, r.action, "format.provider is not \"parquet\"");
    }
    const Reader format_reader{*format, r.where, "metaData.format"};
    LAKELOG_RETURN_IF_ERROR(format_reader.StringMap("options", &m.format_options));
  }
  out->emplace_back(std::move(m));
  return Status::OK();
}

// A file action's deletion vector as its unique id (PROTOCOL.md, "Deletion Vector Descriptor":
// storageType + pathOrInlineDv, then "@" + offset when there is one); "" when there is none.
// A logical file is identified by (path, this id).
std::string DeletionVectorId(const Reader& r) {
  const Json* dv = Member(r.obj, "deletionVector");
  if (dv == nullptr || !dv->is_object()) return "";
  std::string id = "dv:";
  if (const Json* type = Member(*dv, "storageType"); type != nullptr && type->is_string()) {
    id += type->get<std::string>();
  }
  if (const Json* where = Member(*dv, "pathOrInlineDv"); where != nullptr && where->is_string()) {
    id += where->get<std::string>();
  }
  if (const Json* offset = Member(*dv, "offset");
      offset != nullptr && offset->is_number_integer()) {
    id += "@" + std::to_string(offset->get<int64_t>());
  }
  return id;
}

Status ParseAdd(const Reader& r, std::vector<Action>* out) {
  std::optional<std::string> path, stats;
  LAKELOG_RETURN_IF_ERROR(r.String("path", true, &path));
  AddAction a;
  LAKELOG_ASSIGN_OR_RETURN(a.file.path, DecodePath(r, *path));
  LAKELOG_RETURN_IF_ERROR(r.NullableStringMap("partitionValues", &a.file.partition_values));
  std::optional<int64_t> size, mtime;
  LAKELOG_RETURN_IF_ERROR(r.Int64("size", false, &size));
  LAKELOG_RETURN_IF_ERROR(r.Int64("modificationTime", false, &mtime));
  std::optional<bool> data_change;
  LAKELOG_RETURN_IF_ERROR(r.Bool("dataChange", false, &data_change));
  LAKELOG_RETURN_IF_ERROR(r.String("stats", false, &stats));
  a.file.size = size.value_or(0);
  a.file.modification_time_ms = mtime.value_or(0);
  a.file.data_change = data_change.value_or(true);
  if (stats.has_value()) {
    a.file.num_records = NumRecordsFromStats(*stats);
    a.file.stats = std::move(stats);
  }
  a.deletion_vector_id = DeletionVectorId(r);
  a.has_deletion_vector = !a.deletion_vector_id.empty();
  out->emplace_back(std::move(a));
  return Status::OK();
}

Status ParseRemove(const Reader& r, std::vector<Action>* out) {
  std::optional<std::string> path;
  LAKELOG_RETURN_IF_ERROR(r.String("path", true, &path));
  RemoveAction rm;
  LAKELOG_ASSIGN_OR_RETURN(rm.path, DecodePath(r, *path));
  LAKELOG_RETURN_IF_ERROR(r.Int64("deletionTimestamp", false, &rm.deletion_timestamp_ms));
  std::optional<bool> data_change, extended;
  LAKELOG_RETURN_IF_ERROR(r.Bool("dataChange", false, &data_change));
  LAKELOG_RETURN_IF_ERROR(r.Bool("extendedFileMetadata", false, &extended));
  rm.data_change = data_change.value_or(true);
  rm.extended_file_metadata = extended.value_or(false);
  LAKELOG_RETURN_IF_ERROR(r.NullableStringMap("partitionValues", &rm.partition_values));
  LAKELOG_RETURN_IF_ERROR(r.Int64("size", false, &rm.size));
  rm.deletion_vector_id = DeletionVectorId(r);
  out->emplace_back(std::move(rm));
  return Status::OK();
}

Status ParseTxn(const Reader& r, std::vector<Action>* out) {
  std::optional<std::string> app_id;
  std::optional<int64_t> version;
  LAKELOG_RETURN_IF_ERROR(r.String("appId", true, &app_id));
  LAKELOG_RETURN_IF_ERROR(r.Int64("version", true, &version));
  TxnAction t;
  t.app_id = std::move(*app_id);
  t.version = *version;
  LAKELOG_RETURN_IF_ERROR(r.Int64("lastUpdated", false, &t.last_updated_ms));
  out->emplace_back(std::move(t));
  return Status::OK();
}

Status ParseCommitInfo(const Reader& r, std::vector<Action>* out) {
  CommitInfoAction c;
  LAKELOG_RETURN_IF_ERROR(r.Int64("timestamp", false, &c.info.timestamp_ms));
  std::optional<std::string> operation;
  LAKELOG_RETURN_IF_ERROR(r.String("operation", false, &operation));
  c.info.operation = operation.value_or("");
  LAKELOG_RETURN_IF_ERROR(r.TextMap("operationParameters", &c.info.parameters));
  LAKELOG_RETURN_IF_ERROR(r.TextMap("operationMetrics", &c.info.metrics));
  LAKELOG_RETURN_IF_ERROR(r.String("engineInfo", false, &c.info.engine_info));
  LAKELOG_RETURN_IF_ERROR(r.Int64("readVersion", false, &c.read_version));
  LAKELOG_RETURN_IF_ERROR(r.String("isolationLevel", false, &c.isolation_level));
  LAKELOG_RETURN_IF_ERROR(r.Bool("isBlindAppend", false, &c.is_blind_append));
  LAKELOG_RETURN_IF_ERROR(r.String("txnId", false, &c.txn_id));
  out->emplace_back(std::move(c));
  return Status::OK();
}

}  // namespace

std::optional<int64_t> NumRecordsFromStats(std::string_view stats) {
  NumRecordsScanner scanner;
  Json::sax_parse(stats.begin(), stats.end(), &scanner, nlohmann::json::input_format_t::json,
                  /*strict=*/true);
  return scanner.result;
}

std::string SerializeAction(const Action& action) {
  OrderedJson j = std::visit(
      [](const auto& a) -> OrderedJson {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, DeltaProtocol>) return ProtocolJson(a);
        if constexpr (std::is_same_v<T, DeltaMetadata>) return MetadataJson(a);
        if constexpr (std::is_same_v<T, AddAction>) return AddJson(a);
        if constexpr (std::is_same_v<T, RemoveAction>) return RemoveJson(a);
        if constexpr (std::is_same_v<T, TxnAction>) return TxnJson(a);
        if constexpr (std::is_same_v<T, CommitInfoAction>) return CommitInfoJson(a);
      },
      action);
  return j.dump(-1, ' ', /*ensure_ascii=*/false, OrderedJson::error_handler_t::replace);
}

std::string SerializeCommit(const std::vector<Action>& actions) {
  std::string out;
  for (const Action& action : actions) {
    out += SerializeAction(action);
    out.push_back('\n');
  }
  return out;
}

Status ParseActionObject(const Json& object, std::string_view where, std::vector<Action>* out) {
  if (!object.is_object()) return Status::Corruption(std::string(where) + ": not a JSON object");
  using Parser = Status (*)(const Reader&, std::vector<Action>*);
  static constexpr std::pair<const char*, Parser> kParsers[] = {
      {"protocol", ParseProtocol}, {"metaData", ParseMetadata}, {"add", ParseAdd},
      {"remove", ParseRemove},     {"txn", ParseTxn},           {"commitInfo", ParseCommitInfo},
  };
  for (const auto& [name, parse] : kParsers) {
    const Json* body = Member(object, name);
    if (body == nullptr) continue;
    if (!body->is_object()) {
      return Status::Corruption(std::string(where) + ": " + name + " is not an object");
    }
    LAKELOG_RETURN_IF_ERROR(parse(Reader{*body, where, name}, out));
  }
  return Status::OK();
}

Result<std::vector<Action>> ParseCommit(std::string_view contents, std::string_view file_name) {
  std::vector<Action> actions;
  size_t line_number = 0;
  size_t start = 0;
  while (start < contents.size()) {
    size_t end = contents.find('\n', start);
    if (end == std::string_view::npos) end = contents.size();
    std::string_view line = contents.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    std::string where = std::string(file_name) + ":" + std::to_string(line_number);
    Json object = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded()) return Status::Corruption(where + ": not valid JSON");
    LAKELOG_RETURN_IF_ERROR(ParseActionObject(object, where, &actions));
  }
  return actions;
}

}  // namespace lakelog::delta
