// Status and Result<T>: the error currency of lakelog.
//
// No exception crosses the library boundary. Functions that can fail return a Status (or a
// Result<T> carrying a value on success). An OK Status is a null pointer, so returning success
// costs nothing.
#pragma once

#include <cassert>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace lakelog {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,    // the caller's input is wrong; retrying will not help
  kNotFound,           // a file, table or key does not exist
  kAlreadyExists,      // put-if-absent found the target taken
  kIOError,            // the storage layer failed (EIO, short write, ...)
  kCorruption,         // data on disk does not parse or fails a checksum
  kConflict,           // a concurrent writer changed what this operation depends on
  kUnavailable,        // a service or sink is temporarily down
  kResourceExhausted,  // disk full, buffer full, quota
  kNotSupported,       // a format feature or option we do not implement
  kInternal,           // a bug: an invariant did not hold
  kTimedOut,           // a deadline passed before the operation finished
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(StatusCode code, std::string_view message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string_view msg) {
    return {StatusCode::kInvalidArgument, msg};
  }
  static Status NotFound(std::string_view msg) { return {StatusCode::kNotFound, msg}; }
  static Status AlreadyExists(std::string_view msg) { return {StatusCode::kAlreadyExists, msg}; }
  static Status IOError(std::string_view msg) { return {StatusCode::kIOError, msg}; }
  static Status Corruption(std::string_view msg) { return {StatusCode::kCorruption, msg}; }
  static Status Conflict(std::string_view msg) { return {StatusCode::kConflict, msg}; }
  static Status Unavailable(std::string_view msg) { return {StatusCode::kUnavailable, msg}; }
  static Status ResourceExhausted(std::string_view msg) {
    return {StatusCode::kResourceExhausted, msg};
  }
  static Status NotSupported(std::string_view msg) { return {StatusCode::kNotSupported, msg}; }
  static Status Internal(std::string_view msg) { return {StatusCode::kInternal, msg}; }
  static Status TimedOut(std::string_view msg) { return {StatusCode::kTimedOut, msg}; }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // Empty for OK.
  const std::string& message() const;

  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsAlreadyExists() const { return code() == StatusCode::kAlreadyExists; }
  bool IsConflict() const { return code() == StatusCode::kConflict; }
  bool IsCorruption() const { return code() == StatusCode::kCorruption; }

  // True when the same operation may succeed if tried again later: I/O errors, conflicts,
  // unavailability, exhausted resources and time-outs. Bad input and corruption are final.
  bool retryable() const;

  // "IOError: message", or "OK".
  std::string ToString() const;

  // Returns a copy with "context: " put in front of the message; OK stays OK.
  Status WithContext(std::string_view context) const;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok() && "Result built from an OK Status has no value");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // Precondition: ok().
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace lakelog

#define LAKELOG_CONCAT_INNER_(a, b) a##b
#define LAKELOG_CONCAT_(a, b) LAKELOG_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` (a Status) is not OK.
#define LAKELOG_RETURN_IF_ERROR(expr)          \
  do {                                         \
    ::lakelog::Status _lakelog_st = (expr);    \
    if (!_lakelog_st.ok()) return _lakelog_st; \
  } while (0)

// `LAKELOG_ASSIGN_OR_RETURN(auto x, Compute());` binds the value or returns the Status.
#define LAKELOG_ASSIGN_OR_RETURN(lhs, expr) \
  LAKELOG_ASSIGN_OR_RETURN_IMPL_(LAKELOG_CONCAT_(_lakelog_res_, __LINE__), lhs, expr)
#define LAKELOG_ASSIGN_OR_RETURN_IMPL_(res, lhs, expr) \
  auto res = (expr);                                   \
  if (!res.ok()) return res.status();                  \
  lhs = std::move(res).value()
