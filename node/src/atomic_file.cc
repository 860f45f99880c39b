#include "node/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace node {

state::Status write_file_atomically(const std::string& path, std::string_view text, mode_t mode,
                                    bool replace) {
  auto failed = [&](const std::string& what) {
    return state::make_error(state::Reason::StorageError,
                             "cannot write " + path + ": " + what + ": " + std::strerror(errno));
  };
  const std::string temporary = path + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return failed("create " + temporary);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  // The umask may have narrowed the mode, never widened it: make it exactly mode.
  const bool ok = done == text.size() && ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(temporary.c_str());
    errno = saved;
    return failed("write");
  }
  // link() refuses an existing path, rename() replaces it; either is atomic.
  const bool placed = replace ? ::rename(temporary.c_str(), path.c_str()) == 0
                              : ::link(temporary.c_str(), path.c_str()) == 0;
  const int place_errno = errno;
  if (!replace || !placed) ::unlink(temporary.c_str());
  if (!placed) {
    errno = place_errno;
    return failed(replace ? "rename" : "create");
  }
  std::string folder = std::filesystem::path(path).parent_path().string();
  if (folder.empty()) folder = ".";
  if (int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    const bool synced = ::fsync(dir) == 0;
    ::close(dir);
    if (!synced) return failed("fsync " + folder);
  }
  return state::Status::Ok();
}

}  // namespace node
