#include "parquet/column_chunk_reader.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>

#include "parquet/compression.h"
#include "parquet/rle_encoding.h"
#include "parquet/thrift_serde.h"

namespace lakelog::parquet {

namespace {

constexpr int64_t kMaxPageBytes = int64_t{1} << 30;
// Byte-array offsets are 32-bit: a chunk's values (and its dictionary) stay below 4 GiB.
constexpr uint64_t kMaxByteArrayBytes = std::numeric_limits<uint32_t>::max();
// Charged per level entry: both level streams and one scratch slot.
constexpr uint64_t kLevelCost = 2 * sizeof(uint16_t) + sizeof(uint32_t);

uint32_t LoadLe32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Bytes per PLAIN value of a fixed-width type; 0 for BOOLEAN (bits) and BYTE_ARRAY.
size_t PlainWidth(const SchemaNode& leaf) {
  switch (leaf.physical_type) {
    case format::Type::INT32:
    case format::Type::FLOAT: return 4;
    case format::Type::INT64:
    case format::Type::DOUBLE: return 8;
    case format::Type::INT96: return 12;
    case format::Type::FIXED_LEN_BYTE_ARRAY: return static_cast<size_t>(leaf.type_length);
    case format::Type::BOOLEAN:
    case format::Type::BYTE_ARRAY: return 0;
  }
  return 0;
}

// Spark's legacy INT96 timestamps: nanoseconds of the day, then the Julian day number.
Status Int96ToMicros(const uint8_t* p, int64_t* out) {
  int64_t nanos;
  int32_t julian_day;
  std::memcpy(&nanos, p, 8);
  std::memcpy(&julian_day, p + 8, 4);
  constexpr int64_t kJulianEpochDay = 2440588;
  const __int128 micros =
      static_cast<__int128>(julian_day - kJulianEpochDay) * 86400000000LL + nanos / 1000;
  if (micros > std::numeric_limits<int64_t>::max() ||
      micros < std::numeric_limits<int64_t>::min()) {
    return Status::Corruption("INT96 timestamp out of range");
  }
  *out = static_cast<int64_t>(micros);
  return Status::OK();
}

// This thread's zstd decompression context, created on first use and freed at thread exit.
// DecompressPage's ZSTD_decompress creates (and maps) a context of ~160 KiB per page, and so
// would a context per file: either costs more than decompressing a small page.
ZSTD_DCtx* ThreadZstdContext() {
  struct Deleter {
    void operator()(ZSTD_DCtx* context) const { ZSTD_freeDCtx(context); }
  };
  thread_local std::unique_ptr<ZSTD_DCtx, Deleter> context(ZSTD_createDCtx());
  return context.get();
}

// Copies `valid` PLAIN values from `data` into the slots of out[0, n) whose definition level
// is max_def (all of them when def is null), zeroing the others.
template <typename T>
void ScatterPlain(const uint8_t* data, size_t valid, const uint16_t* def, uint16_t max_def,
                  size_t n, T* out) {
  if (valid == n) {
    std::memcpy(out, data, n * sizeof(T));
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    if (def[i] == max_def) {
      std::memcpy(&out[i], data, sizeof(T));
      data += sizeof(T);
    } else {
      out[i] = T{};
    }
  }
}

}  // namespace

// Decodes the pages of one chunk into a ColumnVector. The vector's slot count grows by each
// data page's level count; levels are appended first, then the page's values are placed.
class ColumnChunkDecoder {
 public:
  ColumnChunkDecoder(const SchemaNode& leaf, format::CompressionCodec::type codec,
                     DecodeBudget* budget, DecodeScratch* scratch, ColumnVector* out)
      : leaf_(leaf), codec_(codec), budget_(budget), scratch_(scratch), out_(out) {
    out_->Reset(leaf.physical_type, leaf.max_def, leaf.max_rep);
  }

