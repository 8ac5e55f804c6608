#include "delta/partition_path.h"

#include <cassert>

#include "common/utf8.h"
#include "delta/uuid.h"
#include "lakelog/event.h"

namespace lakelog::delta {

namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";

void AppendPercentByte(unsigned char byte, std::string* out) {
  out->push_back('%');
  out->push_back(kHexDigits[byte >> 4]);
  out->push_back(kHexDigits[byte & 0x0F]);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Spark's ExternalCatalogUtils.charToEscape, plus NUL.
bool NeedsPartitionEscape(unsigned char c) {
  if (c < 0x20 || c == 0x7F) return true;
  switch (c) {
    case '"':
    case '#':
    case '%':
    case '\'':
    case '*':
    case '/':
    case ':':
    case '=':
    case '?':
    case '\\':
    case '{':
    case '[':
    case ']':
    case '^': return true;
    default: return false;
  }
}

// The ASCII characters java.net.URI leaves unquoted in a path: unreserved, the pchar punctuation
// and '/'.
bool IsUriPathChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '_':
    case '.':
    case '!':
    case '~':
    case '*':
    case '\'':
    case '(':
    case ')':
    case ';':
    case ':':
    case '@':
    case '&':
    case '=':
    case '+':
    case '$':
    case ',':
    case '/': return true;
    default: return false;
  }
}

// Java's Character.isSpaceChar (Zs, Zl, Zp) or isISOControl, for code points >= 0x80.
bool JavaQuotesNonAscii(uint32_t cp) {
  if (cp <= 0x9F) return true;  // C1 controls
  return cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

}  // namespace

std::string EscapePartitionValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (NeedsPartitionEscape(c)) {
      AppendPercentByte(c, &out);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string UnescapePartitionValue(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] == '%' && i + 2 < escaped.size()) {
      int hi = HexValue(escaped[i + 1]);
      int lo = HexValue(escaped[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(escaped[i]);
  }
  return out;
}

std::string PartitionComponent(std::string_view column, const std::optional<std::string>& value) {
  std::string out(column);
  out.push_back('=');
  if (!value.has_value() || value->empty()) {
    out.append(kHiveDefaultPartition);
  } else {
    out.append(EscapePartitionValue(*value));
  }
  // Invariant: one component, never "." or "..", so it stays under the directory it joins.
  assert(out.find('/') == std::string::npos);
  return out;
}

std::string LogPartitionDirectory(std::string_view pipeline, int32_t log_date_days) {
  std::optional<std::string> value;
  if (!pipeline.empty()) value.emplace(pipeline);
  std::string dir = PartitionComponent("pipeline", value);
  dir.push_back('/');
  dir.append(PartitionComponent("log_date", FormatDate(log_date_days)));
  assert(IsSafeRelativePath(dir));
  return dir;
}

std::string NewDataFileName(Compression compression) {
  std::string name = "part-00000-";
  name.append(NewUuidV4());
  name.append(".c000");
  switch (compression) {
    case Compression::kNone: break;
    case Compression::kSnappy: name.append(".snappy"); break;
    case Compression::kZstd: name.append(".zstd"); break;
    case Compression::kLz4Raw: name.append(".lz4raw"); break;
  }
  name.append(".parquet");
  return name;
}

std::string EncodeLogPath(std::string_view path) {
  std::string out;
  out.reserve(path.size() + 16);
  size_t pos = 0;
  while (pos < path.size()) {
    auto c = static_cast<unsigned char>(path[pos]);
    if (c < 0x80) {
      if (IsUriPathChar(c)) {
        out.push_back(static_cast<char>(c));
      } else {
        AppendPercentByte(c, &out);
      }
      ++pos;
      continue;
    }
    size_t start = pos;
    uint32_t cp = 0;
    bool valid = NextCodePoint(path, &pos, &cp);
    if (valid && !JavaQuotesNonAscii(cp)) {
      out.append(path.substr(start, pos - start));
    } else {
      for (size_t i = start; i < pos; ++i) {
        AppendPercentByte(static_cast<unsigned char>(path[i]), &out);
      }
    }
  }
  return out;
}

Result<std::string> DecodeLogPath(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      out.push_back(encoded[i]);
      continue;
    }
    if (i + 2 >= encoded.size()) {
      return Status::Corruption("bad percent-encoding in path: " + std::string(encoded));
    }
    int hi = HexValue(encoded[i + 1]);
    int lo = HexValue(encoded[i + 2]);
    if (hi < 0 || lo < 0) {
      return Status::Corruption("bad percent-encoding in path: " + std::string(encoded));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (part.find('\0') != std::string_view::npos) return false;
    start = end + 1;
  }
  return true;
}

Status CheckPipelineName(std::string_view pipeline) {
  // PartitionComponent("pipeline", pipeline).size(), counted without building it: this runs
  // for every event parsed.
  constexpr std::string_view kPrefix = "pipeline=";
  size_t bytes = kPrefix.size() + (pipeline.empty() ? kHiveDefaultPartition.size() : 0);
  for (char c : pipeline) bytes += NeedsPartitionEscape(static_cast<unsigned char>(c)) ? 3 : 1;
  if (bytes > kMaxPartitionComponentBytes) {
    return Status::InvalidArgument(
        "pipeline name is too long: its escaped directory name 'pipeline=...' is " +
        std::to_string(bytes) + " bytes, over the file-system limit of " +
        std::to_string(kMaxPartitionComponentBytes));
  }
  return Status::OK();
}

}  // namespace lakelog::delta
