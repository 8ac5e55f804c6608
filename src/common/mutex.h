// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with the thread-safety
// annotations of common/thread_annotations.h, so that clang checks every GUARDED_BY field and
// every REQUIRES function against them (the standard types carry no annotations under
// libstdc++). The same shape as LevelDB's port::Mutex / port::CondVar; no behaviour of their own.
#pragma once

#include <atomic>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/thread_annotations.h"

namespace lakelog {

class CondVar;

// A non-recursive mutex. In builds with assertions it also records its holder, so that
// AssertHeld() checks at run time what REQUIRES lets the compiler check statically.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() {
    mu_.lock();
    SetHolder();
  }
  void Unlock() RELEASE() {
    ClearHolder();
    mu_.unlock();
  }
  // Takes the mutex if nobody holds it; never waits.
  bool TryLock() TRY_ACQUIRE(true) {
    if (!mu_.try_lock()) return false;
    SetHolder();
    return true;
  }
  // Aborts (with assertions on) unless the calling thread holds the mutex; tells the analysis
  // that it does from here on.
  void AssertHeld() const ASSERT_CAPABILITY(this) {
#ifndef NDEBUG
    assert(holder_.load(std::memory_order_relaxed) == std::this_thread::get_id());
#endif
  }

 private:
  friend class CondVar;

  void SetHolder() {
#ifndef NDEBUG
    holder_.store(std::this_thread::get_id(), std::memory_order_relaxed);
#endif
  }
  void ClearHolder() {
#ifndef NDEBUG
    holder_.store(std::thread::id(), std::memory_order_relaxed);
#endif
  }

  std::mutex mu_;
#ifndef NDEBUG
  std::atomic<std::thread::id> holder_{};
#endif
};

// Holds `mu` for its scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable used with a Mutex, as Abseil's CondVar: each wait names the mutex, which
// the caller holds (checked by the analysis) and which is held again when the wait returns.
// Waits may wake spuriously: callers loop on their condition, as with std::condition_variable
// (whose predicate overloads are these loops written out, since the analysis cannot see into
// a predicate lambda).
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void Wait(Mutex* mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    mu->ClearHolder();
    cv_.wait(lock);
    mu->SetHolder();
    lock.release();
  }
  // Returns false when `deadline` passed (the condition may still have become true).
  template <typename Clock, typename Duration>
  bool WaitUntil(Mutex* mu, const std::chrono::time_point<Clock, Duration>& deadline) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    mu->ClearHolder();
    const bool woken = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    mu->SetHolder();
    lock.release();
    return woken;
  }
  // Returns false when `timeout` passed.
  template <typename Rep, typename Period>
  bool WaitFor(Mutex* mu, const std::chrono::duration<Rep, Period>& timeout) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    mu->ClearHolder();
    const bool woken = cv_.wait_for(lock, timeout) == std::cv_status::no_timeout;
    mu->SetHolder();
    lock.release();
    return woken;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace lakelog
