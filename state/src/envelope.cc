#include "state/envelope.h"

#include <array>
#include <boost/json.hpp>
#include <cstring>

#include "state/keccak.h"

namespace state {
namespace json = boost::json;

Result<SignedAction> envelope_from_json(const json::value& value) {
  const json::object* object = value.if_object();
  if (!object) return make_error(Reason::BadFieldType, "envelope must be an object");
  return envelope_from_json(*object);
}

Result<SignedAction> envelope_from_json(const json::object& envelope) {
  const json::object* object = &envelope;
  for (const auto& entry : *object) {
    std::string_view key = entry.key();
    if (key != "action" && key != "nonce" && key != "signature")
      return make_error(Reason::UnknownField,
                        "unknown envelope field \"" + std::string(key) + "\"");
  }
  const json::value* action = object->if_contains("action");
  const json::value* nonce = object->if_contains("nonce");
  const json::value* signature = object->if_contains("signature");
  if (!action) return make_error(Reason::MissingField, "action: missing");
  if (!nonce) return make_error(Reason::MissingField, "nonce: missing");
  if (!signature) return make_error(Reason::MissingField, "signature: missing");
  if (!nonce->is_uint64() && !(nonce->is_int64() && nonce->get_int64() >= 0))
    return make_error(Reason::BadFieldType, "nonce: unsigned integer expected");
  if (!signature->is_string())
    return make_error(Reason::BadFieldType, "signature: string expected");

  auto parsed_signature = parse_signature_hex(signature->get_string());
  if (!parsed_signature) return parsed_signature.error();
  auto parsed_action = action_from_json(*action);
  if (!parsed_action) return parsed_action.error();
  return SignedAction{std::move(*parsed_action), nonce->to_number<std::uint64_t>(),
                      *parsed_signature};
}

Result<SignedAction> decode_envelope_json(std::string_view text) {
  if (text.size() > kMaxEnvelopeBytes)
    return make_error(Reason::EnvelopeTooLarge,
                      "envelope is larger than " + std::to_string(kMaxEnvelopeBytes) + " bytes");
  // Parse into a stack arena: one envelope allocates nothing from the heap in the common case.
  std::array<unsigned char, 4096> arena;
  json::monotonic_resource resource(arena.data(), arena.size());
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  std::error_code ec;
  json::value value = json::parse(text, ec, &resource, options);
  if (ec) return make_error(Reason::BadJson, "invalid JSON: " + ec.message());
  return envelope_from_json(value);
}

json::object envelope_to_json(const SignedAction& envelope) {
  json::object out;
  out.emplace("action", action_to_json(envelope.action));
  out.emplace("nonce", envelope.nonce);
  out.emplace("signature", envelope.signature.to_hex());
  return out;
}

std::array<std::uint8_t, 97> tx_hash_input(const Hash256& digest, const Signature& signature) {
  std::array<std::uint8_t, 97> input;
  std::memcpy(input.data(), digest.data(), 32);
  std::memcpy(input.data() + 32, signature.to_bytes().data(), 65);
  return input;
}

Hash256 compute_tx_hash(const Hash256& digest, const Signature& signature) {
  return keccak256(tx_hash_input(digest, signature));
}

json::object eip712_schema(std::uint64_t chain_id) {
  json::object domain;
  domain.emplace("name", kDomainName);
  domain.emplace("version", kDomainVersion);
  domain.emplace("chainId", chain_id);
  json::object types;
  for (const auto& [name, members] : action_eip712_types()) {
    json::array list;
    for (const auto& member : members)
      list.push_back(json::object{{"name", member.name}, {"type", member.type}});
    types.emplace(name, std::move(list));
  }
  json::object primary_types;
  for (const auto& [type, primary] : action_type_names()) primary_types.emplace(type, primary);
  return json::object{{"domain", std::move(domain)},
                      {"types", std::move(types)},
                      {"primaryTypes", std::move(primary_types)}};
}

EnvelopeVerifier::EnvelopeVerifier(std::uint64_t chain_id)
    : chain_id_(chain_id), domain_separator_(perpd_domain_separator(chain_id)) {}

Hash256 EnvelopeVerifier::digest(const Action& action, std::uint64_t nonce) const {
  return typed_data_digest(domain_separator_, action_struct_hash(action, nonce));
}

Result<VerifiedAction> EnvelopeVerifier::verify(SignedAction envelope) const {
  std::vector<SignedAction> one;
  one.push_back(std::move(envelope));
  return std::move(verify_batch(std::move(one))[0]);
}

namespace {

// The EIP-712 digests of many envelopes: their struct trees level by level, then the digests,
// several messages per Keccak permutation.
std::vector<Hash256> digests_of(std::span<const SignedAction> envelopes,
                                const Hash256& domain_separator) {
  const std::size_t n = envelopes.size();
  std::vector<const Action*> actions(n);
  std::vector<std::uint64_t> nonces(n);
  for (std::size_t i = 0; i < n; ++i) {
    actions[i] = &envelopes[i].action;
    nonces[i] = envelopes[i].nonce;
  }
  const std::vector<Hash256> struct_hashes = action_struct_hashes(actions, nonces);
  std::vector<std::array<std::uint8_t, 66>> digest_inputs(n);
  std::vector<std::span<const std::uint8_t>> messages(n);
  for (std::size_t i = 0; i < n; ++i) {
    digest_inputs[i] = typed_data_digest_input(domain_separator, struct_hashes[i]);
    messages[i] = digest_inputs[i];
  }
  std::vector<Hash256> digests(n);
  keccak256_many(messages, digests);
  return digests;
}

// What each envelope's tx hash hashes (digest || r || s || v), in envelope order.
std::vector<std::array<std::uint8_t, 97>> tx_hash_inputs(std::span<const Hash256> digests,
                                                         std::span<const SignedAction> envelopes) {
  std::vector<std::array<std::uint8_t, 97>> inputs(envelopes.size());
  for (std::size_t i = 0; i < envelopes.size(); ++i)
    inputs[i] = tx_hash_input(digests[i], envelopes[i].signature);
  return inputs;
}

}  // namespace

std::vector<Hash256> EnvelopeVerifier::tx_hashes(std::span<const SignedAction> envelopes) const {
  const auto inputs = tx_hash_inputs(digests_of(envelopes, domain_separator_), envelopes);
  const std::vector<std::span<const std::uint8_t>> messages(inputs.begin(), inputs.end());
  std::vector<Hash256> hashes(envelopes.size());
  keccak256_many(messages, hashes);
  return hashes;
}

std::vector<Result<VerifiedAction>> EnvelopeVerifier::verify_batch(
    std::vector<SignedAction> envelopes, RecoveryMeter* meter) const {
  const std::size_t n = envelopes.size();
  const std::vector<Hash256> digests = digests_of(envelopes, domain_separator_);

  // Recoveries back to back; then each tx hash and each recovered key's hash (the address) in
  // one many-message pass.
  std::vector<Result<PublicKey>> keys;
  keys.reserve(n);
  const std::uint64_t mark = meter ? meter->begin() : 0;
  for (std::size_t i = 0; i < n; ++i)
    keys.push_back(recover_public_key(digests[i], envelopes[i].signature));
  if (meter) meter->end(mark, n);
  const auto inputs = tx_hash_inputs(digests, envelopes);
  std::vector<std::span<const std::uint8_t>> messages;
  messages.reserve(2 * n);
  messages.assign(inputs.begin(), inputs.end());
  for (std::size_t i = 0; i < n; ++i)
    if (keys[i]) messages.emplace_back(keys[i]->bytes);
  std::vector<Hash256> hashes(messages.size());
  keccak256_many(messages, hashes);

  std::vector<Result<VerifiedAction>> out;
  out.reserve(n);
  std::size_t key_hash = n;  // the keys' hashes follow the n tx hashes
  for (std::size_t i = 0; i < n; ++i) {
    if (!keys[i]) {
      out.push_back(keys[i].error());
      continue;
    }
    const Address signer = address_of_public_key_hash(hashes[key_hash++]);
    out.push_back(VerifiedAction{std::move(envelopes[i]), signer, digests[i], hashes[i]});
  }
  return out;
}

Result<VerifiedAction> EnvelopeVerifier::verify_json(std::string_view text) const {
  auto envelope = decode_envelope_json(text);
  if (!envelope) return envelope.error();
  return verify(std::move(*envelope));
}

SignedAction EnvelopeVerifier::sign(Action action, std::uint64_t nonce,
                                    const SecretKey& key) const {
  Signature signature = sign_digest(key, digest(action, nonce));
  return SignedAction{std::move(action), nonce, signature};
}

}  // namespace state
