#include "parquet/column_chunk_reader.h"

#include <cstring>
#include <limits>
#include <string_view>

#include "parquet/compression.h"
#include "parquet/rle_encoding.h"
#include "parquet/thrift_serde.h"

namespace lakelog::parquet {

namespace {

using nlohmann::json;

constexpr uint64_t kLevelCost = 2 * sizeof(uint16_t) + 4;
constexpr uint64_t kValueCost = sizeof(json);
constexpr int64_t kMaxPageBytes = int64_t{1} << 30;

uint32_t LoadLe32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

class ChunkDecoder {
 public:
  ChunkDecoder(const SchemaNode& leaf, format::CompressionCodec::type codec, DecodeBudget* budget,
               ColumnData* out)
      : leaf_(leaf), codec_(codec), budget_(budget), out_(out) {}

  Status DecodePage(const format::PageHeader& header, std::string_view page, int64_t* levels);

 private:
  Status Decompress(std::string_view input, int64_t uncompressed_size, std::string* out);
  Status DecodeDictionaryPage(const format::PageHeader& header, std::string_view page);
  Status DecodeDataPageV1(const format::PageHeader& header, std::string_view page,
                          int64_t* levels);
  Status DecodeDataPageV2(const format::PageHeader& header, std::string_view page,
                          int64_t* levels);
  // Decodes `n` levels of an RLE hybrid stream without length prefix, appending to *out.
  Status DecodeLevels(const uint8_t* data, size_t size, uint16_t max_level, size_t n,
                      std::vector<uint16_t>* out);
  // Levels of one page (already appended); returns how many carry a value.
  size_t CountValues(size_t n) const;
  Status DecodeValues(int32_t encoding, const uint8_t* data, size_t size, size_t n);
  Status DecodePlain(const uint8_t* data, size_t size, size_t n, std::vector<json>* out);

