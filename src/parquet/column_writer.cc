#include "parquet/column_writer.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "parquet/rle_encoding.h"
#include "parquet/thrift_serde.h"

namespace lakelog::parquet {

static_assert(std::endian::native == std::endian::little,
              "PLAIN encoding is little endian; this writer copies values as they are in memory");

char* Int64Traits::WritePlain(char* dst, int64_t value) {
  std::memcpy(dst, &value, 8);
  return dst + 8;
}

std::string Int64Traits::StatBytes(int64_t value) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &value, 8);
  return out;
}

char* ByteArrayTraits::WritePlain(char* dst, std::string_view value) {
  const uint32_t length = static_cast<uint32_t>(value.size());
  std::memcpy(dst, &length, 4);
  if (!value.empty()) std::memcpy(dst + 4, value.data(), value.size());
  return dst + 4 + value.size();
}

template <typename Traits>
TypedColumnWriter<Traits>::TypedColumnWriter(LeafSpec spec, const ParquetWriteOptions& options,
                                             PageCompressor* compressor)
    : spec_(std::move(spec)), options_(options), compressor_(compressor) {}

template <typename Traits>
void TypedColumnWriter<Traits>::Clear() {
  def_levels_.clear();
  rep_levels_.clear();
  values_.clear();
  indices_.clear();
  dictionary_.clear();
  dictionary_index_.clear();
}

template <typename Traits>
void TypedColumnWriter<Traits>::Analyze() {
  use_dictionary_ = true;
  dictionary_.clear();
  dictionary_index_.clear();
  indices_.resize(values_.size());
  size_t dictionary_bytes = 0;
  // Consecutive repeats are common in logs (one run, one host); skip the hash for them.
  bool have_last = false;
  Value last{};
  uint32_t last_index = 0;
  for (size_t i = 0; i < values_.size(); ++i) {
    const Value value = values_[i];
    if (have_last && value == last) {
      indices_[i] = last_index;
      continue;
    }
    auto [it, inserted] =
        dictionary_index_.try_emplace(value, static_cast<uint32_t>(dictionary_.size()));
    if (inserted) {
      dictionary_.push_back(value);
      dictionary_bytes += Traits::PlainSize(value);
      if (dictionary_bytes > options_.dictionary_limit_bytes) {
        use_dictionary_ = false;
        break;
      }
    }
    indices_[i] = it->second;
    last = value;
    last_index = it->second;
    have_last = true;
  }
  if (!use_dictionary_) {
    dictionary_.clear();
    dictionary_index_.clear();
    indices_.clear();
  }

  // Statistics: over the distinct values when we have them, otherwise over every value.
  const std::vector<Value>& candidates = use_dictionary_ ? dictionary_ : values_;
  chunk_min_.reset();
  chunk_max_.reset();
  if (!candidates.empty()) {
    Value min = candidates[0];
    Value max = candidates[0];
    for (const Value& v : candidates) {
      if (v < min) min = v;
      if (max < v) max = v;
    }
    chunk_min_ = min;
    chunk_max_ = max;
  }
}

template <typename Traits>
Status TypedColumnWriter<Traits>::WritePage(format::PageType::type type, std::string_view body,
                                            int32_t num_values, bool dictionary_indices,
                                            std::string* out) {
  LAKELOG_ASSIGN_OR_RETURN(std::string_view compressed, compressor_->Compress(body));
  format::PageHeader header;
  header.type = type;
  header.uncompressed_page_size = static_cast<int32_t>(body.size());
  header.compressed_page_size = static_cast<int32_t>(compressed.size());
  if (type == format::PageType::DICTIONARY_PAGE) {
    format::DictionaryPageHeader dictionary;
    dictionary.num_values = num_values;
    dictionary.encoding = format::Encoding::PLAIN;
    header.__set_dictionary_page_header(dictionary);
  } else {
    format::DataPageHeader data;
    data.num_values = num_values;
    data.encoding =
        dictionary_indices ? format::Encoding::RLE_DICTIONARY : format::Encoding::PLAIN;
    data.definition_level_encoding = format::Encoding::RLE;
    data.repetition_level_encoding = format::Encoding::RLE;
    header.__set_data_page_header(data);
    ++data_pages_;
  }
  header_.clear();
  LAKELOG_RETURN_IF_ERROR(SerializeThrift(header, &header_));
  out->append(header_);
  out->append(compressed);
  total_uncompressed_ += static_cast<int64_t>(header_.size() + body.size());
  total_compressed_ += static_cast<int64_t>(header_.size() + compressed.size());
  return Status::OK();
}

template <typename Traits>
void TypedColumnWriter<Traits>::EncodePlainValues(size_t begin, size_t end) {
  size_t bytes = 0;
  for (size_t i = begin; i < end; ++i) bytes += Traits::PlainSize(values_[i]);
  const size_t start = page_.size();
  page_.resize(start + bytes);
  char* dst = page_.data() + start;
  for (size_t i = begin; i < end; ++i) dst = Traits::WritePlain(dst, values_[i]);
}

template <typename Traits>
void TypedColumnWriter<Traits>::EncodeDictionaryIndices(size_t begin, size_t end) {
  const int bit_width = (dictionary_.size() <= 1 ? 1 : BitWidthFor(dictionary_.size() - 1));
  page_.push_back(static_cast<char>(bit_width));
  RleBitPackedEncoder encoder(bit_width, &page_);
  for (size_t i = begin; i < end; ++i) encoder.Put(indices_[i]);
  encoder.Flush();
}

