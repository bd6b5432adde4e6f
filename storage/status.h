// Outcome of a store operation: a code and a message a person can act on.
#pragma once

#include <string>
#include <utility>

namespace relais::store {

enum class StatusCode {
  kOk,
  kInvalidArgument,  // malformed URI, bad stream name, bad option
  kUnknownScheme,    // no backend registered for the URI scheme
  kUnavailable,      // the store cannot be reached (now)
  kCancelled,        // a blocking call was interrupted by cancel()
  kTimeout,          // nothing arrived in time
  kInternal,
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return {}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace relais::store
