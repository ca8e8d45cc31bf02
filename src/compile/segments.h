// Segments (internal to src/compile): a target's rule contributions -> its allow entries. The
// ports are cut into disjoint ranges per protocol, each with the union of the sources that reach
// it, minus what override-deny rules remove there; where contributions apply to some of the
// target's addresses only, the addresses are cut the same way and each part gets its entries.
#pragma once

#include <vector>

#include "compile/compile.h"

namespace moat::compile {

// One rule's contribution to a target.
struct Contribution {
  const policy::Rule* rule;
  policy::PortSpec ports;
  const net::AddressSet* sources;  // borrowed from the compiler's caches
  const net::AddressSet* to;       // the target's addresses it applies to; nullptr: all of them
};

// REQUIRES: every `to` is a subset of `addresses`.
std::vector<AllowEntry> AllowEntries(const net::AddressSet& addresses, const std::vector<Contribution>& allows,
                                     const std::vector<Contribution>& overrides);

}  // namespace moat::compile
