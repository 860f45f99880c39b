// Envelope decoding and verification: each named error of the stateless stage, and errors that
// name the field they come from.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "signed_envelopes.h"
#include "state/envelope.h"

using namespace state;
namespace json = boost::json;

namespace {

using test_support::signed_envelope;
const SecretKey& kKey = test_support::kEnvelopeKey;

Reason reason_of(const json::value& envelope) {
  auto result = EnvelopeVerifier(1337).verify_json(json::serialize(envelope));
  REQUIRE_FALSE(result.ok());
  return result.reason();
}

Reason reason_with_order_field(std::string_view name, json::value value) {
  json::object envelope = signed_envelope();
  envelope["action"].as_object()["orders"].as_array()[0].as_object()[name] = value;
  return reason_of(envelope);
}

}  // namespace

TEST_CASE("a signed envelope verifies to its signer with a stable tx hash", "[envelope]") {
  EnvelopeVerifier verifier(1337);
  auto verified = verifier.verify_json(json::serialize(signed_envelope()));
  REQUIRE(verified.ok());
  CHECK(verified->signer == address_of(kKey));
  CHECK(verified->tx_hash == compute_tx_hash(verified->digest, verified->signed_action.signature));
  // The same action on another chain recovers someone else: the domain binds the chain id.
  auto other_chain = EnvelopeVerifier(1).verify_json(json::serialize(signed_envelope()));
  CHECK((!other_chain.ok() || other_chain->signer != address_of(kKey)));
}

TEST_CASE("a changed field changes the recovered signer", "[envelope]") {
  json::object envelope = signed_envelope();
  envelope["action"].as_object()["orders"].as_array()[0].as_object()["px"] = "65001";
  auto verified = EnvelopeVerifier(1337).verify_json(json::serialize(envelope));
  CHECK((!verified.ok() || verified->signer != address_of(kKey)));
  envelope = signed_envelope();
  envelope["nonce"] = 1767225600001;
  verified = EnvelopeVerifier(1337).verify_json(json::serialize(envelope));
  CHECK((!verified.ok() || verified->signer != address_of(kKey)));
}