  Status DecodePage(const format::PageHeader& header, std::string_view page) {
    switch (RawEnum(header.type)) {
      case format::PageType::DICTIONARY_PAGE: return DecodeDictionaryPage(header, page);
      case format::PageType::DATA_PAGE: return DecodeDataPageV1(header, page);
      case format::PageType::DATA_PAGE_V2: return DecodeDataPageV2(header, page);
      default: return Status::OK();  // index pages and unknown page types carry no values
    }
  }

 private:
  // Sets *out to the page's uncompressed bytes: the page itself when it is stored uncompressed.
  Status Decompress(std::string_view input, int64_t uncompressed_size, bool compressed,
                    std::string_view* out);
  Status DecodeDictionaryPage(const format::PageHeader& header, std::string_view page);
  Status DecodeDataPageV1(const format::PageHeader& header, std::string_view page);
  Status DecodeDataPageV2(const format::PageHeader& header, std::string_view page);
  // Decodes `n` levels of an RLE hybrid stream without length prefix, appending to *out.
  Status DecodeLevels(const uint8_t* data, size_t size, uint16_t max_level, size_t n,
                      std::vector<uint16_t>* out);
  // The values of the page whose `n` levels were just appended.
  Status DecodeValues(int32_t encoding, const uint8_t* data, size_t size, size_t n);
  Status DecodePlain(const uint8_t* data, size_t size, size_t first, size_t n, size_t valid);
  Status DecodePlainBytes(const uint8_t* data, size_t size, size_t first, size_t n, size_t valid);
  Status DecodeDictionaryIndices(const uint8_t* data, size_t size, size_t first, size_t n,
                                 size_t valid);
  Status DecodeRleBooleans(const uint8_t* data, size_t size, size_t first, size_t n, size_t valid);
  // Turns the kDictionary slots decoded so far into kBytes, for a chunk that fell back to PLAIN.
  Status MaterializeDictionary();
  // Grows the fixed-width value storage (or the indices) to first + n slots.
  Status GrowSlots(size_t first, size_t n);

  const uint16_t* DefAt(size_t first) const {
    return out_->def_levels_.empty() ? nullptr : out_->def_levels_.data() + first;
  }
  size_t CountValid(size_t first, size_t n) const {
    if (out_->def_levels_.empty()) return n;
    const uint16_t* def = out_->def_levels_.data() + first;
    const uint16_t max_def = static_cast<uint16_t>(leaf_.max_def);
    size_t count = 0;
    for (size_t i = 0; i < n; ++i) count += def[i] == max_def;
    return count;
  }

