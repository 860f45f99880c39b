// read_plain_envelope, the RPC fast path: it reads the plain envelopes clients send as the full
// decoder does, and leaves everything else (not plain, or refused) to the full decoder.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <random>

#include "signed_envelopes.h"
#include "state/envelope.h"
#include "state/plain_json.h"
#include "text_mutation.h"

using namespace state;
namespace json = boost::json;

namespace {

constexpr const char* kOrder = test_support::kOneOrder;

std::string envelope_text(const char* action_json = kOrder, std::uint64_t nonce = 1767225600000) {
  return json::serialize(test_support::signed_envelope(action_json, nonce));
}

// The fast reader's answer, checked against the full decoder's whenever it gives one.
std::optional<SignedAction> read_checked(std::string_view text) {
  auto plain = read_plain_envelope(text);
  if (plain) {
    auto full = decode_envelope_json(text);
    REQUIRE(full.ok());
    CHECK(*plain == *full);
  }
  return plain;
}

std::string replaced(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("a plain envelope reads as the full decoder reads it", "[envelope][plain]") {
  const std::string text = envelope_text();
  auto read = read_checked(text);
  REQUIRE(read);
  CHECK(read->nonce == 1767225600000);
  const auto& order = std::get<PlaceOrders>(read->action).orders.items.at(0);
  CHECK(order.market == "BTC");
  CHECK(order.px.units == 65'000'000'000);
  CHECK(order.sz.units == 1'000);

  // Whitespace between tokens, members in another order (after "type"), other actions.
  CHECK(read_checked(" " + replaced(text, R"(,"nonce":)", " ,\r\n\t\"nonce\" : ") + " \n"));
  CHECK(read_checked(
      replaced(text, R"("market":"BTC","isBuy":true)", R"("isBuy":true,"market":"BTC")")));
  CHECK(read_checked(envelope_text(R"({"type":"cancel","cancels":[{"market":"BTC","oid":7}]})")));
  CHECK(read_checked(envelope_text(
      R"({"type":"usdSend","destination":"0x00000000000000000000000000000000000000aa","amount":"12.5"})")));
  CHECK(read_checked(
      envelope_text(R"({"type":"updateLeverage","market":"ETH","isCross":false,"leverage":20})")));
  CHECK(read_checked(envelope_text(kOrder, 0)));
}

TEST_CASE("the fast reader leaves to the full decoder what it refuses", "[envelope][plain]") {
  const std::string text = envelope_text();
  for (const std::string& refused : {
           replaced(text, R"("px":"65000")", R"("px":"65000.1234567")"),      // too many decimals
           replaced(text, R"("tif":"Gtc")", R"("tif":"Fok")"),                // no such tif
           replaced(text, R"("triggerPx":"")", R"("triggerPx":"1")"),         // trigger pair
           replaced(text, R"("cloid":"0x0000)", R"("cloid":"0xzz00)"),        // not hex
           replaced(text, R"("signature":"0x)", R"("signature":"0x00)"),      // wrong length
           replaced(text, R"("market":"BTC",)", ""),                          // missing field
           replaced(text, R"("market":"BTC",)", R"("market":"BTC","x":1,)"),  // unknown field
           replaced(text, R"("nonce":1767225600000)", R"("nonce":-1)"),
           replaced(text, R"({"type":"order")", R"({"type":"fly")"),
       }) {
    CHECK_FALSE(read_plain_envelope(refused));
    CHECK_FALSE(decode_envelope_json(refused).ok());
  }
  // 64 orders are the most an action holds.
  std::string orders;
  const std::string one =
      R"({"market":"BTC","isBuy":true,"px":"65000","sz":"0.001","reduceOnly":false,"tif":"Gtc","cloid":"0x00000000000000000000000000000000","triggerPx":"","tpsl":""})";
  for (int i = 0; i < 64; ++i) orders += (i ? "," : "") + one;
  const std::string full = R"({"type":"order","orders":[)" + orders + "]}";
  CHECK(read_checked(envelope_text(full.c_str())));
  const std::string too_many = replaced(envelope_text(full.c_str()), orders, orders + "," + one);
  CHECK_FALSE(read_plain_envelope(too_many));
  CHECK(decode_envelope_json(too_many).reason() == Reason::TooManyItems);
}

TEST_CASE("the fast reader leaves what is not plain to the full decoder, which takes it",
          "[envelope][plain]") {
  const std::string text = envelope_text();
  // An escape spelling the same market, and "type" after the action's fields: the same envelope
  // to the full decoder, not plain to the fast one.
  const std::string escaped = replaced(text, R"("market":"BTC")", R"("market":"\u0042TC")");
  CHECK_FALSE(read_plain_envelope(escaped));
  CHECK(decode_envelope_json(escaped).ok());
  const std::string type_last =
      replaced(replaced(text, R"({"type":"order","orders")", R"({"orders")"), R"(}]},"nonce")",
               R"(}],"type":"order"},"nonce")");
  CHECK_FALSE(read_plain_envelope(type_last));
  CHECK(decode_envelope_json(type_last).ok());
  const std::string duplicate = replaced(text, R"("sz":"0.001")", R"("sz":"0.001","sz":"0.001")");
  CHECK_FALSE(read_plain_envelope(duplicate));
}

TEST_CASE("whatever the fast reader takes from a damaged envelope the full decoder takes alike",
          "[envelope][plain]") {
  const std::uint32_t seed = std::random_device{}();
  std::printf("plain envelope mutations: seed %u\n", seed);
  std::mt19937 random(seed);
  const std::vector<std::string> bases = {
      envelope_text(), envelope_text(R"({"type":"cancel","cancels":[{"market":"BTC","oid":7}]})"),
      envelope_text(R"({"type":"updateLeverage","market":"ETH","isCross":false,"leverage":20})")};
  const std::string alphabet = "{}[]:,\"\\ 0123456789-.eEtrufalsn0xabcdefABCDEF\t\n";
  int read = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string text =
        test_support::mutated(bases[random() % bases.size()], random, alphabet);
    read += read_checked(text).has_value();
  }
  // Most edits break the JSON or a field; some (a digit of the nonce, whitespace) do not.
  std::printf("plain envelope mutations: %d of 20000 read alike by both decoders\n", read);
  CHECK(read > 0);
}
