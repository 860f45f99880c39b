// secp256k1 keys, signatures and Ethereum addresses against published vectors.
#include <catch2/catch.hpp>

#include "state/crypto.h"
#include "state/keccak.h"

using namespace state;

namespace {
SecretKey key_from_hex(std::string_view hex) {
  return *parse_secret_key(hex);
}
}  // namespace

TEST_CASE("address of well-known private keys", "[crypto]") {
  // Private key 1: the generator point's address.
  CHECK(to_checksum_address(address_of(
            key_from_hex("0x0000000000000000000000000000000000000000000000000000000000000001"))) ==
        "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
  // The web3.js accounts documentation key.
  CHECK(to_checksum_address(address_of(
            key_from_hex("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"))) ==
        "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
}

TEST_CASE("EIP-55 checksum vectors from the EIP", "[crypto]") {
  for (std::string_view expected :
       {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0xde709f2102306220921060314715629080e2fb77"}) {
    std::string lower(expected);
    for (auto& c : lower) c = static_cast<char>(std::tolower(c));
    auto parsed = parse_address(lower);
    REQUIRE(parsed.ok());
    CHECK(to_checksum_address(*parsed) == expected);
  }
}

TEST_CASE("parse_address accepts any case and rejects bad hex", "[crypto]") {
  CHECK(parse_address("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED").ok());
  CHECK(parse_address("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").reason() == Reason::BadHex);
  CHECK(parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA").reason() == Reason::BadHex);
  CHECK(parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeZ").reason() == Reason::BadHex);
}

TEST_CASE("hex decoding: every digit case - and one bad character anywhere is BadHex", "[crypto]") {
  const std::string digits = "0x09afAF10" + std::string(24, '0');
  auto both = parse_fixed_hex<16>(digits);
  REQUIRE(both.ok());
  CHECK(both->bytes[0] == 0x09);
  CHECK(both->bytes[1] == 0xaf);
  CHECK(both->bytes[2] == 0xaf);
  CHECK(both->bytes[3] == 0x10);
  // The characters just outside each digit range, a space and a byte above ASCII.
  for (char bad : std::string("/:@G`g \xff")) {
    for (std::size_t at = 2; at < digits.size(); ++at) {
      std::string text = digits;
      text[at] = bad;
      INFO(text);
      CHECK(parse_fixed_hex<16>(text).reason() == Reason::BadHex);
    }
  }
}

TEST_CASE("secret keys: zero and the group order are rejected", "[crypto]") {
  CHECK(parse_secret_key("0x0000000000000000000000000000000000000000000000000000000000000000")
            .reason() == Reason::BadKey);
  CHECK(parse_secret_key("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
            .reason() == Reason::BadKey);
  CHECK(parse_secret_key("0x1234").reason() == Reason::BadKey);
  CHECK(parse_secret_key("  0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318\n")
            .ok());
}

TEST_CASE("sign and recover: deterministic (RFC 6979) - low-s - recovers the signer", "[crypto]") {
  SecretKey key =
      key_from_hex("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  Hash256 digest = keccak256("perpd");
  Signature a = sign_digest(key, digest);
  Signature b = sign_digest(key, digest);
  CHECK(a == b);
  CHECK((a.v == 27 || a.v == 28));
  auto recovered = recover_address(digest, a);
  REQUIRE(recovered.ok());
  CHECK(*recovered == address_of(key));
  // A different digest recovers some other address.
  auto other = recover_address(keccak256("perpd!"), a);
  CHECK((!other.ok() || *other != address_of(key)));
}

TEST_CASE("signature parsing: length - v - high-s - zero r", "[crypto]") {
  SecretKey key =
      key_from_hex("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  Signature sig = sign_digest(key, keccak256("x"));
  auto bytes = sig.to_bytes();

  CHECK(parse_signature(std::span(bytes.bytes).first(64)).reason() == Reason::BadSignatureLength);

  auto v0 = bytes;
  v0.bytes[64] = static_cast<std::uint8_t>(sig.v - 27);  // 0/1 accepted, normalized to 27/28
  auto parsed = parse_signature(v0.bytes);
  REQUIRE(parsed.ok());
  CHECK(parsed->v == sig.v);

  auto bad_v = bytes;
  bad_v.bytes[64] = 29;
  CHECK(parse_signature(bad_v.bytes).reason() == Reason::BadRecoveryId);

  // s' = n - s is the malleable twin: rejected as HighS.
  static const std::uint8_t kOrder[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
                                          0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
                                          0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
  auto high = bytes;
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = kOrder[i] - bytes.bytes[32 + i] - borrow;
    borrow = d < 0;
    high.bytes[32 + i] = static_cast<std::uint8_t>(d + (borrow ? 256 : 0));
  }
  CHECK(parse_signature(high.bytes).reason() == Reason::HighS);

  auto zero_r = bytes;
  std::fill(zero_r.bytes.begin(), zero_r.bytes.begin() + 32, 0);
  CHECK(parse_signature(zero_r.bytes).reason() == Reason::BadSignature);

  CHECK(parse_signature_hex("0x12").reason() == Reason::BadSignatureLength);
  CHECK(parse_signature_hex("0xzz").reason() == Reason::BadHex);
  CHECK(parse_signature_hex(sig.to_hex()).ok());
}
