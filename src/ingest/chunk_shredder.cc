#include "ingest/chunk_shredder.h"

#include <algorithm>

namespace lakelog::ingest {

ChunkShredder::ChunkShredder(size_t threads) {
  threads = std::max<size_t>(threads, 1);
  for (size_t i = 0; i < kChunks; ++i) chunks_.push_back(std::make_unique<Chunk>());
  current_ = chunks_[0].get();
  {
    MutexLock lock(&mu_);
    for (size_t i = 1; i < kChunks; ++i) free_.push_back(chunks_[i].get());
    queues_.resize(threads);
    done_tickets_.assign(threads, 0);
  }
  for (size_t k = 0; k < threads; ++k) threads_.emplace_back([this, k] { Loop(k); });
}

ChunkShredder::~ChunkShredder() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  work_.SignalAll();
  for (std::thread& thread : threads_) thread.join();
}

void ChunkShredder::Submit(ShreddedBatch* batch) {
  batch->ticket = submitted_;
  if (filled_ == 0) return;
  Chunk* chunk = current_;
  chunk->size = filled_;
  chunk->rows.clear();
  for (size_t i = 0; i < chunk->size; ++i) chunk->rows.push_back(&chunk->events[i]);
  chunk->batch = batch;
  chunk->ticket = batch->ticket = ++submitted_;
  filled_ = 0;
  {
    MutexLock lock(&mu_);
    chunk->pending = queues_.size();
    for (std::deque<Chunk*>& queue : queues_) queue.push_back(chunk);
    work_.SignalAll();
    while (free_.empty()) done_.Wait(&mu_);
    current_ = free_.back();
    free_.pop_back();
  }
}

Status ChunkShredder::Drain(ShreddedBatch* batch) {
  Wait(batch->ticket);
  if (!batch->error.ok()) batch->stream->Abandon();
  return batch->error;
}

void ChunkShredder::Wait(uint64_t ticket) {
  MutexLock lock(&mu_);
  while (shredded_ < ticket) done_.Wait(&mu_);
}

void ChunkShredder::Loop(size_t thread) {
  while (true) {
    Chunk* chunk;
    {
      MutexLock lock(&mu_);
      while (queues_[thread].empty() && !stop_) work_.Wait(&mu_);
      if (queues_[thread].empty()) return;  // stopped, nothing left
      chunk = queues_[thread].front();
      queues_[thread].pop_front();
    }
    // Read-only here: a chunk is refilled only once every thread is done with it.
    Status st = chunk->batch->stream->AddPart(chunk->rows, thread);
    {
      MutexLock lock(&mu_);
      if (!st.ok() && chunk->batch->error.ok()) chunk->batch->error = st;
      done_tickets_[thread] = chunk->ticket;
      if (--chunk->pending == 0) free_.push_back(chunk);
      shredded_ = *std::min_element(done_tickets_.begin(), done_tickets_.end());
    }
    done_.SignalAll();
  }
}

}  // namespace lakelog::ingest
