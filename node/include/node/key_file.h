// Key files (SPEC section 6): one secp256k1 private key as 0x plus 64 hex digits on one line,
// readable only by its owner.
#pragma once

#include <string>

#include "state/crypto.h"

namespace node {

// A fresh key from the operating system's CSPRNG (OpenSSL RAND_bytes).
state::SecretKey generate_secret_key();

// Reads and validates a key file; BadKey with the reason (unreadable, malformed, invalid scalar).
state::Result<state::SecretKey> read_key_file(const std::string& path);

// Creates path with mode 0600 and writes the key, whole or not at all; refuses to overwrite an
// existing file.
state::Status write_key_file(const std::string& path, const state::SecretKey& key);

// BadKey naming the file and its mode when group or others may read or write it.
state::Status check_key_file_private(const std::string& path);

}  // namespace node
