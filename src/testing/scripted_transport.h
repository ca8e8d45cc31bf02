// Test helper: an HTTP transport that answers from a queue of scripted responses and records the
// requests it was given. An exhausted script answers with a transient error.
#pragma once

#include <deque>
#include <vector>

#include "http/transport.h"

namespace moat::testing {

class ScriptedTransport : public http::Transport {
 public:
  std::deque<http::Response> replies;
  std::vector<http::Request> seen;

  Result<http::Response> Send(const http::Request& r) override {
    seen.push_back(r);
    if (replies.empty()) return Fail(Transient("no reply scripted"));
    http::Response x = replies.front();
    replies.pop_front();
    return x;
  }
};

}  // namespace moat::testing
