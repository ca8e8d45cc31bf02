// Error: the one error vocabulary of moat. A code chosen by what the caller does next, and a
// one-line message that says where and why. Values; cheap to copy; no exceptions cross modules.
#pragma once

#include <string>
#include <string_view>

namespace moat {

enum class ErrorCode {
  kInvalidInput,  // the input is wrong: report it, do not retry
  kNotFound,      // the thing asked for does not exist
  kTransient,     // may succeed later: retry with backoff
  kDenied,        // credentials or permissions: report, do not retry
  kConflict,      // already done / already exists: treat as converged
  kInternal,      // a bug or an impossible state
};

std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // Prefixes the message with "what: " (e.g. a file name or request name).
  Error&& Context(std::string_view what) &&;
};

inline Error InvalidInput(std::string message) { return {ErrorCode::kInvalidInput, std::move(message)}; }
inline Error NotFound(std::string message) { return {ErrorCode::kNotFound, std::move(message)}; }
inline Error Transient(std::string message) { return {ErrorCode::kTransient, std::move(message)}; }
inline Error Internal(std::string message) { return {ErrorCode::kInternal, std::move(message)}; }

}  // namespace moat
