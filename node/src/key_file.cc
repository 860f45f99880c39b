#include "node/key_file.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace node {
using state::make_error;
using state::Reason;

state::SecretKey generate_secret_key() {
  state::SecretKey key;
  do {
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) std::abort();
  } while (!state::check_secret_key(key).ok());
  return key;
}

state::Result<state::SecretKey> read_key_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return make_error(Reason::BadKey, "cannot read key file " + path + ": " + std::strerror(errno));
  std::stringstream content;
  content << in.rdbuf();
  auto key = state::parse_secret_key(content.str());
  if (!key) return make_error(Reason::BadKey, path + ": " + key.error().message);
  return key;
}

state::Status write_key_file(const std::string& path, const state::SecretKey& key) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, S_IRUSR | S_IWUSR);
  if (fd < 0)
    return make_error(Reason::BadKey,
                      "cannot create key file " + path + ": " + std::strerror(errno));
  std::string line = state::to_hex(key) + "\n";
  bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  // The umask may have narrowed the mode, never widened it; make it exactly 0600.
  bool chmodded = ::fchmod(fd, S_IRUSR | S_IWUSR) == 0;
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !chmodded || !synced)
    return make_error(Reason::BadKey, "cannot write key file " + path);
  return state::Status::Ok();
}

}  // namespace node
