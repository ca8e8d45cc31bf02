// Test helper: a fake environment for code that reads variables through a getenv function.
#pragma once

#include <functional>
#include <map>
#include <string>

namespace moat::testing {

struct Env {
  std::map<std::string, std::string> vars;
  std::function<const char*(const char*)> getter() const {
    return [this](const char* n) -> const char* {
      auto it = vars.find(n);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

}  // namespace moat::testing
