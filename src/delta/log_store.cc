#include "delta/log_store.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

namespace lakelog::delta {

namespace {

constexpr size_t kVersionDigits = 20;
constexpr std::string_view kCheckpointInfix = ".checkpoint.";
constexpr char kLastCheckpointName[] = "_last_checkpoint";

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Parses the leading 20-digit version of a log file name.
std::optional<int64_t> ParseVersionPrefix(std::string_view name) {
  if (name.size() < kVersionDigits || !AllDigits(name.substr(0, kVersionDigits))) {
    return std::nullopt;
  }
  int64_t version = 0;
  for (char c : name.substr(0, kVersionDigits)) {
    if (version > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    version = version * 10 + (c - '0');
  }
  return version;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

int64_t LogListing::latest_version() const {
  int64_t latest = -1;
  if (!commits.empty()) latest = commits.back();
  if (!checkpoints.empty()) latest = std::max(latest, checkpoints.back().version);
  return latest;
}

LogStore::LogStore(FileSystem* fs, std::string table_root)
    : fs_(fs), table_root_(std::move(table_root)), log_dir_(JoinPath(table_root_, "_delta_log")) {}

std::string LogStore::CommitFileName(int64_t version) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld.json", static_cast<long long>(version));
  return buf;
}

std::string LogStore::CheckpointFileName(int64_t version) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%020lld.checkpoint.parquet", static_cast<long long>(version));
  return buf;
}

std::optional<int64_t> LogStore::ParseCommitFileName(std::string_view name) {
  if (name.size() != kVersionDigits + 5 || name.substr(kVersionDigits) != ".json") {
    return std::nullopt;
  }
  return ParseVersionPrefix(name);
}

std::optional<CheckpointFile> LogStore::ParseCheckpointFileName(std::string_view name) {
  std::optional<int64_t> version = ParseVersionPrefix(name);
  if (!version.has_value()) return std::nullopt;
  std::string_view rest = name.substr(kVersionDigits);
  if (rest.substr(0, kCheckpointInfix.size()) != kCheckpointInfix) return std::nullopt;
  rest.remove_prefix(kCheckpointInfix.size());
  CheckpointFile file{*version, CheckpointKind::kClassic, std::string(name)};
  if (rest == "parquet") return file;
  // <part:10>.<parts:10>.parquet
  if (rest.size() == 10 + 1 + 10 + 8 && AllDigits(rest.substr(0, 10)) && rest[10] == '.' &&
      AllDigits(rest.substr(11, 10)) && rest.substr(21) == ".parquet") {
    file.kind = CheckpointKind::kMultiPart;
    return file;
  }
  // <uuid>.json / <uuid>.parquet
  if (EndsWith(rest, ".json") || EndsWith(rest, ".parquet")) {
    file.kind = CheckpointKind::kV2;
    return file;
  }
  return std::nullopt;
}

// Commits probed by name per listing when the listing has gaps (see List()).
constexpr int kMaxGapProbes = 1000;

Result<LogListing> LogStore::List() const {
  Result<std::vector<std::string>> names = fs_->ListDir(log_dir_);
  if (!names.ok()) {
    if (names.status().IsNotFound()) {
      return Status::NotFound("no Delta table at " + table_root_ + " (no _delta_log)");
    }
    return names.status().WithContext("list " + log_dir_);
  }
  LogListing listing;
  for (const std::string& name : *names) {
    if (std::optional<int64_t> v = ParseCommitFileName(name)) {
      listing.commits.push_back(*v);
    } else if (std::optional<CheckpointFile> cp = ParseCheckpointFileName(name)) {
      listing.checkpoints.push_back(std::move(*cp));
    }
  }
  std::sort(listing.commits.begin(), listing.commits.end());
  // A commit missing between two listed ones cannot be: the log only ever grows at its end
  // (and log cleanup cuts only its start). An object store whose listing lags behind its
  // writes (some S3-compatible servers under concurrent writers) can still leave such a gap:
  // ask for the missing commits by name before believing it.
  std::vector<int64_t> found;
  int probes = 0;
  for (size_t i = 1; i < listing.commits.size() && probes < kMaxGapProbes; ++i) {
    for (int64_t v = listing.commits[i - 1] + 1; v < listing.commits[i] && probes < kMaxGapProbes;
         ++v, ++probes) {
      if (fs_->Stat(JoinPath(log_dir_, CommitFileName(v))).ok()) found.push_back(v);
    }
  }
  if (!found.empty()) {
    listing.commits.insert(listing.commits.end(), found.begin(), found.end());
    std::sort(listing.commits.begin(), listing.commits.end());
  }
  std::sort(listing.checkpoints.begin(), listing.checkpoints.end(),
            [](const CheckpointFile& a, const CheckpointFile& b) {
              return a.version != b.version ? a.version < b.version : a.name < b.name;
            });
  return listing;
}

std::optional<LastCheckpointHint> LogStore::ReadLastCheckpoint() const {
  std::string contents;
  if (!fs_->ReadFile(JoinPath(log_dir_, kLastCheckpointName), &contents).ok()) return std::nullopt;
  nlohmann::json json = nlohmann::json::parse(contents, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  auto version = json.find("version");
  if (version == json.end() || !version->is_number_integer() || version->get<int64_t>() < 0) {
    return std::nullopt;
  }
  LastCheckpointHint hint;
  hint.version = version->get<int64_t>();
  auto optional_int = [&json](const char* key) -> std::optional<int64_t> {
    auto it = json.find(key);
    if (it == json.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  hint.size = optional_int("size");
  hint.size_bytes = optional_int("sizeInBytes");
  hint.add_files = optional_int("numOfAddFiles");
  hint.parts = optional_int("parts");
  auto v2 = json.find("v2Checkpoint");
  hint.v2 = v2 != json.end() && !v2->is_null();
  return hint;
}

Status LogStore::WriteLastCheckpoint(const LastCheckpointHint& hint) {
  nlohmann::ordered_json json;
  json["version"] = hint.version;
  if (hint.size.has_value()) json["size"] = *hint.size;
  if (hint.size_bytes.has_value()) json["sizeInBytes"] = *hint.size_bytes;
  if (hint.add_files.has_value()) json["numOfAddFiles"] = *hint.add_files;
  const std::string path = JoinPath(log_dir_, kLastCheckpointName);
  Status st = fs_->WriteFileAtomic(path, json.dump());
  return st.ok() ? st : st.WithContext("writing " + path);
}

Result<std::string> LogStore::ReadCommitBytes(int64_t version) const {
  std::string path = JoinPath(log_dir_, CommitFileName(version));
  std::string contents;
  Status st = fs_->ReadFile(path, &contents);
  if (!st.ok()) {
    if (st.IsNotFound()) return Status::NotFound("commit " + std::to_string(version) + " missing");
    return st.WithContext("read " + path);
  }
  return contents;
}

Result<std::vector<Action>> LogStore::ReadCommit(int64_t version) const {
  LAKELOG_ASSIGN_OR_RETURN(std::string contents, ReadCommitBytes(version));
  return ParseCommit(contents, JoinPath("_delta_log", CommitFileName(version)));
}

Status LogStore::WriteCommit(int64_t version, std::string_view contents) {
  return fs_->PutIfAbsent(JoinPath(log_dir_, CommitFileName(version)), contents);
}

Status LogStore::CreateLogDir() { return fs_->CreateDirs(log_dir_); }

}  // namespace lakelog::delta
