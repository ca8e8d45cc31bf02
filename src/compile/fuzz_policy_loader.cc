// libFuzzer target for the policy loader: any bytes as a policy bundle must load or fail with an
// Error naming where — never crash; and a policy that loads must compile.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "compile/compile.h"
#include "policy/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = moat::policy::LoadBundle(text, "fuzz.json", "active");
  if (policy) {
    (void)moat::compile::Compile(*policy);
  } else if (policy.error().message.empty()) {
    __builtin_trap();  // every failure says why
  }
  return 0;
}
