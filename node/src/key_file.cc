#include "node/key_file.h"

#include "node/atomic_file.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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
  // Owner-only from the first byte, and never over an existing key.
  auto written = write_file_atomically(path, state::to_hex(key) + "\n", S_IRUSR | S_IWUSR,
                                       /*replace=*/false);
  if (!written) return make_error(Reason::BadKey, written.error().message);
  return state::Status::Ok();
}

state::Status check_key_file_private(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return make_error(Reason::BadKey, "cannot read key file " + path + ": " + std::strerror(errno));
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(Reason::BadKey, "key file " + path + " is open to other users (mode " + mode +
                                          "): run chmod 600 " + path);
  }
  return state::Status::Ok();
}

}  // namespace node