  const SchemaNode& leaf_;
  format::CompressionCodec::type codec_;
  DecodeBudget* budget_;
  ColumnData* out_;
  bool have_dictionary_ = false;
  std::vector<json> dictionary_;
  std::vector<uint64_t> dictionary_costs_;
  std::string decompressed_;
  std::vector<uint32_t> scratch_;
};

Status ChunkDecoder::Decompress(std::string_view input, int64_t uncompressed_size,
                                std::string* out) {
  if (uncompressed_size < 0 || uncompressed_size > kMaxPageBytes) {
    return Status::Corruption("bad uncompressed page size");
  }
  LAKELOG_RETURN_IF_ERROR(budget_->Charge(static_cast<uint64_t>(uncompressed_size)));
  return DecompressPage(codec_, input, static_cast<size_t>(uncompressed_size), out);
}

Status ChunkDecoder::DecodePage(const format::PageHeader& header, std::string_view page,
                                int64_t* levels) {
  switch (RawEnum(header.type)) {
    case format::PageType::DICTIONARY_PAGE:
      return DecodeDictionaryPage(header, page);
    case format::PageType::DATA_PAGE:
      return DecodeDataPageV1(header, page, levels);
    case format::PageType::DATA_PAGE_V2:
      return DecodeDataPageV2(header, page, levels);
    default:
      return Status::OK();  // index pages and unknown page types carry no values
  }
}

Status ChunkDecoder::DecodeDictionaryPage(const format::PageHeader& header,
                                          std::string_view page) {
  if (!header.__isset.dictionary_page_header) {
    return Status::Corruption("dictionary page without its header");
  }
  if (have_dictionary_ || !out_->def_levels.empty()) {
    return Status::Corruption("dictionary page not first in its column chunk");
  }
  const format::DictionaryPageHeader& dph = header.dictionary_page_header;
  const int32_t encoding = RawEnum(dph.encoding);
  if (encoding != format::Encoding::PLAIN && encoding != format::Encoding::PLAIN_DICTIONARY) {
    return Status::NotSupported("dictionary page encoding " + std::to_string(encoding));
  }
  if (dph.num_values < 0) return Status::Corruption("negative dictionary size");
  LAKELOG_RETURN_IF_ERROR(Decompress(page, header.uncompressed_page_size, &decompressed_));
  LAKELOG_RETURN_IF_ERROR(DecodePlain(reinterpret_cast<const uint8_t*>(decompressed_.data()),
                                      decompressed_.size(), static_cast<size_t>(dph.num_values),
                                      &dictionary_));
  dictionary_costs_.reserve(dictionary_.size());
  for (const json& v : dictionary_) {
    dictionary_costs_.push_back(kValueCost +
                                (v.is_string() ? v.get_ref<const std::string&>().size() : 0));
  }
  have_dictionary_ = true;
  return Status::OK();
}

Status ChunkDecoder::DecodeLevels(const uint8_t* data, size_t size, uint16_t max_level, size_t n,
                                  std::vector<uint16_t>* out) {
  scratch_.resize(n);
  RleBitPackedDecoder decoder(data, size, BitWidthFor(max_level));
  LAKELOG_RETURN_IF_ERROR(decoder.Get(scratch_.data(), n));
  for (uint32_t level : scratch_) {
    if (level > max_level) return Status::Corruption("level above the column's maximum");
    out->push_back(static_cast<uint16_t>(level));
  }
  return Status::OK();
}

size_t ChunkDecoder::CountValues(size_t n) const {
  if (leaf_.max_def == 0) return n;
  size_t count = 0;
  const size_t end = out_->def_levels.size();
  for (size_t i = end - n; i < end; ++i) count += out_->def_levels[i] == leaf_.max_def;
  return count;
}

Status ChunkDecoder::DecodeDataPageV1(const format::PageHeader& header, std::string_view page,
                                      int64_t* levels) {
  if (!header.__isset.data_page_header) return Status::Corruption("data page without header");
  const format::DataPageHeader& dph = header.data_page_header;
  if (dph.num_values < 0) return Status::Corruption("negative page value count");
  const size_t n = static_cast<size_t>(dph.num_values);
  LAKELOG_RETURN_IF_ERROR(budget_->Charge(n * kLevelCost));
  LAKELOG_RETURN_IF_ERROR(Decompress(page, header.uncompressed_page_size, &decompressed_));
  const uint8_t* data = reinterpret_cast<const uint8_t*>(decompressed_.data());
  size_t size = decompressed_.size();

  auto read_levels = [&](int32_t encoding, uint16_t max_level,
                         std::vector<uint16_t>* out) -> Status {
    if (encoding != format::Encoding::RLE) {
      return Status::NotSupported("level encoding " + std::to_string(encoding));
    }
    if (size < 4) return Status::Corruption("page ends inside a level length");
    const uint32_t length = LoadLe32(data);
    if (length > size - 4) return Status::Corruption("level data overruns its page");
    LAKELOG_RETURN_IF_ERROR(DecodeLevels(data + 4, length, max_level, n, out));
    data += 4 + length;
    size -= 4 + length;
    return Status::OK();
  };
  if (leaf_.max_rep > 0) {
    LAKELOG_RETURN_IF_ERROR(read_levels(RawEnum(dph.repetition_level_encoding),
                                        static_cast<uint16_t>(leaf_.max_rep), &out_->rep_levels));
  }
  if (leaf_.max_def > 0) {
    LAKELOG_RETURN_IF_ERROR(read_levels(RawEnum(dph.definition_level_encoding),
                                        static_cast<uint16_t>(leaf_.max_def), &out_->def_levels));
  } else {
    out_->def_levels.insert(out_->def_levels.end(), n, 0);
  }
  LAKELOG_RETURN_IF_ERROR(DecodeValues(RawEnum(dph.encoding), data, size, CountValues(n)));
  *levels += static_cast<int64_t>(n);
  return Status::OK();
}

Status ChunkDecoder::DecodeDataPageV2(const format::PageHeader& header, std::string_view page,
                                      int64_t* levels) {
  if (!header.__isset.data_page_header_v2) return Status::Corruption("data page without header");
  const format::DataPageHeaderV2& dph = header.data_page_header_v2;
  if (dph.num_values < 0) return Status::Corruption("negative page value count");
  const size_t n = static_cast<size_t>(dph.num_values);
  LAKELOG_RETURN_IF_ERROR(budget_->Charge(n * kLevelCost));
  const int64_t rep_length = dph.repetition_levels_byte_length;
  const int64_t def_length = dph.definition_levels_byte_length;
  if (rep_length < 0 || def_length < 0 ||
      rep_length + def_length > static_cast<int64_t>(page.size()) ||
      rep_length + def_length > header.uncompressed_page_size) {
    return Status::Corruption("bad level lengths in data page v2");
  }
  const uint8_t* raw = reinterpret_cast<const uint8_t*>(page.data());
  if (leaf_.max_rep > 0) {
    LAKELOG_RETURN_IF_ERROR(DecodeLevels(raw, static_cast<size_t>(rep_length),
                                         static_cast<uint16_t>(leaf_.max_rep), n,
                                         &out_->rep_levels));
  }
  if (leaf_.max_def > 0) {
    LAKELOG_RETURN_IF_ERROR(DecodeLevels(raw + rep_length, static_cast<size_t>(def_length),
                                         static_cast<uint16_t>(leaf_.max_def), n,
                                         &out_->def_levels));
  } else {
    out_->def_levels.insert(out_->def_levels.end(), n, 0);
  }
  const std::string_view values = page.substr(static_cast<size_t>(rep_length + def_length));
  const int64_t values_size = header.uncompressed_page_size - rep_length - def_length;
  const bool compressed = !dph.__isset.is_compressed || dph.is_compressed;
  if (compressed && codec_ != format::CompressionCodec::UNCOMPRESSED) {
    LAKELOG_RETURN_IF_ERROR(Decompress(values, values_size, &decompressed_));
  } else {
    if (static_cast<int64_t>(values.size()) != values_size) {
      return Status::Corruption("data page v2 size mismatch");
    }
    decompressed_.assign(values.data(), values.size());
  }
  LAKELOG_RETURN_IF_ERROR(DecodeValues(RawEnum(dph.encoding),
                                       reinterpret_cast<const uint8_t*>(decompressed_.data()),
                                       decompressed_.size(), CountValues(n)));
  *levels += static_cast<int64_t>(n);
  return Status::OK();
}

Status ChunkDecoder::DecodeValues(int32_t encoding, const uint8_t* data, size_t size, size_t n) {
  switch (encoding) {
    case format::Encoding::PLAIN:
      return DecodePlain(data, size, n, &out_->values);
    case format::Encoding::PLAIN_DICTIONARY:
    case format::Encoding::RLE_DICTIONARY: {
      if (!have_dictionary_) return Status::Corruption("dictionary-encoded page without dictionary");
      if (n == 0) return Status::OK();
      if (size < 1) return Status::Corruption("missing dictionary index bit width");
      const int bit_width = data[0];
      if (bit_width > kMaxRleBitWidth) return Status::Corruption("bad dictionary index width");
      scratch_.resize(n);
      RleBitPackedDecoder decoder(data + 1, size - 1, bit_width);
      LAKELOG_RETURN_IF_ERROR(decoder.Get(scratch_.data(), n));
      for (uint32_t index : scratch_) {
        if (index >= dictionary_.size()) return Status::Corruption("dictionary index out of range");
        LAKELOG_RETURN_IF_ERROR(budget_->Charge(dictionary_costs_[index]));
        out_->values.push_back(dictionary_[index]);
      }
      return Status::OK();
    }
    case format::Encoding::RLE: {
      if (leaf_.physical_type != format::Type::BOOLEAN) {
        return Status::NotSupported("RLE values for a non-boolean column");
      }
      if (size < 4) return Status::Corruption("RLE boolean page too short");
      const uint32_t length = LoadLe32(data);
      if (length > size - 4) return Status::Corruption("RLE boolean data overruns its page");
      LAKELOG_RETURN_IF_ERROR(budget_->Charge(n * kValueCost));
      scratch_.resize(n);
      RleBitPackedDecoder decoder(data + 4, length, 1);
      LAKELOG_RETURN_IF_ERROR(decoder.Get(scratch_.data(), n));
      for (uint32_t v : scratch_) out_->values.emplace_back(v != 0);
      return Status::OK();
    }
    default:
      return Status::NotSupported("parquet value encoding " + std::to_string(encoding));
  }
}

// Spark's legacy INT96 timestamps: nanoseconds of the day, then the Julian day number.
json Int96ToMicros(const uint8_t* p) {
  int64_t nanos;
  int32_t julian_day;
  std::memcpy(&nanos, p, 8);
  std::memcpy(&julian_day, p + 8, 4);
  constexpr int64_t kJulianEpochDay = 2440588;
  const __int128 micros =
      static_cast<__int128>(julian_day - static_cast<int64_t>(kJulianEpochDay)) * 86400000000LL +
      nanos / 1000;
  if (micros > std::numeric_limits<int64_t>::max() ||
      micros < std::numeric_limits<int64_t>::min()) {
    return json(nullptr);
  }
  return json(static_cast<int64_t>(micros));
}

Status ChunkDecoder::DecodePlain(const uint8_t* data, size_t size, size_t n,
                                 std::vector<json>* out) {
  LAKELOG_RETURN_IF_ERROR(budget_->Charge(n * kValueCost));
  auto need = [&](uint64_t bytes) -> Status {
    if (bytes > size) return Status::Corruption("PLAIN values overrun their page");
    return Status::OK();
  };
  switch (leaf_.physical_type) {
    case format::Type::BOOLEAN:
      LAKELOG_RETURN_IF_ERROR(need((static_cast<uint64_t>(n) + 7) / 8));
      for (size_t i = 0; i < n; ++i) out->emplace_back(((data[i / 8] >> (i % 8)) & 1) != 0);
      return Status::OK();
    case format::Type::INT32:
      LAKELOG_RETURN_IF_ERROR(need(static_cast<uint64_t>(n) * 4));
      for (size_t i = 0; i < n; ++i) {
        int32_t v;
        std::memcpy(&v, data + 4 * i, 4);
        out->emplace_back(v);
      }
      return Status::OK();
    case format::Type::INT64:
      LAKELOG_RETURN_IF_ERROR(need(static_cast<uint64_t>(n) * 8));
      for (size_t i = 0; i < n; ++i) {
        int64_t v;
        std::memcpy(&v, data + 8 * i, 8);
        out->emplace_back(v);
      }
      return Status::OK();
    case format::Type::INT96:
      LAKELOG_RETURN_IF_ERROR(need(static_cast<uint64_t>(n) * 12));
      for (size_t i = 0; i < n; ++i) out->push_back(Int96ToMicros(data + 12 * i));
      return Status::OK();
    case format::Type::FLOAT:
      LAKELOG_RETURN_IF_ERROR(need(static_cast<uint64_t>(n) * 4));
      for (size_t i = 0; i < n; ++i) {
        float v;
        std::memcpy(&v, data + 4 * i, 4);
        out->emplace_back(v);
      }
      return Status::OK();
    case format::Type::DOUBLE:
      LAKELOG_RETURN_IF_ERROR(need(static_cast<uint64_t>(n) * 8));
      for (size_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, data + 8 * i, 8);
        out->emplace_back(v);
      }
      return Status::OK();
    case format::Type::BYTE_ARRAY: {
      // Every value needs at least its 4-byte length, which bounds n by the page size.
      LAKELOG_RETURN_IF_ERROR(need(static_cast<uint64_t>(n) * 4));
      size_t pos = 0;
      for (size_t i = 0; i < n; ++i) {
        if (size - pos < 4) return Status::Corruption("BYTE_ARRAY length past end of page");
        const uint32_t length = LoadLe32(data + pos);
        pos += 4;
        if (length > size - pos) return Status::Corruption("BYTE_ARRAY value past end of page");
        LAKELOG_RETURN_IF_ERROR(budget_->Charge(length));
        out->emplace_back(std::string(reinterpret_cast<const char*>(data + pos), length));
        pos += length;
      }
      return Status::OK();
    }
    case format::Type::FIXED_LEN_BYTE_ARRAY: {
      const uint64_t width = static_cast<uint64_t>(leaf_.type_length);
      LAKELOG_RETURN_IF_ERROR(need(static_cast<uint64_t>(n) * width));
      LAKELOG_RETURN_IF_ERROR(budget_->Charge(static_cast<uint64_t>(n) * width));
      for (size_t i = 0; i < n; ++i) {
        out->emplace_back(std::string(reinterpret_cast<const char*>(data + i * width), width));
      }
      return Status::OK();
    }
  }
  return Status::Corruption("unknown physical type");
}

}  // namespace