  const SchemaNode& leaf_;
  format::CompressionCodec::type codec_;
  DecodeBudget* budget_;
  DecodeScratch* scratch_;
  ColumnVector* out_;
  bool have_dictionary_ = false;
  size_t dictionary_count_ = 0;  // entries of the dictionary page
};

Status ColumnChunkDecoder::Decompress(std::string_view input, int64_t uncompressed_size,
                                      bool compressed, std::string_view* out) {
  if (uncompressed_size < 0 || uncompressed_size > kMaxPageBytes) {
    return Status::Corruption("bad uncompressed page size");
  }
  if (!compressed || codec_ == format::CompressionCodec::UNCOMPRESSED) {
    if (static_cast<int64_t>(input.size()) != uncompressed_size) {
      return Status::Corruption("uncompressed page size mismatch");
    }
    *out = input;
    return Status::OK();
  }
  LAKELOG_RETURN_IF_ERROR(budget_->Charge(static_cast<uint64_t>(uncompressed_size)));
  if (codec_ == format::CompressionCodec::ZSTD) {
    ZSTD_DCtx* context = ThreadZstdContext();
    if (context == nullptr) return Status::ResourceExhausted("ZSTD_createDCtx failed");
    scratch_->page.resize(static_cast<size_t>(uncompressed_size));
    const size_t n = ZSTD_decompressDCtx(context, scratch_->page.data(), scratch_->page.size(),
                                         input.data(), input.size());
    if (ZSTD_isError(n) || n != static_cast<size_t>(uncompressed_size)) {
      return Status::Corruption("invalid zstd page");
    }
  } else {
    LAKELOG_RETURN_IF_ERROR(
        DecompressPage(codec_, input, static_cast<size_t>(uncompressed_size), &scratch_->page));
  }
  *out = scratch_->page;
  return Status::OK();
}

Status ColumnChunkDecoder::DecodeDictionaryPage(const format::PageHeader& header,
                                                std::string_view page) {
  if (!header.__isset.dictionary_page_header) {
    return Status::Corruption("dictionary page without its header");
  }
  if (have_dictionary_ || out_->size_ != 0) {
    return Status::Corruption("dictionary page not first in its column chunk");
  }
  const format::DictionaryPageHeader& dph = header.dictionary_page_header;
  const int32_t encoding = RawEnum(dph.encoding);
  if (encoding != format::Encoding::PLAIN && encoding != format::Encoding::PLAIN_DICTIONARY) {
    return Status::NotSupported("dictionary page encoding " + std::to_string(encoding));
  }
  if (dph.num_values < 0) return Status::Corruption("negative dictionary size");
  if (leaf_.physical_type == format::Type::BOOLEAN) {
    return Status::NotSupported("dictionary-encoded BOOLEAN column");
  }
  std::string_view values;
  LAKELOG_RETURN_IF_ERROR(Decompress(page, header.uncompressed_page_size, true, &values));
  const uint8_t* data = reinterpret_cast<const uint8_t*>(values.data());
  const size_t size = values.size();
  const uint64_t count = static_cast<uint64_t>(dph.num_values);
  ByteArrayBuffer& dictionary = out_->dictionary_;
  if (leaf_.physical_type == format::Type::BYTE_ARRAY) {
    // Every value needs at least its 4-byte length, which bounds the count by the page size.
    if (count * 4 > size) return Status::Corruption("dictionary values overrun their page");
    LAKELOG_RETURN_IF_ERROR(budget_->Charge(count * sizeof(uint32_t) + size));
    dictionary.Reserve(static_cast<size_t>(count), size);
    size_t pos = 0;
    for (uint64_t i = 0; i < count; ++i) {
      if (size - pos < 4) return Status::Corruption("BYTE_ARRAY length past end of page");
      const uint32_t length = LoadLe32(data + pos);
      pos += 4;
      if (length > size - pos) return Status::Corruption("BYTE_ARRAY value past end of page");
      dictionary.Append(reinterpret_cast<const char*>(data + pos), length);
      pos += length;
    }
    out_->layout_ = VectorLayout::kDictionary;
  } else if (leaf_.physical_type == format::Type::FIXED_LEN_BYTE_ARRAY) {
    const uint64_t width = PlainWidth(leaf_);
    if (count * width > size) return Status::Corruption("dictionary values overrun their page");
    LAKELOG_RETURN_IF_ERROR(budget_->Charge(count * (sizeof(uint32_t) + width)));
    dictionary.Reserve(static_cast<size_t>(count), static_cast<size_t>(count * width));
    for (uint64_t i = 0; i < count; ++i) {
      dictionary.Append(reinterpret_cast<const char*>(data + i * width), width);
    }
  } else {
    const uint64_t width = PlainWidth(leaf_);
    if (count * width > size) return Status::Corruption("dictionary values overrun their page");
    LAKELOG_RETURN_IF_ERROR(budget_->Charge(count * width));
    scratch_->dictionary.assign(values.data(), static_cast<size_t>(count * width));
  }
  dictionary_count_ = static_cast<size_t>(count);
  // A null slot's index is 0; an empty dictionary gets one empty entry so that it is valid.
  if (count == 0) dictionary.AppendEmpty();
  have_dictionary_ = true;
  return Status::OK();
}

Status ColumnChunkDecoder::DecodeLevels(const uint8_t* data, size_t size, uint16_t max_level,
                                        size_t n, std::vector<uint16_t>* out) {
  std::vector<uint32_t>& decoded = scratch_->u32;
  decoded.resize(n);
  RleBitPackedDecoder decoder(data, size, BitWidthFor(max_level));
  LAKELOG_RETURN_IF_ERROR(decoder.Get(decoded.data(), n));
  const size_t first = out->size();
  out->resize(first + n);
  uint16_t* dst = out->data() + first;
  uint32_t max_seen = 0;
  for (size_t i = 0; i < n; ++i) {
    max_seen = std::max(max_seen, decoded[i]);
    dst[i] = static_cast<uint16_t>(decoded[i]);
  }
  if (max_seen > max_level) return Status::Corruption("level above the column's maximum");
  return Status::OK();
}

Status ColumnChunkDecoder::DecodeDataPageV1(const format::PageHeader& header,
                                            std::string_view page) {
  if (!header.__isset.data_page_header) return Status::Corruption("data page without header");
  const format::DataPageHeader& dph = header.data_page_header;
  if (dph.num_values < 0) return Status::Corruption("negative page value count");
  const size_t n = static_cast<size_t>(dph.num_values);
  LAKELOG_RETURN_IF_ERROR(budget_->Charge(n * kLevelCost));
  std::string_view body;
  LAKELOG_RETURN_IF_ERROR(Decompress(page, header.uncompressed_page_size, true, &body));
  const uint8_t* data = reinterpret_cast<const uint8_t*>(body.data());
  size_t size = body.size();

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
                                        static_cast<uint16_t>(leaf_.max_rep), &out_->rep_levels_));
  }
  if (leaf_.max_def > 0) {
    LAKELOG_RETURN_IF_ERROR(read_levels(RawEnum(dph.definition_level_encoding),
                                        static_cast<uint16_t>(leaf_.max_def), &out_->def_levels_));
  }
  return DecodeValues(RawEnum(dph.encoding), data, size, n);
}

