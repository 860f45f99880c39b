// SHA-256 through OpenSSL (SHA-NI where the CPU has it): the app hash's record and lane digests.
// The one-shot SHA256() of OpenSSL 3.0 fetches the algorithm on every call (~290 ns for 32
// bytes); a reused EVP context costs ~120 ns for 64 bytes; the low-level SHA256_* calls skip the
// provider layer altogether.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "state/bytes.h"

namespace state {

// The digest of the concatenation of parts (no copy into one buffer).
Hash256 sha256(std::initializer_list<std::span<const std::uint8_t>> parts);
inline Hash256 sha256(std::span<const std::uint8_t> data) {
  return sha256({data});
}
inline std::span<const std::uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

}  // namespace state