Status ReadColumnChunk(const RandomAccessFile& file, uint64_t data_end,
                       const format::ColumnChunk& chunk, const SchemaNode& leaf,
                       DecodeBudget* budget, ColumnData* out) {
  if (!chunk.__isset.meta_data) {
    return Status::NotSupported("column chunk without inline metadata (encrypted or external)");
  }
  const format::ColumnMetaData& meta = chunk.meta_data;
  if (RawEnum(meta.type) != static_cast<int32_t>(leaf.physical_type)) {
    return Status::Corruption("column chunk type differs from the schema");
  }
  const int32_t codec = RawEnum(meta.codec);
  if (codec < format::CompressionCodec::UNCOMPRESSED ||
      codec > format::CompressionCodec::LZ4_RAW) {
    return Status::NotSupported("parquet compression codec " + std::to_string(codec));
  }
  int64_t start = meta.data_page_offset;
  if (meta.__isset.dictionary_page_offset && meta.dictionary_page_offset > 0 &&
      meta.dictionary_page_offset < start) {
    start = meta.dictionary_page_offset;
  }
  const int64_t length = meta.total_compressed_size;
  if (start < 4 || length <= 0 || static_cast<uint64_t>(start) > data_end ||
      static_cast<uint64_t>(length) > data_end - static_cast<uint64_t>(start)) {
    return Status::Corruption("column chunk lies outside the file's data");
  }
  if (meta.num_values < 0) return Status::Corruption("negative column chunk value count");
  LAKELOG_RETURN_IF_ERROR(budget->Charge(static_cast<uint64_t>(length)));
  std::string bytes;
  LAKELOG_RETURN_IF_ERROR(file.Read(static_cast<uint64_t>(start), static_cast<size_t>(length),
                                    &bytes));
  if (bytes.size() != static_cast<size_t>(length)) {
    return Status::Corruption("column chunk truncated");
  }

  ChunkDecoder decoder(leaf, static_cast<format::CompressionCodec::type>(codec), budget, out);
  const uint8_t* data = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t pos = 0;
  int64_t levels = 0;
  while (levels < meta.num_values) {
    if (pos >= bytes.size()) return Status::Corruption("column chunk ends before its values");
    format::PageHeader header;
    size_t consumed = 0;
    LAKELOG_RETURN_IF_ERROR(DeserializeThrift(data + pos, bytes.size() - pos, &header, &consumed));
    pos += consumed;
    if (header.compressed_page_size < 0 ||
        static_cast<size_t>(header.compressed_page_size) > bytes.size() - pos) {
      return Status::Corruption("page overruns its column chunk");
    }
    const std::string_view page(bytes.data() + pos, static_cast<size_t>(header.compressed_page_size));
    pos += page.size();
    LAKELOG_RETURN_IF_ERROR(decoder.DecodePage(header, page, &levels));
  }
  if (levels != meta.num_values) {
    return Status::Corruption("column chunk holds more values than its metadata says");
  }
  if (leaf.max_def > 0 && out->def_levels.size() != static_cast<size_t>(levels)) {
    return Status::Corruption("level count mismatch");
  }
  return Status::OK();
}

}  // namespace lakelog::parquet