Status ColumnChunkDecoder::DecodeDataPageV2(const format::PageHeader& header,
                                            std::string_view page) {
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
                                         &out_->rep_levels_));
  }
  if (leaf_.max_def > 0) {
    LAKELOG_RETURN_IF_ERROR(DecodeLevels(raw + rep_length, static_cast<size_t>(def_length),
                                         static_cast<uint16_t>(leaf_.max_def), n,
                                         &out_->def_levels_));
  }
  const std::string_view stored = page.substr(static_cast<size_t>(rep_length + def_length));
  const bool compressed = !dph.__isset.is_compressed || dph.is_compressed;
  std::string_view values;
  LAKELOG_RETURN_IF_ERROR(Decompress(
      stored, header.uncompressed_page_size - rep_length - def_length, compressed, &values));
  return DecodeValues(RawEnum(dph.encoding), reinterpret_cast<const uint8_t*>(values.data()),
                      values.size(), n);
}

Status ColumnChunkDecoder::DecodeValues(int32_t encoding, const uint8_t* data, size_t size,
                                        size_t n) {
  // An empty page adds no slots (and empty buffers may have null data pointers).
  if (n == 0) return Status::OK();
  const size_t first = out_->size_;
  const size_t valid = CountValid(first, n);
  switch (encoding) {
    case format::Encoding::PLAIN:
      LAKELOG_RETURN_IF_ERROR(DecodePlain(data, size, first, n, valid));
      break;
    case format::Encoding::PLAIN_DICTIONARY:
    case format::Encoding::RLE_DICTIONARY:
      LAKELOG_RETURN_IF_ERROR(DecodeDictionaryIndices(data, size, first, n, valid));
      break;
    case format::Encoding::RLE:
      if (leaf_.physical_type != format::Type::BOOLEAN) {
        return Status::NotSupported("RLE values for a non-boolean column");
      }
      LAKELOG_RETURN_IF_ERROR(DecodeRleBooleans(data, size, first, n, valid));
      break;
    default: return Status::NotSupported("parquet value encoding " + std::to_string(encoding));
  }
  out_->size_ = first + n;
  return Status::OK();
}

