#include "flush/round.h"

#include <optional>

#include "wal/record_codec.h"

namespace lakelog::flush {

uint64_t PayloadBytes(const LogEvent& e) {
  auto len = [](const std::optional<std::string>& v) { return v ? v->size() : 0; };
  uint64_t n = len(e.stage) + len(e.status) + len(e.message) + len(e.run_id) + len(e.host);
  for (const auto& [k, v] : e.attributes) n += k.size() + v.size() + 8;
  return n;
}

void DrainRound(const std::vector<size_t>& plan, const std::vector<PipelineEntry*>& entries,
                int64_t now, Round* round) {
  for (size_t i : plan) {
    PipelineEntry& p = *entries[i];
    const LoggerOptions& o = p.buffer->options();
    PipelinePart part{i};
    part.events = p.buffer->Drain(o.batch_events, o.batch_bytes, &round->events, &part.bytes);
    part.events += p.buffer->HarvestRepeats(now, round->forced, &round->events);
    round->bytes += part.bytes;
    if (part.events > 0) round->parts.push_back(part);
  }
  round->heads.reserve(entries.size());
  for (PipelineEntry* p : entries) round->heads.push_back(p->buffer->head());
  round->rows.reserve(round->events.size());
  for (const LogEvent& e : round->events.events()) round->rows.push_back(&e);
}

Status WalAppender::Append(wal::Wal* wal, std::span<const LogEvent> events,
                           std::vector<uint64_t>* sequences) {
  constexpr size_t kWalBatchBytes = 1u << 20;
  Status first;
  size_t begin = 0;
  while (begin < events.size()) {
    batch_.Clear();
    size_t end = begin;
    while (end < events.size() && (end == begin || batch_.bytes() < kWalBatchBytes)) {
      wal::EncodeLogEvent(events[end++], batch_.buffer());
      batch_.EndRecord();
    }
    auto last = wal->AppendBatch(batch_.records());
    if (!last.ok() && first.ok()) first = last.status();
    if (sequences != nullptr) {
      // The batch consumed consecutive sequences ending at the WAL's last one, even on failure.
      const uint64_t last_seq = wal->LastSequence();
      for (uint64_t s = last_seq - (end - begin) + 1; s <= last_seq; ++s) sequences->push_back(s);
    }
    begin = end;
  }
  return first;
}

}  // namespace lakelog::flush
