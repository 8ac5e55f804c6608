// EventBatch: LogEvents decoded from pipeline buffers, with storage reused across flush rounds.
//
// A std::vector<LogEvent> that is cleared destroys its events and their strings, so the next
// round allocates them all again (and pays page faults on a fresh vector). EventBatch keeps
// every LogEvent it ever held: Clear() only forgets how many are live, and Append() hands back
// a recycled event whose strings keep their capacity, so decoding a steady stream of similar
// events into it does not allocate at all.
//
// Thread-safety: none; one flush thread owns a batch at a time.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lakelog/event.h"

namespace lakelog::buffer {

class EventBatch {
 public:
  // A recycled (or new) event at the end of the batch. Its fields hold stale values: the
  // caller must overwrite all of them (Decode does).
  LogEvent* Append() {
    if (size_ == events_.size()) events_.emplace_back();
    return &events_[size_++];
  }
  // Forgets every event but keeps their storage.
  void Clear() { size_ = 0; }
  // Clear() and also release the storage (after an unusually large round).
  void Release() {
    size_ = 0;
    std::vector<LogEvent>().swap(events_);
  }
  void Reserve(size_t n) { events_.reserve(n); }

  // Frees the heap storage of every kept string (live or not) whose capacity is above
  // `max_string_bytes`, and returns the batch's footprint: its events and the heap storage they
  // still hold. A string keeps the capacity of the largest value it ever held, so without this
  // the rare big message ratchets a recycled batch's strings up to its size one slot at a time.
  size_t Trim(size_t max_string_bytes) {
    // What a std::string holds without a heap block (the small-string buffer). Not constexpr:
    // clang does not evaluate libstdc++ 12's string constructor at compile time.
    const size_t inline_capacity = std::string().capacity();
    size_t bytes = events_.capacity() * sizeof(LogEvent);
    auto trim = [&](std::string& s) {
      if (s.capacity() > max_string_bytes) std::string().swap(s);
      if (s.capacity() > inline_capacity) bytes += s.capacity() + 1;
    };
    for (LogEvent& e : events_) {
      trim(e.pipeline);
      for (std::optional<std::string>* field :
           {&e.stage, &e.status, &e.message, &e.run_id, &e.host}) {
        if (field->has_value()) trim(**field);
      }
      bytes += e.attributes.capacity() * sizeof(e.attributes[0]);
      for (auto& [key, value] : e.attributes) {
        trim(key);
        trim(value);
      }
    }
    return bytes;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  LogEvent& operator[](size_t i) { return events_[i]; }
  const LogEvent& operator[](size_t i) const { return events_[i]; }
  std::span<LogEvent> events() { return {events_.data(), size_}; }
  std::span<const LogEvent> events() const { return {events_.data(), size_}; }
  // Events kept for reuse, live or not.
  size_t capacity() const { return events_.size(); }

 private:
  std::vector<LogEvent> events_;  // [0, size_) live; the rest kept for reuse
  size_t size_ = 0;
};

}  // namespace lakelog::buffer
