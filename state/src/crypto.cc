#include "state/crypto.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <cctype>
#include <cstring>

#include "state/keccak.h"

namespace state {
namespace {

// Half the secp256k1 group order, big-endian: signatures with s above it are the malleable twin.
constexpr std::uint8_t kHalfOrder[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

// One context for the process: created once, never mutated after randomization, so it is safe
// to share across threads for signing, verification and recovery.
const secp256k1_context* context() {
  static const secp256k1_context* ctx = [] {
    return secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
  }();
  return ctx;
}

PublicKey serialize(const secp256k1_pubkey& pubkey) {
  std::uint8_t serialized[65];  // 0x04 || X || Y
  std::size_t len = sizeof serialized;
  secp256k1_ec_pubkey_serialize(context(), serialized, &len, &pubkey, SECP256K1_EC_UNCOMPRESSED);
  PublicKey key;
  std::memcpy(key.data(), serialized + 1, 64);
  return key;
}

Address address_of_pubkey(const secp256k1_pubkey& pubkey) {
  return address_of_public_key_hash(keccak256(serialize(pubkey).bytes));
}

}  // namespace

FixedBytes<65> Signature::to_bytes() const {
  FixedBytes<65> out;
  std::memcpy(out.data(), r.data(), 32);
  std::memcpy(out.data() + 32, s.data(), 32);
  out.bytes[64] = v;
  return out;
}

std::string Signature::to_hex() const {
  return state::to_hex(to_bytes());
}

Result<Signature> parse_signature(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != 65)
    return make_error(Reason::BadSignatureLength,
                      "signature must be 65 bytes, got " + std::to_string(bytes.size()));
  Signature sig;
  std::memcpy(sig.r.data(), bytes.data(), 32);
  std::memcpy(sig.s.data(), bytes.data() + 32, 32);
  std::uint8_t v = bytes[64];
  if (v == 0 || v == 1) v += 27;
  if (v != 27 && v != 28) return make_error(Reason::BadRecoveryId, "v must be 27, 28, 0 or 1");
  sig.v = v;
  if (std::memcmp(sig.s.data(), kHalfOrder, 32) > 0)
    return make_error(Reason::HighS, "s is above half the curve order");
  secp256k1_ecdsa_recoverable_signature parsed;
  if (sig.r.is_zero() || sig.s.is_zero() ||
      !secp256k1_ecdsa_recoverable_signature_parse_compact(context(), &parsed, bytes.data(),
                                                           v - 27))
    return make_error(Reason::BadSignature, "r or s is zero or not below the curve order");
  return sig;
}

Result<Signature> parse_signature_hex(std::string_view text) {
  auto bytes = parse_hex(text);
  if (!bytes) return bytes.error();
  return parse_signature(*bytes);
}

Status check_secret_key(const SecretKey& key) {
  if (!secp256k1_ec_seckey_verify(context(), key.data()))
    return make_error(Reason::BadKey, "not a valid secp256k1 private key");
  return Status::Ok();
}

Result<SecretKey> parse_secret_key(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  auto key = parse_fixed_hex<32>(text);
  if (!key) return make_error(Reason::BadKey, "key must be 0x plus 64 hex digits");
  PERPD_TRY(check_secret_key(*key));
  return *key;
}

Signature sign_digest(const SecretKey& key, const Hash256& digest) {
  secp256k1_ecdsa_recoverable_signature raw;
  // A null nonce function selects RFC 6979; libsecp256k1 always produces low-s.
  int signed_ok = secp256k1_ecdsa_sign_recoverable(context(), &raw, digest.data(), key.data(),
                                                   nullptr, nullptr);
  if (!signed_ok) std::abort();  // only on an invalid key, which callers check first
  std::uint8_t compact[64];
  int recid = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(context(), compact, &recid, &raw);
  Signature sig;
  std::memcpy(sig.r.data(), compact, 32);
  std::memcpy(sig.s.data(), compact + 32, 32);
  sig.v = static_cast<std::uint8_t>(27 + recid);
  return sig;
}

Result<PublicKey> recover_public_key(const Hash256& digest, const Signature& signature) {
  std::uint8_t compact[64];
  std::memcpy(compact, signature.r.data(), 32);
  std::memcpy(compact + 32, signature.s.data(), 32);
  secp256k1_ecdsa_recoverable_signature raw;
  secp256k1_pubkey pubkey;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(context(), &raw, compact,
                                                           signature.v - 27) ||
      !secp256k1_ecdsa_recover(context(), &pubkey, &raw, digest.data()))
    return make_error(Reason::BadSignature, "no public key recovers from this signature");
  return serialize(pubkey);
}

Address address_of_public_key_hash(const Hash256& public_key_hash) {
  Address address;
  std::memcpy(address.data(), public_key_hash.data() + 12, 20);
  return address;
}

Result<Address> recover_address(const Hash256& digest, const Signature& signature) {
  auto key = recover_public_key(digest, signature);
  if (!key) return key.error();
  return address_of_public_key_hash(keccak256(key->bytes));
}

Address address_of(const SecretKey& key) {
  secp256k1_pubkey pubkey;
  if (!secp256k1_ec_pubkey_create(context(), &pubkey, key.data())) std::abort();
  return address_of_pubkey(pubkey);
}

std::string to_checksum_address(const Address& address) {
  std::string hex = to_hex(address);
  Hash256 hash = keccak256(std::string_view(hex).substr(2));
  for (std::size_t i = 0; i < 40; ++i) {
    char& c = hex[2 + i];
    std::uint8_t nibble = (hash.bytes[i / 2] >> (i % 2 ? 0 : 4)) & 15;
    if (c >= 'a' && c <= 'f' && nibble >= 8) c = static_cast<char>(c - 'a' + 'A');
  }
  return hex;
}

Result<Address> parse_address(std::string_view text) {
  return parse_fixed_hex<20>(text);
}

}  // namespace state
