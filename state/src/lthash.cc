#include "state/lthash.h"

#include <openssl/evp.h>

#include <bit>
#include <cstdlib>
#include <cstring>

#include "state/sha256.h"

namespace state {
namespace {

static_assert(std::endian::native == std::endian::little,
              "lanes are the keystream's little-endian u16s");
using Lanes = std::array<std::uint16_t, LtHash16::kLanes>;

// Writes the element's keystream straight into lanes (no intermediate buffer).
void expand(const Hash256& element, Lanes& lanes) {
  // One cipher context per thread, re-keyed per element (re-keying costs ~100 ns through the
  // provider layer of OpenSSL 3.0; creating a context costs more).
  thread_local struct Context {
    EVP_CIPHER_CTX* ctx = [] {
      EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
      if (!c || EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), nullptr, nullptr, nullptr) != 1)
        std::abort();
      return c;
    }();
    ~Context() { EVP_CIPHER_CTX_free(ctx); }
  } context;
  static const std::uint8_t zeros[LtHash16::kLanes * 2] = {};
  int len = 0;
  if (EVP_EncryptInit_ex(context.ctx, nullptr, nullptr, element.data(), element.data() + 16) != 1 ||
      EVP_EncryptUpdate(context.ctx, reinterpret_cast<std::uint8_t*>(lanes.data()), &len, zeros,
                        sizeof zeros) != 1 ||
      len != sizeof zeros)
    std::abort();  // OpenSSL without AES-128-CTR cannot run this node at all
}

void add_lanes(Lanes& sum, const Lanes& lanes) {
  for (std::size_t i = 0; i < LtHash16::kLanes; ++i)
    sum[i] = static_cast<std::uint16_t>(sum[i] + lanes[i]);
}
void subtract_lanes(Lanes& sum, const Lanes& lanes) {
  for (std::size_t i = 0; i < LtHash16::kLanes; ++i)
    sum[i] = static_cast<std::uint16_t>(sum[i] - lanes[i]);
}
void replace_lanes(Lanes& sum, const Lanes& old_lanes, const Lanes& new_lanes) {
  for (std::size_t i = 0; i < LtHash16::kLanes; ++i)
    sum[i] = static_cast<std::uint16_t>(sum[i] + new_lanes[i] - old_lanes[i]);
}

}  // namespace

void LtHash16::add(const Hash256& element) {
  Lanes lanes;
  expand(element, lanes);
  add_lanes(lanes_, lanes);
}

void LtHash16::remove(const Hash256& element) {
  Lanes lanes;
  expand(element, lanes);
  subtract_lanes(lanes_, lanes);
}

void LtHash16::replace(const Hash256& old_element, const Hash256& new_element) {
  Lanes old_lanes, new_lanes;
  expand(old_element, old_lanes);
  expand(new_element, new_lanes);
  replace_lanes(lanes_, old_lanes, new_lanes);
}

Hash256 LtHash16::checksum() const {
  return sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(lanes_.data()),
                                              kLanes * 2));
}

}  // namespace state
