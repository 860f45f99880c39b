// secp256k1 keys, recoverable ECDSA signatures (RFC 6979 nonces) and Ethereum addresses, through
// libsecp256k1 and its recovery module.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "state/bytes.h"

namespace state {

using SecretKey = FixedBytes<32>;

// A 65-byte Ethereum signature r || s || v with v normalized to 27 or 28.
struct Signature {
  Hash256 r;
  Hash256 s;
  std::uint8_t v = 27;

  FixedBytes<65> to_bytes() const;
  std::string to_hex() const;
  auto operator<=>(const Signature&) const = default;
};

// Parses r || s || v: v may be 0/1 or 27/28 (normalized to 27/28). Returns BadSignatureLength,
// BadRecoveryId, HighS (s above n/2), or BadSignature (r or s zero or not below n).
Result<Signature> parse_signature(std::span<const std::uint8_t> bytes);
// The same from 0x-hex text; BadHex for malformed hex.
Result<Signature> parse_signature_hex(std::string_view text);

// Returns BadKey unless the key is a valid scalar (nonzero, below the curve order).
Status check_secret_key(const SecretKey& key);

// Parses a key file's content: 0x plus 64 hex digits, optional surrounding whitespace.
Result<SecretKey> parse_secret_key(std::string_view text);

// Signs a 32-byte digest (RFC 6979 deterministic nonce, low-s). The key must pass check_secret_key.
Signature sign_digest(const SecretKey& key, const Hash256& digest);

// Recovers the signer's address; BadSignature when no key recovers.
Result<Address> recover_address(const Hash256& digest, const Signature& signature);
// The recovered public key as the 64 bytes X || Y (big-endian) whose keccak256 ends in the
// address; for callers that hash many keys at once.
using PublicKey = FixedBytes<64>;
Result<PublicKey> recover_public_key(const Hash256& digest, const Signature& signature);
Address address_of_public_key_hash(const Hash256& public_key_hash);

Address address_of(const SecretKey& key);

// EIP-55 mixed-case checksum form, 0x-prefixed.
std::string to_checksum_address(const Address& address);
// Accepts any case (SPEC section 2); BadHex when not 20 bytes of hex.
Result<Address> parse_address(std::string_view text);

}  // namespace state