Status ColumnChunkDecoder::GrowSlots(size_t first, size_t n) {
  const size_t total = first + n;
  switch (out_->layout_) {
    case VectorLayout::kBool:
      LAKELOG_RETURN_IF_ERROR(budget_->Charge(n));
      out_->bools_.resize(total);
      return Status::OK();
    case VectorLayout::kInt32:
      LAKELOG_RETURN_IF_ERROR(budget_->Charge(n * sizeof(int32_t)));
      out_->int32s_.resize(total);
      return Status::OK();
    case VectorLayout::kInt64:
      LAKELOG_RETURN_IF_ERROR(budget_->Charge(n * sizeof(int64_t)));
      out_->int64s_.resize(total);
      return Status::OK();
    case VectorLayout::kFloat:
      LAKELOG_RETURN_IF_ERROR(budget_->Charge(n * sizeof(float)));
      out_->floats_.resize(total);
      return Status::OK();
    case VectorLayout::kDouble:
      LAKELOG_RETURN_IF_ERROR(budget_->Charge(n * sizeof(double)));
      out_->doubles_.resize(total);
      return Status::OK();
    case VectorLayout::kDictionary:
      LAKELOG_RETURN_IF_ERROR(budget_->Charge(n * sizeof(uint32_t)));
      out_->indices_.resize(total);
      return Status::OK();
    case VectorLayout::kBytes: break;
  }
  return Status::OK();  // byte arrays grow as they are appended
}

Status ColumnChunkDecoder::DecodePlain(const uint8_t* data, size_t size, size_t first, size_t n,
                                       size_t valid) {
  if (leaf_.physical_type == format::Type::BYTE_ARRAY ||
      leaf_.physical_type == format::Type::FIXED_LEN_BYTE_ARRAY) {
    return DecodePlainBytes(data, size, first, n, valid);
  }
  const uint16_t* def = DefAt(first);
  const uint16_t max_def = static_cast<uint16_t>(leaf_.max_def);
  if (leaf_.physical_type == format::Type::BOOLEAN) {
    if ((static_cast<uint64_t>(valid) + 7) / 8 > size) {
      return Status::Corruption("PLAIN values overrun their page");
    }
    LAKELOG_RETURN_IF_ERROR(GrowSlots(first, n));
    uint8_t* out = out_->bools_.data() + first;
    size_t bit = 0;
    for (size_t i = 0; i < n; ++i) {
      if (def == nullptr || def[i] == max_def) {
        out[i] = (data[bit / 8] >> (bit % 8)) & 1;
        ++bit;
      } else {
        out[i] = 0;
      }
    }
    return Status::OK();
  }
  const uint64_t width = PlainWidth(leaf_);
  if (static_cast<uint64_t>(valid) * width > size) {
    return Status::Corruption("PLAIN values overrun their page");
  }
  LAKELOG_RETURN_IF_ERROR(GrowSlots(first, n));
  switch (leaf_.physical_type) {
    case format::Type::INT32:
      ScatterPlain(data, valid, def, max_def, n, out_->int32s_.data() + first);
      return Status::OK();
    case format::Type::INT64:
      ScatterPlain(data, valid, def, max_def, n, out_->int64s_.data() + first);
      return Status::OK();
    case format::Type::FLOAT:
      ScatterPlain(data, valid, def, max_def, n, out_->floats_.data() + first);
      return Status::OK();
    case format::Type::DOUBLE:
      ScatterPlain(data, valid, def, max_def, n, out_->doubles_.data() + first);
      return Status::OK();
    case format::Type::INT96: {
      int64_t* out = out_->int64s_.data() + first;
      for (size_t i = 0; i < n; ++i) {
        if (def == nullptr || def[i] == max_def) {
          LAKELOG_RETURN_IF_ERROR(Int96ToMicros(data, &out[i]));
          data += 12;
        } else {
          out[i] = 0;
        }
      }
      return Status::OK();
    }
    default: return Status::Corruption("unknown physical type");
  }
}

