#include "state/lthash.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>

#include "state/keccak.h"

namespace state {
namespace {

// Expands a digest into kLanes little-endian 16-bit lanes.
void expand(const Hash256& element, std::array<std::uint16_t, LtHash16::kLanes>& lanes) {
  // One cipher context per thread, re-keyed per element (re-keying is cheap; creating is not).
  thread_local struct Context {
    EVP_CIPHER_CTX* ctx = [] {
      EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
      if (!c || EVP_EncryptInit_ex(c, EVP_aes_256_ctr(), nullptr, nullptr, nullptr) != 1) std::abort();
      return c;
    }();
    ~Context() { EVP_CIPHER_CTX_free(ctx); }
  } context;
  static const std::uint8_t zeros[LtHash16::kLanes * 2] = {};
  static const std::uint8_t iv[16] = {};  // counter block starts at zero
  std::uint8_t stream[LtHash16::kLanes * 2];
  int len = 0;
  if (EVP_EncryptInit_ex(context.ctx, nullptr, nullptr, element.data(), iv) != 1 ||
      EVP_EncryptUpdate(context.ctx, stream, &len, zeros, sizeof zeros) != 1 || len != sizeof zeros)
    std::abort();  // OpenSSL without AES-256-CTR cannot run this node at all
  std::memcpy(lanes.data(), stream, sizeof stream);
}

}  // namespace

void LtHash16::add(const Hash256& element) {
  std::array<std::uint16_t, kLanes> lanes;
  expand(element, lanes);
  for (std::size_t i = 0; i < kLanes; ++i) lanes_[i] = static_cast<std::uint16_t>(lanes_[i] + lanes[i]);
}

void LtHash16::remove(const Hash256& element) {
  std::array<std::uint16_t, kLanes> lanes;
  expand(element, lanes);
  for (std::size_t i = 0; i < kLanes; ++i) lanes_[i] = static_cast<std::uint16_t>(lanes_[i] - lanes[i]);
}

Hash256 LtHash16::checksum() const {
  return keccak256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(lanes_.data()), kLanes * 2));
}

}  // namespace state