template <typename Traits>
Status TypedColumnWriter<Traits>::WriteChunk(uint64_t chunk_offset, std::string* out,
                                             format::ColumnChunk* chunk) {
  Analyze();
  total_uncompressed_ = 0;
  total_compressed_ = 0;
  data_pages_ = 0;
  const size_t start = out->size();

  if (use_dictionary_) {
    page_.clear();
    size_t bytes = 0;
    for (const Value& v : dictionary_) bytes += Traits::PlainSize(v);
    page_.resize(bytes);
    char* dst = page_.data();
    for (const Value& v : dictionary_) dst = Traits::WritePlain(dst, v);
    LAKELOG_RETURN_IF_ERROR(WritePage(format::PageType::DICTIONARY_PAGE, page_,
                                      static_cast<int32_t>(dictionary_.size()), false, out));
  }
  const uint64_t data_page_offset = chunk_offset + (out->size() - start);

  const size_t num_slots = def_levels_.size();
  const size_t page_limit_bits = options_.page_size_bytes * 8;
  const size_t index_bits =
      use_dictionary_ ? static_cast<size_t>((dictionary_.size() <= 1 ? 1 : BitWidthFor(dictionary_.size() - 1))) : 0;
  size_t slot = 0;
  size_t value = 0;
  do {
    const size_t slot_begin = slot;
    const size_t value_begin = value;
    size_t bits = 0;
    // Invariant: a page starts at a row boundary (repetition level 0).
    while (slot < num_slots) {
      if (bits >= page_limit_bits && slot > slot_begin &&
          (spec_.max_rep == 0 || rep_levels_[slot] == 0)) {
        break;
      }
      if (def_levels_[slot] == spec_.max_def) {
        bits += use_dictionary_ ? index_bits : Traits::PlainSize(values_[value]) * 8;
        ++value;
      }
      ++slot;
    }
    page_.clear();
    if (spec_.max_rep > 0) {
      AppendLevelsV1(rep_levels_.data() + slot_begin, slot - slot_begin, spec_.max_rep,
                     &levels_scratch_, &page_);
    }
    if (spec_.max_def > 0) {
      AppendLevelsV1(def_levels_.data() + slot_begin, slot - slot_begin, spec_.max_def,
                     &levels_scratch_, &page_);
    }
    if (use_dictionary_) {
      EncodeDictionaryIndices(value_begin, value);
    } else {
      EncodePlainValues(value_begin, value);
    }
    LAKELOG_RETURN_IF_ERROR(WritePage(format::PageType::DATA_PAGE, page_,
                                      static_cast<int32_t>(slot - slot_begin), use_dictionary_,
                                      out));
  } while (slot < num_slots);

  format::ColumnMetaData meta;
  meta.type = Traits::kType;
  if (use_dictionary_) {
    meta.encodings = {format::Encoding::PLAIN, format::Encoding::RLE,
                      format::Encoding::RLE_DICTIONARY};
  } else {
    meta.encodings = {format::Encoding::PLAIN, format::Encoding::RLE};
  }
  meta.path_in_schema = spec_.path;
  meta.codec = CodecFor(compressor_->compression());
  meta.num_values = static_cast<int64_t>(num_slots);
  meta.total_uncompressed_size = total_uncompressed_;
  meta.total_compressed_size = total_compressed_;
  meta.data_page_offset = static_cast<int64_t>(data_page_offset);
  if (use_dictionary_) meta.__set_dictionary_page_offset(static_cast<int64_t>(chunk_offset));

  const int64_t null_count = static_cast<int64_t>(num_slots - values_.size());
  format::Statistics stats;
  stats.__set_null_count(null_count);
  if (chunk_min_) {
    stats.__set_min_value(Traits::StatBytes(*chunk_min_));
    stats.__set_max_value(Traits::StatBytes(*chunk_max_));
    stats.__set_is_min_value_exact(true);
    stats.__set_is_max_value_exact(true);
  }
  meta.__set_statistics(stats);

  std::vector<format::PageEncodingStats> encoding_stats;
  if (use_dictionary_) {
    format::PageEncodingStats dictionary;
    dictionary.page_type = format::PageType::DICTIONARY_PAGE;
    dictionary.encoding = format::Encoding::PLAIN;
    dictionary.count = 1;
    encoding_stats.push_back(dictionary);
  }
  format::PageEncodingStats data;
  data.page_type = format::PageType::DATA_PAGE;
  data.encoding = use_dictionary_ ? format::Encoding::RLE_DICTIONARY : format::Encoding::PLAIN;
  data.count = data_pages_;
  encoding_stats.push_back(data);
  meta.__set_encoding_stats(encoding_stats);

  chunk->file_offset = static_cast<int64_t>(chunk_offset);
  chunk->__set_meta_data(meta);

  totals_.null_count += null_count;
  if (chunk_min_) {
    if (!totals_.min || *chunk_min_ < *totals_.min) totals_.min = *chunk_min_;
    if (!totals_.max || *totals_.max < *chunk_max_) totals_.max = *chunk_max_;
  }
  return Status::OK();
}

template class TypedColumnWriter<Int64Traits>;
template class TypedColumnWriter<ByteArrayTraits>;

}  // namespace lakelog::parquet
