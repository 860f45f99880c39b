// libFuzzer target: arbitrary bytes through every stateless decoder (JSON envelope with signature
// recovery, binary envelope, general EIP-712 typed data). Any input must yield a value or a named
// error: no crash, no hang, no leak, no sanitizer report. For a decoded envelope the JSON and
// binary forms must round-trip to the same action, and the RPC fast path's plain reader must read
// no envelope the full decoder reads otherwise.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "state/eip712.h"
#include "state/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const state::EnvelopeVerifier verifier(1337);

  auto verified = verifier.verify_json(text);
  if (verified.ok()) {
    const auto& envelope = verified->signed_action;
    auto from_binary = state::decode_envelope_binary(state::encode_envelope_binary(envelope));
    if (!from_binary.ok() || !(*from_binary == envelope)) std::abort();
    auto from_json = state::envelope_from_json(state::envelope_to_json(envelope));
    if (!from_json.ok() || !(*from_json == envelope)) std::abort();
  }

  if (auto plain = state::read_plain_envelope(text)) {
    auto full = state::decode_envelope_json(text);
    if (!full.ok() || !(*full == *plain)) std::abort();
  }

  auto binary = state::decode_envelope_binary(text);
  if (binary.ok()) {
    auto again = state::decode_envelope_binary(state::encode_envelope_binary(*binary));
    if (!again.ok() || !(*again == *binary)) std::abort();
  }

  std::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 32;
  boost::json::value typed = boost::json::parse(text, ec, {}, options);
  if (!ec) (void)state::typed_data_digest(typed);
  return 0;
}
