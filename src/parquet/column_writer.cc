#include "parquet/column_writer.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "parquet/log_file_writer.h"
#include "parquet/rle_encoding.h"
#include "parquet/thrift_serde.h"

namespace lakelog::parquet {

namespace {

// Dictionary pages above this are never built, whatever dictionary_limit_bytes says: a page
// size is an i32 in the page header, and entry offsets in DictionaryBuilder are 32-bit.
constexpr size_t kMaxDictionaryPageBytes = size_t{1} << 30;
// FallBackToPlain reserves at most this much ahead; beyond, the buffer grows as it fills.
constexpr size_t kMaxPlainReserveBytes = size_t{64} << 20;

}  // namespace

template <typename Traits>
TypedColumnWriter<Traits>::TypedColumnWriter(LeafSpec spec, const ParquetWriteOptions& options,
                                             PageCompressor* compressor, PageScratch* scratch)
    : spec_(std::move(spec)),
      options_(options),
      compressor_(compressor),
      scratch_(scratch),
      dictionary_limit_(std::min(options.dictionary_limit_bytes, kMaxDictionaryPageBytes)) {}

template <typename Traits>
void TypedColumnWriter<Traits>::Clear() {
  def_levels_.clear();
  rep_levels_.clear();
  num_values_ = 0;
  use_dictionary_ = true;
  probed_ = false;
  dictionary_.Clear();
  indices_.clear();
  plain_.clear();
  has_min_max_ = false;
}

template <typename Traits>
int TypedColumnWriter<Traits>::IndexBitWidth() const {
  // At least 1: a zero-width index stream is legal, but several readers mishandle it.
  return dictionary_.size() <= 1 ? 1 : BitWidthFor(dictionary_.size() - 1);
}

template <typename Traits>
void TypedColumnWriter<Traits>::JudgeDictionary() {
  probed_ = true;
  if (dictionary_.page().size() > dictionary_limit_ || dictionary_.size() * 2 > indices_.size()) {
    FallBackToPlain();
    return;
  }
  // PLAIN bytes of the values so far, from the compact dictionary rather than the values.
  std::vector<size_t> entry_sizes(dictionary_.size());
  for (uint32_t i = 0; i < dictionary_.size(); ++i) {
    entry_sizes[i] = Traits::PlainSize(dictionary_.at(i));
  }
  size_t plain_bytes = 0;
  for (uint32_t index : indices_) plain_bytes += entry_sizes[index];
  const size_t index_bytes = (indices_.size() * static_cast<size_t>(IndexBitWidth()) + 7) / 8;
  if (dictionary_.page().size() + index_bytes >= plain_bytes) FallBackToPlain();
}

template <typename Traits>
void TypedColumnWriter<Traits>::FallBackToPlain() {
  plain_.clear();
  for (uint32_t index : indices_) dictionary_.AppendPlain(index, &plain_);
  // The values so far are a sample of the chunk: room for as many more as slots were reserved
  // (Reserve) saves the string's doublings, each a copy of everything so far. A quarter more
  // than the sample's mean, as later values tend to be longer (counters and ids grow digits);
  // room never written costs no memory.
  if (!indices_.empty() && def_levels_.capacity() > indices_.size()) {
    const size_t per_value = plain_.size() * 5 / 4 / indices_.size() + 1;
    plain_.reserve(std::min(def_levels_.capacity() * per_value, kMaxPlainReserveBytes));
  }
  use_dictionary_ = false;
  indices_.clear();
  dictionary_.Clear();
}

template <typename Traits>
Status TypedColumnWriter<Traits>::WritePage(format::PageType::type type, std::string_view body,
                                            int32_t num_values, bool dictionary_indices,
                                            std::string* out) {
  format::PageHeader header;
  if (type == format::PageType::DICTIONARY_PAGE) {
    header.type = type;
    format::DictionaryPageHeader dictionary;
    dictionary.num_values = num_values;
    dictionary.encoding = format::Encoding::PLAIN;
    header.__set_dictionary_page_header(dictionary);
  } else {
    header = DataPageV1Header(num_values, dictionary_indices ? format::Encoding::RLE_DICTIONARY
                                                             : format::Encoding::PLAIN);
    ++data_pages_;
  }
  return AppendPage(std::move(header), body, compressor_, &scratch_->header, out,
                    &total_uncompressed_, &total_compressed_);
}

template <typename Traits>
Status TypedColumnWriter<Traits>::WriteChunk(uint64_t chunk_offset, std::string* out,
                                             format::ColumnChunk* chunk) {
  // Invariant (column_writer.h): one dictionary index per value while the chunk uses one.
  assert(!use_dictionary_ || indices_.size() == num_values_);
  // A chunk shorter than the probe (or all-null: nothing to judge) is judged at its end.
  if (use_dictionary_ && !probed_ && num_values_ > 0) JudgeDictionary();
  total_uncompressed_ = 0;
  total_compressed_ = 0;
  data_pages_ = 0;
  const size_t start = out->size();

  if (use_dictionary_) {
    LAKELOG_RETURN_IF_ERROR(WritePage(format::PageType::DICTIONARY_PAGE, dictionary_.page(),
                                      static_cast<int32_t>(dictionary_.size()), false, out));
  }
  const uint64_t data_page_offset = chunk_offset + (out->size() - start);

  const size_t num_slots = def_levels_.size();
  const size_t page_limit_bytes = options_.page_size_bytes;
  const int bit_width = use_dictionary_ ? IndexBitWidth() : 0;
  size_t slot = 0;
  size_t value = 0;
  size_t plain_pos = 0;  // offset in plain_ of value `value`, when !use_dictionary_
  const size_t chunk_bytes =
      use_dictionary_ ? num_values_ * static_cast<size_t>(bit_width) / 8 : plain_.size();
  do {
    const size_t slot_begin = slot;
    const size_t value_begin = value;
    const size_t plain_begin = plain_pos;
    size_t bytes = 0;
    if (slot == 0 && chunk_bytes < page_limit_bytes) {
      // The whole chunk is one page (the common case): no need to walk the slots.
      slot = num_slots;
      value = num_values_;
      plain_pos = plain_.size();
    }
    // Invariant: a page starts at a row boundary (repetition level 0).
    assert(slot >= num_slots || spec_.max_rep == 0 || rep_levels_[slot] == 0);
    while (slot < num_slots) {
      if (bytes >= page_limit_bytes && slot > slot_begin &&
          (spec_.max_rep == 0 || rep_levels_[slot] == 0)) {
        break;
      }
      if (def_levels_[slot] == spec_.max_def) {
        if (use_dictionary_) {
          bytes = (value + 1 - value_begin) * static_cast<size_t>(bit_width) / 8;
        } else {
          const size_t size = Traits::PlainSizeAt(plain_.data() + plain_pos);
          plain_pos += size;
          bytes += size;
        }
        ++value;
      }
      ++slot;
    }
    std::string& page = scratch_->page;
    page.clear();
    if (spec_.max_rep > 0) {
      AppendLevelsV1(rep_levels_.data() + slot_begin, slot - slot_begin, spec_.max_rep,
                     &scratch_->levels, &page);
    }
    if (spec_.max_def > 0) {
      AppendLevelsV1(def_levels_.data() + slot_begin, slot - slot_begin, spec_.max_def,
                     &scratch_->levels, &page);
    }
    if (use_dictionary_) {
      page.push_back(static_cast<char>(bit_width));
      RleBitPackedEncoder encoder(bit_width, &page);
      for (size_t i = value_begin; i < value;) {
        size_t end = i + 1;
        while (end < value && indices_[end] == indices_[i]) ++end;
        encoder.PutRepeated(indices_[i], end - i);
        i = end;
      }
      encoder.Flush();
    } else {
      page.append(plain_, plain_begin, plain_pos - plain_begin);
    }
    LAKELOG_RETURN_IF_ERROR(WritePage(format::PageType::DATA_PAGE, page,
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

  const int64_t null_count = static_cast<int64_t>(num_slots - num_values_);
  format::Statistics stats;
  stats.__set_null_count(null_count);
  // Once per chunk, never per value: a bound is cut here from the chunk's min and max.
  if (has_min_max_) {
    StatisticsBound min = Traits::MinStatistic(min_);
    stats.__set_min_value(std::move(min.bytes));
    stats.__set_is_min_value_exact(min.exact);
    if (std::optional<StatisticsBound> max = Traits::MaxStatistic(max_)) {
      stats.__set_max_value(std::move(max->bytes));
      stats.__set_is_max_value_exact(max->exact);
    }
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
  if (has_min_max_) {
    if (!totals_.min || min_ < *totals_.min) totals_.min = min_;
    if (!totals_.max || *totals_.max < max_) totals_.max = max_;
  }
  return Status::OK();
}

format::PageHeader DataPageV1Header(int32_t num_values, format::Encoding::type encoding) {
  format::PageHeader header;
  header.type = format::PageType::DATA_PAGE;
  format::DataPageHeader data;
  data.num_values = num_values;
  data.encoding = encoding;
  data.definition_level_encoding = format::Encoding::RLE;
  data.repetition_level_encoding = format::Encoding::RLE;
  header.__set_data_page_header(data);
  return header;
}

Status AppendPage(format::PageHeader header, std::string_view body, PageCompressor* compressor,
                  std::string* header_scratch, std::string* out, int64_t* uncompressed,
                  int64_t* compressed) {
  LAKELOG_ASSIGN_OR_RETURN(std::string_view packed, compressor->Compress(body));
  header.uncompressed_page_size = static_cast<int32_t>(body.size());
  header.compressed_page_size = static_cast<int32_t>(packed.size());
  header_scratch->clear();
  LAKELOG_RETURN_IF_ERROR(SerializeThrift(header, header_scratch));
  out->append(*header_scratch);
  out->append(packed);
  *uncompressed += static_cast<int64_t>(header_scratch->size() + body.size());
  *compressed += static_cast<int64_t>(header_scratch->size() + packed.size());
  return Status::OK();
}

Status AppendFooter(format::FileMetaData meta, size_t num_leaves, std::string* out) {
  meta.__set_created_by(CreatedBy());
  std::vector<format::ColumnOrder> orders(num_leaves);
  for (auto& order : orders) order.__set_TYPE_ORDER(format::TypeDefinedOrder());
  meta.__set_column_orders(orders);
  const size_t footer_start = out->size();
  LAKELOG_RETURN_IF_ERROR(SerializeThrift(meta, out));
  const auto footer_length = static_cast<uint32_t>(out->size() - footer_start);
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((footer_length >> (8 * i)) & 0xff));
  out->append(kParquetMagic);
  return Status::OK();
}

template class TypedColumnWriter<Int64Traits>;
template class TypedColumnWriter<ByteArrayTraits>;

}  // namespace lakelog::parquet