Status ColumnChunkDecoder::DecodePlainBytes(const uint8_t* data, size_t size, size_t first,
                                            size_t n, size_t valid) {
  if (out_->layout_ == VectorLayout::kDictionary) {
    LAKELOG_RETURN_IF_ERROR(MaterializeDictionary());
  }
  const uint16_t* def = DefAt(first);
  const uint16_t max_def = static_cast<uint16_t>(leaf_.max_def);
  ByteArrayBuffer& bytes = out_->bytes_;
  // The values' bytes are a part of the page, so the page size bounds what is appended.
  LAKELOG_RETURN_IF_ERROR(budget_->Charge(static_cast<uint64_t>(n) * sizeof(uint32_t) + size));
  if (bytes.data_size() + size > kMaxByteArrayBytes) {
    return Status::NotSupported("a column chunk with more than 4 GiB of byte arrays");
  }
  bytes.Reserve(n, size);
  if (leaf_.physical_type == format::Type::FIXED_LEN_BYTE_ARRAY) {
    const uint64_t width = PlainWidth(leaf_);
    if (static_cast<uint64_t>(valid) * width > size) {
      return Status::Corruption("PLAIN values overrun their page");
    }
    for (size_t i = 0; i < n; ++i) {
      if (def == nullptr || def[i] == max_def) {
        bytes.Append(reinterpret_cast<const char*>(data), width);
        data += width;
      } else {
        bytes.AppendEmpty();
      }
    }
    return Status::OK();
  }
  // Every value needs at least its 4-byte length, which bounds the count by the page size.
  if (static_cast<uint64_t>(valid) * 4 > size) {
    return Status::Corruption("PLAIN values overrun their page");
  }
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) {
    if (def != nullptr && def[i] != max_def) {
      bytes.AppendEmpty();
      continue;
    }
    if (size - pos < 4) return Status::Corruption("BYTE_ARRAY length past end of page");
    const uint32_t length = LoadLe32(data + pos);
    pos += 4;
    if (length > size - pos) return Status::Corruption("BYTE_ARRAY value past end of page");
    bytes.Append(reinterpret_cast<const char*>(data + pos), length);
    pos += length;
  }
  return Status::OK();
}

