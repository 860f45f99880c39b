#include "state/lthash.h"

#include <cpuid.h>
#include <immintrin.h>
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
constexpr std::size_t kBlocks = LtHash16::kLanes * 2 / 16;  // AES blocks per expansion

// The initial counter block, element[16..32), as its big-endian high and low halves.
std::uint64_t counter_half(const Hash256& element, int half) {
  std::uint64_t v = 0;
  for (int i = 16 + 8 * half; i < 24 + 8 * half; ++i) v = v << 8 | element.data()[i];
  return v;
}

bool counter_carries_past_64_bits(const Hash256& element) {
  return counter_half(element, 1) > ~std::uint64_t{0} - (kBlocks - 1);
}

// ---- AES-NI with 512-bit VAES: four counter blocks per instruction, the keystream added into
// the lanes while still in registers. Computes exactly the bytes of the portable path below.

#define PERPD_VAES_TARGET __attribute__((target("aes,avx512f,avx512bw,vaes")))
// GCC 12's _mm512_broadcast_i32x4 starts from an undefined register and trips -Wuninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"

PERPD_VAES_TARGET inline __m128i next_round_key(__m128i key, __m128i assist) {
  assist = _mm_shuffle_epi32(assist, 0xff);
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  return _mm_xor_si128(key, assist);
}

// sign: +1 adds the element, -1 removes it. Requires a counter whose low 64 bits do not wrap
// within the expansion (counter_carries_past_64_bits false).
PERPD_VAES_TARGET void accumulate_vaes(std::uint16_t* lanes, const Hash256& element, int sign) {
  __m128i rk[11];
  rk[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(element.data()));
#define PERPD_ROUND_KEY(i, rcon) \
  rk[i] = next_round_key(rk[i - 1], _mm_aeskeygenassist_si128(rk[i - 1], rcon))
  PERPD_ROUND_KEY(1, 0x01);
  PERPD_ROUND_KEY(2, 0x02);
  PERPD_ROUND_KEY(3, 0x04);
  PERPD_ROUND_KEY(4, 0x08);
  PERPD_ROUND_KEY(5, 0x10);
  PERPD_ROUND_KEY(6, 0x20);
  PERPD_ROUND_KEY(7, 0x40);
  PERPD_ROUND_KEY(8, 0x80);
  PERPD_ROUND_KEY(9, 0x1b);
  PERPD_ROUND_KEY(10, 0x36);
#undef PERPD_ROUND_KEY
  __m512i keys[11];
  for (int i = 0; i < 11; ++i) keys[i] = _mm512_broadcast_i32x4(rk[i]);

  // The counter block is big-endian; hold it little-endian (low qword first) per 128-bit lane and
  // byte-reverse each lane before encrypting.
  const std::uint64_t high = counter_half(element, 0), low = counter_half(element, 1);
  const __m512i reverse =
      _mm512_broadcast_i32x4(_mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
  __m512i counter = _mm512_set_epi64(static_cast<long long>(high), static_cast<long long>(low + 3),
                                     static_cast<long long>(high), static_cast<long long>(low + 2),
                                     static_cast<long long>(high), static_cast<long long>(low + 1),
                                     static_cast<long long>(high), static_cast<long long>(low));
  const __m512i step = _mm512_set_epi64(0, 4, 0, 4, 0, 4, 0, 4);

  constexpr int kWide = 4;  // independent 4-block groups in flight, to cover vaesenc latency
  auto* out = reinterpret_cast<__m512i*>(lanes);
  for (std::size_t group = 0; group < kBlocks / 4; group += kWide) {
    __m512i b[kWide];
    for (int j = 0; j < kWide; ++j) {
      b[j] = _mm512_xor_si512(_mm512_shuffle_epi8(counter, reverse), keys[0]);
      counter = _mm512_add_epi64(counter, step);
    }
    for (int r = 1; r < 10; ++r)
      for (int j = 0; j < kWide; ++j) b[j] = _mm512_aesenc_epi128(b[j], keys[r]);
    for (int j = 0; j < kWide; ++j) {
      b[j] = _mm512_aesenclast_epi128(b[j], keys[10]);
      __m512i sum = _mm512_loadu_si512(out + group + j);
      sum = sign > 0 ? _mm512_add_epi16(sum, b[j]) : _mm512_sub_epi16(sum, b[j]);
      _mm512_storeu_si512(out + group + j, sum);
    }
  }
}

#pragma GCC diagnostic pop

bool cpu_has_vaes() {
  // clang 14's __builtin_cpu_supports knows no "vaes": read CPUID leaf 7 (ECX bit 9) directly;
  // the avx512 checks also confirm the OS saves the 512-bit registers.
  static const bool has = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    const bool vaes = __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (ecx >> 9 & 1) != 0;
    return vaes && __builtin_cpu_supports("aes") && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw");
  }();
  return has;
}

// ---- Portable: OpenSSL's AES-128-CTR writes the keystream into a buffer, added afterwards.
void expand_evp(const Hash256& element, Lanes& lanes) {
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

void accumulate_evp(std::uint16_t* sum, const Hash256& element, int sign) {
  Lanes lanes;
  expand_evp(element, lanes);
  for (std::size_t i = 0; i < LtHash16::kLanes; ++i)
    sum[i] = static_cast<std::uint16_t>(sign > 0 ? sum[i] + lanes[i] : sum[i] - lanes[i]);
}

}  // namespace

namespace lthash_detail {

void accumulate(std::uint16_t* lanes, const Hash256& element, int sign, Path path) {
  const bool vaes = path == Path::Vaes || (path == Path::Best && cpu_has_vaes());
  if (vaes && !counter_carries_past_64_bits(element))
    accumulate_vaes(lanes, element, sign);
  else
    accumulate_evp(lanes, element, sign);
}

bool vaes_available() {
  return cpu_has_vaes();
}

}  // namespace lthash_detail

void LtHash16::add(const Hash256& element) {
  lthash_detail::accumulate(lanes_.data(), element, +1);
}

void LtHash16::remove(const Hash256& element) {
  lthash_detail::accumulate(lanes_.data(), element, -1);
}

void LtHash16::replace(const Hash256& old_element, const Hash256& new_element) {
  lthash_detail::accumulate(lanes_.data(), old_element, -1);
  lthash_detail::accumulate(lanes_.data(), new_element, +1);
}

Hash256 LtHash16::checksum() const {
  return sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(lanes_.data()),
                                              kLanes * 2));
}

}  // namespace state
