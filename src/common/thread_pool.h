// ThreadPool: a fixed set of worker threads, owned by whoever runs tasks on them (a Delta
// table: its file writers and its fsyncs), instead of threads started and joined per call.
// The threads start on the first Schedule(), so an owner that never schedules costs none.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace lakelog {

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads) : size_(threads == 0 ? 1 : threads) {}
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  // Runs every task already scheduled, then joins the threads.
  ~ThreadPool() {
    {
      MutexLock lock(&mu_);
      stop_ = true;
    }
    work_.SignalAll();
    for (std::thread& thread : threads_) thread.join();
  }

  size_t size() const { return size_; }

  // Runs `task` on one of the threads. Tasks must not throw; they run in no particular order
  // relative to each other.
  void Schedule(std::function<void()> task) EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      if (threads_.empty()) {
        for (size_t t = 0; t < size_; ++t) threads_.emplace_back([this] { Run(); });
      }
      queue_.push_back(std::move(task));
    }
    work_.Signal();
  }

 private:
  void Run() EXCLUDES(mu_) {
    while (true) {
      std::function<void()> task;
      {
        MutexLock lock(&mu_);
        while (!stop_ && queue_.empty()) work_.Wait(&mu_);
        if (queue_.empty()) return;  // stopping, and nothing left
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  const size_t size_;
  Mutex mu_;
  CondVar work_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  // Started by the first Schedule(); joined by the destructor (which no Schedule() races).
  std::vector<std::thread> threads_ GUARDED_BY(mu_);
};

}  // namespace lakelog
