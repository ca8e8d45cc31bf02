#include "base/error.h"

namespace moat {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput:
      return "invalid input";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kTransient:
      return "transient";
    case ErrorCode::kDenied:
      return "denied";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

Error&& Error::Context(std::string_view what) && {
  message = std::string(what) + ": " + message;
  return std::move(*this);
}

}  // namespace moat
