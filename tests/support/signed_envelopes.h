// A signing key, a one-order action and its signed envelope on chain 1337, shared by the
// envelope decoders' tests.
#pragma once

#include <boost/json.hpp>
#include <cstdint>

#include "state/envelope.h"

namespace test_support {

inline const state::SecretKey kEnvelopeKey =
    *state::parse_secret_key("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
inline constexpr const char* kOneOrder =
    R"({"type":"order","orders":[{"market":"BTC","isBuy":true,"px":"65000","sz":"0.001","reduceOnly":false,"tif":"Gtc","cloid":"0x00000000000000000000000000000000","triggerPx":"","tpsl":""}]})";

// A valid signed envelope as a mutable JSON object.
inline boost::json::object signed_envelope(const char* action_json = kOneOrder,
                                           std::uint64_t nonce = 1767225600000) {
  state::EnvelopeVerifier verifier(1337);
  return state::envelope_to_json(verifier.sign(
      *state::action_from_json(boost::json::parse(action_json)), nonce, kEnvelopeKey));
}

}  // namespace test_support
