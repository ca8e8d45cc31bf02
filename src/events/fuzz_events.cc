// Fuzz target for the event parser (S3 / SQS / SNS / EventBridge JSON): any bytes give work or a
// one-line error (and one-line refusals), never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "events/events.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const moat::events::Sources sources{{"flow-logs"}};
  auto work = moat::events::ParseEvent(std::string_view(reinterpret_cast<const char*>(data), size), "event", sources);
  if (!work && work.error().message.find('\n') != std::string::npos) __builtin_trap();
  if (work) {
    for (const std::string& line : work->refused) {
      if (line.find('\n') != std::string::npos) __builtin_trap();
    }
  }
  return 0;
}