TEST_CASE("envelope-level errors", "[envelope]") {
  EnvelopeVerifier verifier(1337);
  CHECK(verifier.verify_json("{").reason() == Reason::BadJson);
  CHECK(verifier.verify_json("").reason() == Reason::BadJson);
  CHECK(verifier.verify_json("[1,2]").reason() == Reason::BadFieldType);
  CHECK(verifier.verify_json(std::string(70'000, ' ')).reason() == Reason::EnvelopeTooLarge);
  CHECK(verifier.verify_json(std::string(20, '[') + std::string(20, ']')).reason() ==
        Reason::BadJson);

  json::object e = signed_envelope();
  e.erase("signature");
  CHECK(reason_of(e) == Reason::MissingField);
  e = signed_envelope();
  e.erase("nonce");
  CHECK(reason_of(e) == Reason::MissingField);
  e = signed_envelope();
  e["extra"] = 1;
  CHECK(reason_of(e) == Reason::UnknownField);
  e = signed_envelope();
  e["nonce"] = "1767225600000";
  CHECK(reason_of(e) == Reason::BadFieldType);
  e = signed_envelope();
  e["nonce"] = -5;
  CHECK(reason_of(e) == Reason::BadFieldType);
  e = signed_envelope();
  e["signature"] = 5;
  CHECK(reason_of(e) == Reason::BadFieldType);
}

TEST_CASE("signature errors", "[envelope]") {
  json::object e = signed_envelope();
  std::string sig(e["signature"].as_string());
  e["signature"] = sig.substr(0, 130);
  CHECK(reason_of(e) == Reason::BadSignatureLength);
  e["signature"] = "0x" + std::string(130, 'g');
  CHECK(reason_of(e) == Reason::BadHex);
  e["signature"] = sig.substr(2);
  CHECK(reason_of(e) == Reason::BadHex);
  e["signature"] = sig.substr(0, 130) + "1d";  // v = 29
  CHECK(reason_of(e) == Reason::BadRecoveryId);
  e["signature"] = "0x" + std::string(64, '0') + sig.substr(66);  // r = 0
  CHECK(reason_of(e) == Reason::BadSignature);
  e["signature"] = sig.substr(0, 66) + std::string(64, 'f') + sig.substr(130);  // s = 2^256 - 1
  CHECK(reason_of(e) == Reason::HighS);
}

TEST_CASE("action errors - each named", "[envelope]") {
  json::object e = signed_envelope();
  e["action"].as_object()["type"] = "teleport";
  CHECK(reason_of(e) == Reason::UnknownActionType);
  e = signed_envelope();
  e["action"].as_object().erase("type");
  CHECK(reason_of(e) == Reason::MissingField);
  e = signed_envelope();
  e["action"].as_object()["bonus"] = true;
  CHECK(reason_of(e) == Reason::UnknownField);
  e = signed_envelope();
  e["action"].as_object()["orders"].as_array()[0].as_object().erase("sz");
  CHECK(reason_of(e) == Reason::MissingField);
  e = signed_envelope();
  e["action"].as_object()["orders"] =
      json::array(kMaxOrdersPerAction + 1, e["action"].at("orders").at(0));
  CHECK(reason_of(e) == Reason::TooManyItems);

  CHECK(reason_with_order_field("px", 65000) == Reason::BadFieldType);
  CHECK(reason_with_order_field("px", "6.5e4") == Reason::BadDecimal);
  CHECK(reason_with_order_field("px", "-65000") == Reason::NegativeAmount);
  CHECK(reason_with_order_field("sz", "0.0000001") == Reason::TooManyDecimals);
  CHECK(reason_with_order_field("sz", "99999999999999") == Reason::Overflow);
  CHECK(reason_with_order_field("isBuy", "true") == Reason::BadFieldType);
  CHECK(reason_with_order_field("tif", "GTC") == Reason::BadFieldValue);
  CHECK(reason_with_order_field("tpsl", "tp") == Reason::BadFieldValue);  // tpsl without triggerPx
  CHECK(reason_with_order_field("triggerPx", "100") == Reason::BadFieldValue);
  CHECK(reason_with_order_field("cloid", "0x1234") == Reason::BadHex);
  CHECK(reason_with_order_field("market", json::value(std::string(kMaxStringBytes + 1, 'B'))) ==
        Reason::StringTooLong);
  json::object send = signed_envelope(
      R"({"type":"usdSend","destination":"0x0000000000000000000000000000000000000001","amount":"1"})");
  send["action"].as_object()["destination"] = "0x01";
  CHECK(reason_of(send) == Reason::BadHex);
}

TEST_CASE("error messages name the field path", "[envelope]") {
  json::object e = signed_envelope();
  e["action"].as_object()["orders"].as_array()[0].as_object()["px"] = "1.0000001";
  auto result = EnvelopeVerifier(1337).verify_json(json::serialize(e));
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message == "orders[0].px: at most 6 decimals allowed");
  CHECK(reason_name(result.reason()) == "TooManyDecimals");
}

TEST_CASE("binary decoding rejects garbage and mismatched lengths", "[envelope]") {
  CHECK(decode_envelope_binary("\xff\xff\xff").reason() == Reason::BadEncoding);
  CHECK(decode_envelope_binary("").reason() == Reason::BadEncoding);  // no action
  CHECK(decode_envelope_binary(std::string(kMaxEnvelopeBytes + 1, '\0')).reason() ==
        Reason::EnvelopeTooLarge);
}

TEST_CASE("verify_batch and tx_hashes answer as the one-envelope paths do - in order",
          "[envelope]") {
  EnvelopeVerifier verifier(1337);
  std::vector<SignedAction> envelopes;
  for (int i = 0; i < 21; ++i) {
    SecretKey key = kKey;
    key.bytes[31] = static_cast<std::uint8_t>(i + 1);
    const std::string px = std::to_string(65000 + i);
    const std::string order =
        R"({"type":"order","orders":[{"market":"BTC","isBuy":true,"px":")" + px +
        R"(","sz":"0.001","reduceOnly":false,"tif":"Gtc","cloid":"0x00000000000000000000000000000000","triggerPx":"","tpsl":""}]})";
    envelopes.push_back(
        verifier.sign(*action_from_json(json::parse(order)), 1767225600000 + i, key));
  }
  envelopes.push_back(verifier.sign(
      *action_from_json(json::parse(R"({"type":"cancel","cancels":[{"market":"ETH","oid":7}]})")),
      1767225600100, kKey));
  // An r with no curve point at x = r: nothing recovers.
  SignedAction unrecoverable = envelopes[3];
  for (std::uint8_t r = 1;; ++r) {
    unrecoverable.signature.r = Hash256{};
    unrecoverable.signature.r.bytes[31] = r;
    if (!recover_address(verifier.digest(unrecoverable.action, unrecoverable.nonce),
                         unrecoverable.signature))
      break;
  }
  envelopes.insert(envelopes.begin() + 5, unrecoverable);

  auto batch = verifier.verify_batch(envelopes);
  REQUIRE(batch.size() == envelopes.size());
  for (std::size_t i = 0; i < envelopes.size(); ++i) {
    INFO(i);
    auto one = verifier.verify(envelopes[i]);
    REQUIRE(batch[i].ok() == one.ok());
    if (!one) {
      CHECK(batch[i].reason() == Reason::BadSignature);
      continue;
    }
    CHECK(batch[i]->signer == one->signer);
    CHECK(batch[i]->digest == one->digest);
    CHECK(batch[i]->tx_hash == one->tx_hash);
    CHECK(batch[i]->signed_action == envelopes[i]);
  }
  CHECK(batch[0]->signer != batch[1]->signer);
  CHECK(verifier.verify_batch({}).empty());

  // Without recovery: every envelope's tx hash, the unrecoverable one's too, as the scalar
  // digest and hash compute it.
  const std::vector<Hash256> hashes = verifier.tx_hashes(envelopes);
  REQUIRE(hashes.size() == envelopes.size());
  for (std::size_t i = 0; i < envelopes.size(); ++i) {
    INFO(i);
    CHECK(hashes[i] == compute_tx_hash(verifier.digest(envelopes[i].action, envelopes[i].nonce),
                                       envelopes[i].signature));
  }
  CHECK(hashes[0] != hashes[1]);
  CHECK(verifier.tx_hashes({}).empty());
}