Status ColumnChunkDecoder::DecodeDictionaryIndices(const uint8_t* data, size_t size, size_t first,
                                                   size_t n, size_t valid) {
  if (!have_dictionary_) return Status::Corruption("dictionary-encoded page without dictionary");
  std::vector<uint32_t>& indices = scratch_->u32;
  indices.clear();
  if (valid > 0) {
    if (size < 1) return Status::Corruption("missing dictionary index bit width");
    const int bit_width = data[0];
    if (bit_width > kMaxRleBitWidth) return Status::Corruption("bad dictionary index width");
    indices.resize(valid);
    RleBitPackedDecoder decoder(data + 1, size - 1, bit_width);
    LAKELOG_RETURN_IF_ERROR(decoder.Get(indices.data(), valid));
    uint32_t max_index = 0;
    for (uint32_t index : indices) max_index = std::max(max_index, index);
    if (max_index >= dictionary_count_) {
      return Status::Corruption("dictionary index out of range");
    }
  }
  const uint16_t* def = DefAt(first);
  const uint16_t max_def = static_cast<uint16_t>(leaf_.max_def);
  const bool has_nulls = valid != n;
  // Calls place(slot, index) for each valid slot and skip(slot) for each null one.
  auto for_each_slot = [&](auto place, auto skip) {
    size_t j = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!has_nulls || def[i] == max_def) {
        place(i, indices[j++]);
      } else {
        skip(i);
      }
    }
  };
  switch (out_->layout_) {
    case VectorLayout::kDictionary: {
      LAKELOG_RETURN_IF_ERROR(GrowSlots(first, n));
      uint32_t* out = out_->indices_.data() + first;
      if (!has_nulls) {
        std::memcpy(out, indices.data(), n * sizeof(uint32_t));
      } else {
        for_each_slot([&](size_t i, uint32_t index) { out[i] = index; },
                      [&](size_t i) { out[i] = 0; });
      }
      return Status::OK();
    }
    case VectorLayout::kBytes: {
      // FIXED_LEN_BYTE_ARRAY, or a BYTE_ARRAY chunk that already fell back to PLAIN.
      const ByteArrayBuffer& dictionary = out_->dictionary_;
      uint64_t total = 0;
      for (uint32_t index : indices) total += dictionary.Get(index).size();
      LAKELOG_RETURN_IF_ERROR(budget_->Charge(total + static_cast<uint64_t>(n) * 4));
      if (out_->bytes_.data_size() + total > kMaxByteArrayBytes) {
        return Status::NotSupported("a column chunk with more than 4 GiB of byte arrays");
      }
      ByteArrayBuffer& bytes = out_->bytes_;
      bytes.Reserve(n, static_cast<size_t>(total));
      for_each_slot(
          [&](size_t, uint32_t index) {
            const std::string_view v = dictionary.Get(index);
            bytes.Append(v.data(), v.size());
          },
          [&](size_t) { bytes.AppendEmpty(); });
      return Status::OK();
    }
    case VectorLayout::kBool: return Status::NotSupported("dictionary-encoded BOOLEAN column");
    default: break;
  }
  LAKELOG_RETURN_IF_ERROR(GrowSlots(first, n));
  const size_t width = PlainWidth(leaf_);
  const uint8_t* dict = reinterpret_cast<const uint8_t*>(scratch_->dictionary.data());
  auto gather = [&](auto* out) {
    using T = std::remove_pointer_t<decltype(out)>;
    for_each_slot(
        [&](size_t i, uint32_t index) { std::memcpy(&out[i], dict + index * width, sizeof(T)); },
        [&](size_t i) { out[i] = T{}; });
  };
  switch (leaf_.physical_type) {
    case format::Type::INT32: gather(out_->int32s_.data() + first); return Status::OK();
    case format::Type::INT64: gather(out_->int64s_.data() + first); return Status::OK();
    case format::Type::FLOAT: gather(out_->floats_.data() + first); return Status::OK();
    case format::Type::DOUBLE: gather(out_->doubles_.data() + first); return Status::OK();
    case format::Type::INT96: {
      int64_t* out = out_->int64s_.data() + first;
      Status status;
      for_each_slot(
          [&](size_t i, uint32_t index) {
            if (status.ok()) status = Int96ToMicros(dict + index * width, &out[i]);
          },
          [&](size_t i) { out[i] = 0; });
      return status;
    }
    default: return Status::Corruption("unknown physical type");
  }
}

Status ColumnChunkDecoder::DecodeRleBooleans(const uint8_t* data, size_t size, size_t first,
                                             size_t n, size_t valid) {
  if (size < 4) return Status::Corruption("RLE boolean page too short");
  const uint32_t length = LoadLe32(data);
  if (length > size - 4) return Status::Corruption("RLE boolean data overruns its page");
  std::vector<uint32_t>& decoded = scratch_->u32;
  decoded.resize(valid);
  RleBitPackedDecoder decoder(data + 4, length, 1);
  LAKELOG_RETURN_IF_ERROR(decoder.Get(decoded.data(), valid));
  LAKELOG_RETURN_IF_ERROR(GrowSlots(first, n));
  const uint16_t* def = DefAt(first);
  const uint16_t max_def = static_cast<uint16_t>(leaf_.max_def);
  uint8_t* out = out_->bools_.data() + first;
  size_t j = 0;
  for (size_t i = 0; i < n; ++i) {
    out[i] = (def == nullptr || def[i] == max_def) ? (decoded[j++] != 0) : 0;
  }
  return Status::OK();
}

