// Signed action envelopes (SPEC section 3): {"action": {...}, "nonce": N, "signature": "0x..."}.
// Decoding and verification are stateless: they need only the chain id, so the mempool runs them
// once per envelope on any core, and execution takes the recovered signer with the action.
#pragma once

#include <array>
#include <boost/json/fwd.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "state/actions.h"
#include "state/crypto.h"
#include "state/plain_json.h"

namespace state {

inline constexpr std::size_t kMaxEnvelopeBytes = 64 * 1024;
inline constexpr unsigned kMaxJsonDepth = 16;

struct SignedAction {
  Action action;
  std::uint64_t nonce = 0;
  Signature signature;
  bool operator==(const SignedAction&) const = default;
};

// An envelope whose signature recovered; signer and tx hash travel with it from here on.
struct VerifiedAction {
  SignedAction signed_action;
  Address signer;
  Hash256 digest;   // the EIP-712 digest that was signed
  Hash256 tx_hash;  // keccak256(digest || r || s || v): names the transaction everywhere
};

// JSON text -> SignedAction, syntax only (no recovery). Returns EnvelopeTooLarge, BadJson
// (including nesting deeper than kMaxJsonDepth), MissingField, UnknownField, BadFieldType,
// signature errors (BadHex, BadSignatureLength, BadRecoveryId, HighS, BadSignature) and every
// action decoding error of action_from_json.
Result<SignedAction> decode_envelope_json(std::string_view text);
Result<SignedAction> envelope_from_json(const boost::json::value& value);
// The same from an object already in hand (a json::object passed to the overload above would be
// copied into a temporary json::value first).
Result<SignedAction> envelope_from_json(const boost::json::object& envelope);
boost::json::object envelope_to_json(const SignedAction& envelope);
// The RPC fast path: an envelope read from JSON text in the plain subset (state/plain_json.h),
// in one pass and without a JSON tree. Nothing when the text is outside that subset, or when the
// envelope is anything envelope_from_json would refuse, or written in a form this reader leaves
// to that path (an action whose "type" is not its first member, a uint64 field as a string):
// then envelope_from_json names the problem. Whatever it reads, envelope_from_json reads the same.
std::optional<SignedAction> read_plain_envelope(std::string_view text);
// The same from in's position, leaving in after the envelope (or failed).
std::optional<SignedAction> read_plain_envelope(PlainJsonReader& in);

// Protobuf binary form (state/proto/actions.proto) for blocks and gossip; lossless: decoding
// gives back the same SignedAction and so the same digest. decode returns EnvelopeTooLarge,
// BadEncoding, and the same field errors as JSON decoding.
std::string encode_envelope_binary(const SignedAction& envelope);
Result<SignedAction> decode_envelope_binary(std::string_view bytes);

// What compute_tx_hash hashes: digest || r || s || v.
std::array<std::uint8_t, 97> tx_hash_input(const Hash256& digest, const Signature& signature);
Hash256 compute_tx_hash(const Hash256& digest, const Signature& signature);

// What perp_eip712Schema returns: {"domain": {name, version, chainId}, "types": {...every type,
// EIP712Domain included}, "primaryTypes": {"order": "PlaceOrders", ...}}.
boost::json::object eip712_schema(std::uint64_t chain_id);

// Told around each batch's run of signature recoveries: the node measures their CPU time there
// (GET /metrics), so the recovery rate a load runs against is measured during the load itself.
class RecoveryMeter {
 public:
  virtual ~RecoveryMeter() = default;
  // A mark for end(), which the same thread calls after the batch's recoveries.
  virtual std::uint64_t begin() = 0;
  virtual void end(std::uint64_t mark, std::size_t recoveries) = 0;
};

// Stateless verification for one chain.
class EnvelopeVerifier {
 public:
  explicit EnvelopeVerifier(std::uint64_t chain_id);

  std::uint64_t chain_id() const { return chain_id_; }
  const Hash256& domain_separator() const { return domain_separator_; }

  // The EIP-712 digest: keccak256(0x1901 || domainSeparator || hashStruct(action, nonce)).
  Hash256 digest(const Action& action, std::uint64_t nonce) const;

  // Decodes and recovers the signer; BadSignature when no key recovers.
  Result<VerifiedAction> verify_json(std::string_view text) const;
  Result<VerifiedAction> verify(SignedAction envelope) const;
  // The same for many envelopes at once, answers in order: their Keccak hashes run several
  // messages per permutation and their recoveries back to back.
  std::vector<Result<VerifiedAction>> verify_batch(std::vector<SignedAction> envelopes,
                                                   RecoveryMeter* meter = nullptr) const;
  // The tx hashes of many envelopes (no recovery: a stored block's are already verified), hashed
  // several messages per permutation as verify_batch does.
  std::vector<Hash256> tx_hashes(std::span<const SignedAction> envelopes) const;

  // Signs with an RFC 6979 deterministic signature. The key must pass check_secret_key.
  SignedAction sign(Action action, std::uint64_t nonce, const SecretKey& key) const;

 private:
  std::uint64_t chain_id_;
  Hash256 domain_separator_;
};

}  // namespace state
