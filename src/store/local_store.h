// LocalStore: the local filesystem as an ObjectStore. A name that is a file lists as itself
// (an explicitly named file is always read); a directory lists recursively, in name order, the
// files flowlog::IsFlowLogObject takes by their path below it (`.log` or `.log.gz`, not under its
// `moat/`: as a bucket's moat/, or the default state directory's parent listed). StdinStream reads standard input
// (`-`). Errors name the path and the system's reason.
#pragma once

#include <memory>
#include <string>

#include "base/byte_stream.h"

namespace moat::store {

class LocalStore : public ObjectStore {
 public:
  Result<std::vector<ObjectInfo>> List(const std::string& path) override;
  Result<std::unique_ptr<ByteStream>> Open(const std::string& path) override;
};

// Reads file descriptor 0. Not owned: closing is left to the process.
std::unique_ptr<ByteStream> NewStdinStream();

}  // namespace moat::store