Status ColumnChunkDecoder::MaterializeDictionary() {
  const ByteArrayBuffer& dictionary = out_->dictionary_;
  const size_t slots = out_->size_;
  uint64_t total = 0;
  for (size_t i = 0; i < slots; ++i) {
    if (out_->IsValid(i)) total += dictionary.Get(out_->indices_[i]).size();
  }
  LAKELOG_RETURN_IF_ERROR(budget_->Charge(total + static_cast<uint64_t>(slots) * 4));
  if (total > kMaxByteArrayBytes) {
    return Status::NotSupported("a column chunk with more than 4 GiB of byte arrays");
  }
  ByteArrayBuffer& bytes = out_->bytes_;
  bytes.Clear();
  bytes.Reserve(slots, static_cast<size_t>(total));
  for (size_t i = 0; i < slots; ++i) {
    if (out_->IsValid(i)) {
      const std::string_view v = dictionary.Get(out_->indices_[i]);
      bytes.Append(v.data(), v.size());
    } else {
      bytes.AppendEmpty();
    }
  }
  out_->indices_.clear();
  out_->layout_ = VectorLayout::kBytes;
  return Status::OK();
}

Status ReadColumnChunk(const RandomAccessFile& file, uint64_t data_end,
                       const format::ColumnChunk& chunk, const SchemaNode& leaf,
                       DecodeBudget* budget, DecodeScratch* scratch, ColumnVector* out) {
  if (!chunk.__isset.meta_data) {
    return Status::NotSupported("column chunk without inline metadata (encrypted or external)");
  }
  const format::ColumnMetaData& meta = chunk.meta_data;
  if (RawEnum(meta.type) != static_cast<int32_t>(leaf.physical_type)) {
    return Status::Corruption("column chunk type differs from the schema");
  }
  const int32_t codec = RawEnum(meta.codec);
  if (codec < format::CompressionCodec::UNCOMPRESSED || codec > format::CompressionCodec::LZ4_RAW) {
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
  if (meta.num_values > std::numeric_limits<uint32_t>::max()) {
    return Status::NotSupported("a column chunk with more than 2^32 values");
  }
  LAKELOG_RETURN_IF_ERROR(budget->Charge(static_cast<uint64_t>(length)));
  std::string& bytes = scratch->chunk;
  LAKELOG_RETURN_IF_ERROR(
      file.Read(static_cast<uint64_t>(start), static_cast<size_t>(length), &bytes));
  if (bytes.size() != static_cast<size_t>(length)) {
    return Status::Corruption("column chunk truncated");
  }

  ColumnChunkDecoder decoder(leaf, static_cast<format::CompressionCodec::type>(codec), budget,
                             scratch, out);
  const uint8_t* data = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t pos = 0;
  while (static_cast<int64_t>(out->size()) < meta.num_values) {
    if (pos >= bytes.size()) return Status::Corruption("column chunk ends before its values");
    format::PageHeader header;
    size_t consumed = 0;
    LAKELOG_RETURN_IF_ERROR(DeserializeThrift(data + pos, bytes.size() - pos, &header, &consumed));
    pos += consumed;
    if (header.compressed_page_size < 0 ||
        static_cast<size_t>(header.compressed_page_size) > bytes.size() - pos) {
      return Status::Corruption("page overruns its column chunk");
    }
    const std::string_view page(bytes.data() + pos,
                                static_cast<size_t>(header.compressed_page_size));
    pos += page.size();
    LAKELOG_RETURN_IF_ERROR(decoder.DecodePage(header, page));
  }
  if (static_cast<int64_t>(out->size()) != meta.num_values) {
    return Status::Corruption("column chunk holds more values than its metadata says");
  }
  return Status::OK();
}

}  // namespace lakelog::parquet
