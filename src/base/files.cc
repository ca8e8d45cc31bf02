#include "base/files.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace moat {

Status MakeDirectories(const std::filesystem::path& dir) {
  if (dir.empty()) return {};
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return Fail(InvalidInput(dir.string() + ": not a directory"));
  }
  if (dir.has_relative_path() && dir.parent_path() != dir) {
    if (Status s = MakeDirectories(dir.parent_path()); !s) return s;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    const int e = errno;
    const ErrorCode code = e == EACCES || e == EPERM || e == EROFS ? ErrorCode::kDenied : ErrorCode::kInvalidInput;
    return Fail(Error{code, "cannot create directory " + dir.string() + ": " + std::strerror(e)});
  }
  return {};
}

}  // namespace moat
