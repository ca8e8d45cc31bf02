// Fuzz target for the event parser (S3 / SQS / SNS / EventBridge JSON): any bytes give work or a
// one-line error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "events/events.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto work = moat::events::ParseEvent(std::string_view(reinterpret_cast<const char*>(data), size), "event");
  if (!work && work.error().message.find('\n') != std::string::npos) __builtin_trap();
  return 0;
}
