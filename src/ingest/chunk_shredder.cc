#include "ingest/chunk_shredder.h"

namespace lakelog::ingest {

ChunkShredder::ChunkShredder() {
  for (size_t i = 0; i < kChunks; ++i) chunks_.push_back(std::make_unique<Chunk>());
  current_ = chunks_[0].get();
  for (size_t i = 1; i < kChunks; ++i) free_.push_back(chunks_[i].get());
  thread_ = std::thread([this] { Loop(); });
}

ChunkShredder::~ChunkShredder() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  work_.SignalAll();
  thread_.join();
}

uint64_t ChunkShredder::Submit(DeltaAppendStream* stream, Status* error) {
  if (filled_ == 0) return submitted_;
  Chunk* chunk = current_;
  chunk->size = filled_;
  chunk->stream = stream;
  chunk->error = error;
  chunk->ticket = ++submitted_;
  filled_ = 0;
  {
    MutexLock lock(&mu_);
    queue_.push_back(chunk);
    work_.Signal();
    while (free_.empty()) done_.Wait(&mu_);
    current_ = free_.back();
    free_.pop_back();
  }
  return submitted_;
}

void ChunkShredder::Wait(uint64_t ticket) {
  MutexLock lock(&mu_);
  while (shredded_ < ticket) done_.Wait(&mu_);
}

void ChunkShredder::Loop() {
  while (true) {
    Chunk* chunk;
    {
      MutexLock lock(&mu_);
      while (queue_.empty() && !stop_) work_.Wait(&mu_);
      if (queue_.empty()) return;  // stopped, nothing left
      chunk = queue_.front();
      queue_.pop_front();
    }
    chunk->rows.clear();
    for (size_t i = 0; i < chunk->size; ++i) chunk->rows.push_back(&chunk->events[i]);
    Status st = chunk->stream->Add(chunk->rows);
    {
      MutexLock lock(&mu_);
      if (!st.ok() && chunk->error->ok()) *chunk->error = st;
      shredded_ = chunk->ticket;
      free_.push_back(chunk);
    }
    done_.SignalAll();
  }
}

}  // namespace lakelog::ingest
