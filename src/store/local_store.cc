#include "store/local_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "flowlog/object_name.h"

namespace moat::store {
namespace {

namespace fs = std::filesystem;

class FdStream : public ByteStream {
 public:
  FdStream(int fd, std::string name, bool owned) : fd_(fd), name_(std::move(name)), owned_(owned) {}
  ~FdStream() override {
    if (owned_) ::close(fd_);
  }
  Result<size_t> Read(std::span<char> out) override {
    for (;;) {
      const ssize_t n = ::read(fd_, out.data(), out.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      return Fail(InvalidInput(std::strerror(errno)));  // the reader names the stream
    }
  }

 private:
  int fd_;
  std::string name_;
  bool owned_;
};

}  // namespace

Result<std::vector<ObjectInfo>> LocalStore::List(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec) return Fail(NotFound(path + ": " + ec.message()));
  std::vector<ObjectInfo> out;
  if (!fs::is_directory(st)) {
    out.push_back({path, fs::is_regular_file(st) ? fs::file_size(path, ec) : 0});
    return out;
  }
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Fail(InvalidInput(path + ": " + ec.message()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Fail(InvalidInput(path + ": " + ec.message()));
    if (!it->is_regular_file(ec)) continue;
    if (!flowlog::IsFlowLogObject(fs::relative(it->path(), path, ec).generic_string())) continue;
    out.push_back({it->path().string(), it->file_size(ec)});
  }
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.name < b.name; });
  return out;
}

Result<std::unique_ptr<ByteStream>> LocalStore::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(NotFound(path + ": " + std::strerror(errno)));
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<ByteStream>(std::make_unique<FdStream>(fd, path, true));
}

std::unique_ptr<ByteStream> NewStdinStream() { return std::make_unique<FdStream>(0, "-", false); }

}  // namespace moat::store
