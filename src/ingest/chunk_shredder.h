// ChunkShredder: parsed events on their way into a batch's Delta append stream, for
// `lakelog ingest` and `lakelog kafka-ingest` alike.
//
// The reading thread (the one that reads input lines or polls Kafka) parses each one into the
// chunk being filled; a full chunk is queued and shredded into its batch's stream
// (DeltaAppendStream::Add) on the shredder's own thread while the reader parses into the next
// one, so that parsing and shredding, the two halves of the CPU, run on two cores. A few chunks
// rotate: their events are parsed over again and again, so their strings keep their capacity
// and a steady input hardly allocates; the reader waits for a free chunk when the shredder is
// behind (the memory stays bounded). With several shredder threads, each chunk goes to every
// one, and thread k shreds the events of the stream's part k (DeltaAppendStream::AddPart): the
// streams fed must have as many parts as the shredder has threads.
//
// Thread-safety: Next, Push, full, Submit and ClearCurrent on the reading thread only; Drain
// and WaitAll from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "lakelog/delta_table.h"
#include "lakelog/event.h"
#include "lakelog/status.h"

namespace lakelog::ingest {

// A batch on its way into a Delta append stream through a ChunkShredder: the stream, the first
// error a chunk of the batch met, and the ticket of the batch's last chunk. It must stay at one
// address while chunks of it are queued (the shredder writes `error`).
struct ShreddedBatch {
  explicit ShreddedBatch(std::unique_ptr<DeltaAppendStream> s) : stream(std::move(s)) {}

  // Forgets the batch (nothing is left in the stream after a commit), its buffers kept.
  void Clear() {
    stream->Abandon();
    error = Status::OK();
    ticket = 0;
  }

  std::unique_ptr<DeltaAppendStream> stream;
  Status error;
  uint64_t ticket = 0;
};

class ChunkShredder {
 public:
  static constexpr size_t kChunks = 4;
  static constexpr size_t kChunkEvents = 8192;
  // Shredder threads of `ingest` and `kafka-ingest`: two, so that the shredding, the larger
  // half of the CPU, is not one core's work (docs/BENCHMARKS.md).
  static constexpr size_t kThreads = 2;

  explicit ChunkShredder(size_t threads = 1);
  // Shreds what is queued, then stops the thread.
  ~ChunkShredder();
  ChunkShredder(const ChunkShredder&) = delete;
  ChunkShredder& operator=(const ChunkShredder&) = delete;

  // The event the next message is parsed into; Push keeps it in the chunk.
  LogEvent* Next() {
    if (filled_ == current_->events.size()) current_->events.emplace_back();
    return &current_->events[filled_];
  }
  void Push() { ++filled_; }
  bool full() const { return filled_ == kChunkEvents; }

  // Queues the chunk being filled (unless empty) to be shredded into `batch`, and takes an empty
  // chunk, waiting while every other chunk is queued. batch->ticket becomes that of the last
  // chunk queued (this one, or an earlier one when the chunk was empty).
  void Submit(ShreddedBatch* batch) EXCLUDES(mu_);
  // Waits until every chunk of `batch` is shredded; then its error, if a chunk met one (the
  // stream is abandoned then: the batch is incomplete).
  Status Drain(ShreddedBatch* batch) EXCLUDES(mu_);
  // Waits until every chunk queued is shredded.
  void WaitAll() EXCLUDES(mu_) { Wait(submitted_); }
  size_t threads() const { return threads_.size(); }
  // Forgets the events of the chunk being filled.
  void ClearCurrent() { filled_ = 0; }

 private:
  struct Chunk {
    std::vector<LogEvent> events;
    std::vector<const LogEvent*> rows;
    size_t size = 0;
    ShreddedBatch* batch = nullptr;  // its stream takes the rows; its error, the first failure
    uint64_t ticket = 0;
    size_t pending = 0;  // threads yet to shred it (guarded by mu_)
  };

  void Wait(uint64_t ticket) EXCLUDES(mu_);
  void Loop(size_t thread) EXCLUDES(mu_);

  std::vector<std::unique_ptr<Chunk>> chunks_;
  Chunk* current_;          // the consumer's
  size_t filled_ = 0;       // events of current_ parsed
  uint64_t submitted_ = 0;  // the consumer's count of chunks queued

  Mutex mu_;
  CondVar work_;  // signalled when a chunk is queued or a stop is asked
  CondVar done_;  // signalled when a thread has shredded a chunk
  std::vector<std::deque<Chunk*>> queues_ GUARDED_BY(mu_);  // by thread
  std::vector<uint64_t> done_tickets_ GUARDED_BY(mu_);      // by thread: the last it shredded
  std::vector<Chunk*> free_ GUARDED_BY(mu_);
  uint64_t shredded_ GUARDED_BY(mu_) = 0;  // tickets up to this one are done by every thread
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // last: started once the rest is set up
};

}  // namespace lakelog::ingest
