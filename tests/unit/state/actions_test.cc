// Typed actions: the EIP-712 types are exactly SPEC section 3's, every example round-trips
// through JSON and Protobuf, and the typed hash equals the general encoder's.
#include <google/protobuf/stubs/logging.h>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "state/actions.pb.h"
#include "state/envelope.h"

using namespace state;
namespace json = boost::json;

namespace {

json::array load_examples() {
  std::ifstream in(PERPD_TEST_DATA_DIR "/actions.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str()).as_array();
}

// hashStruct through the general JSON encoder: the action's fields without "type", plus nonce.
Hash256 generic_struct_hash(const json::object& action, std::uint64_t nonce) {
  json::object message = action;
  std::string primary;
  for (const auto& [type, name] : action_type_names())
    if (type == action.at("type").as_string()) primary = name;
  message.erase("type");
  message["nonce"] = nonce;
  auto hash = hash_struct(action_eip712_types(), primary, message);
  REQUIRE(hash.ok());
  return *hash;
}

}  // namespace

TEST_CASE("EIP-712 types are exactly those of SPEC section 3", "[actions]") {
  const std::string order_spec =
      "OrderSpec(string market,bool isBuy,string px,string sz,bool reduceOnly,string tif,bytes16 "
      "cloid,"
      "string triggerPx,string tpsl)";
  std::map<std::string, std::string> expected = {
      {"PlaceOrders", "PlaceOrders(OrderSpec[] orders,uint64 nonce)" + order_spec},
      {"CancelOrders",
       "CancelOrders(CancelSpec[] cancels,uint64 nonce)CancelSpec(string market,uint64 oid)"},
      {"CancelByCloid",
       "CancelByCloid(CloidSpec[] cancels,uint64 nonce)CloidSpec(string market,bytes16 cloid)"},
      {"ModifyOrder", "ModifyOrder(uint64 oid,OrderSpec order,uint64 nonce)" + order_spec},
      {"UpdateLeverage", "UpdateLeverage(string market,bool isCross,uint32 leverage,uint64 nonce)"},
      {"UpdateIsolatedMargin", "UpdateIsolatedMargin(string market,string amount,uint64 nonce)"},
      {"UsdSend", "UsdSend(address destination,string amount,uint64 nonce)"},
      {"TokenSend", "TokenSend(address destination,string amount,uint64 nonce)"},
      {"ApproveAgent", "ApproveAgent(address agent,string name,uint64 nonce)"},
      {"Stake", "Stake(string amount,uint64 nonce)"},
      {"Unstake", "Unstake(string amount,uint64 nonce)"},
      {"RegisterDex",
       "RegisterDex(string dex,string fullName,address oracleUpdater,address feeRecipient,uint64 "
       "nonce)"},
      {"RegisterAsset",
       "RegisterAsset(string dex,string coin,uint8 szDecimals,string oraclePx,uint32 maxLeverage,"
       "bool onlyIsolated,string maxGas,uint64 nonce)"},
      {"SetOracle",
       "SetOracle(string dex,PricePair[] oraclePxs,PricePair[] markPxs,uint64 "
       "nonce)PricePair(string coin,string px)"},
      {"SetFunding",
       "SetFunding(string dex,string coin,string multiplier,string interestRate,string clamp,"
       "uint32 intervalHours,uint64 nonce)"},
      {"SetMarginTable",
       "SetMarginTable(string dex,string coin,MarginTier[] tiers,uint64 nonce)"
       "MarginTier(string lowerBound,uint32 maxLeverage)"},
      {"SetOpenInterestCap",
       "SetOpenInterestCap(string dex,string coin,string notionalCap,uint64 nonce)"},
      {"HaltTrading", "HaltTrading(string dex,string coin,bool halted,uint64 nonce)"},
      {"SetFeeScale", "SetFeeScale(string dex,string scale,uint64 nonce)"},
      {"BackstopTransfer",
       "BackstopTransfer(string dex,string amount,bool isDeposit,uint64 nonce)"},
      {"OracleVote", "OracleVote(PricePair[] pxs,uint64 nonce)PricePair(string coin,string px)"},
      {"SlashVote", "SlashVote(string dex,uint32 bps,string reason,uint64 nonce)"},
  };
  auto names = action_type_names();
  REQUIRE(names.size() == expected.size());
  for (const auto& [type, primary] : names) {
    INFO(type);
    REQUIRE(expected.contains(std::string(primary)));
    CHECK(*encode_type(action_eip712_types(), primary) == expected[std::string(primary)]);
  }
}

TEST_CASE("every example action: JSON round trip - typed hash equals general hash", "[actions]") {
  json::array examples = load_examples();
  REQUIRE(examples.size() == action_type_names().size());
  for (const auto& example : examples) {
    INFO(json::serialize(example));
    auto action = action_from_json(example);
    REQUIRE(action.ok());
    CHECK(action_type(*action) == example.at("type").as_string());
    json::object encoded = action_to_json(*action);
    auto again = action_from_json(encoded);
    REQUIRE(again.ok());
    CHECK(*again == *action);
    CHECK(action_struct_hash(*action, 1767225600123) ==
          generic_struct_hash(example.as_object(), 1767225600123));
    CHECK(action_struct_hash(*action, 1) != action_struct_hash(*action, 2));
  }
}

TEST_CASE("every example action: Protobuf round trip keeps the digest", "[actions]") {
  EnvelopeVerifier verifier(1337);
  SecretKey key =
      *parse_secret_key("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  for (const auto& example : load_examples()) {
    INFO(json::serialize(example));
    SignedAction signed_action = verifier.sign(*action_from_json(example), 1767225600000, key);
    std::string binary = encode_envelope_binary(signed_action);
    // The hand-written encoder emits exactly what Protobuf's own serializer does.
    perpd::wire::Envelope message;
    REQUIRE(message.ParseFromString(binary));
    CHECK(message.SerializeAsString() == binary);
    auto decoded = decode_envelope_binary(binary);
    REQUIRE(decoded.ok());
    CHECK(*decoded == signed_action);
    auto verified = verifier.verify(*decoded);
    REQUIRE(verified.ok());
    CHECK(verified->signer == address_of(key));
  }
}

TEST_CASE("a Protobuf envelope longer than 127 bytes per message matches the library's bytes",
          "[actions]") {
  // 30 orders: the PlaceOrders message needs a two-byte length, the envelope's action too.
  json::array orders;
  for (int i = 0; i < 30; ++i)
    orders.push_back(json::object{{"market", "ETH"},
                                  {"isBuy", i % 2 == 0},
                                  {"px", std::to_string(3000 + i) + ".5"},
                                  {"sz", "0.01"},
                                  {"reduceOnly", i % 3 == 0},
                                  {"tif", i % 2 == 0 ? "Gtc" : "Alo"},
                                  {"cloid", "0x0123456789abcdef0123456789abcdef"},
                                  {"triggerPx", ""},
                                  {"tpsl", ""}});
  auto action = action_from_json(json::object{{"type", "order"}, {"orders", orders}});
  REQUIRE(action.ok());
  EnvelopeVerifier verifier(1337);
  SecretKey key =
      *parse_secret_key("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  SignedAction signed_action = verifier.sign(*action, 1767225600000, key);
  std::string binary = encode_envelope_binary(signed_action);
  REQUIRE(binary.size() > 30 * 20);
  perpd::wire::Envelope message;
  REQUIRE(message.ParseFromString(binary));
  CHECK(message.order().orders_size() == 30);
  CHECK(message.SerializeAsString() == binary);
  auto decoded = decode_envelope_binary(binary);
  REQUIRE(decoded.ok());
  CHECK(*decoded == signed_action);
}

TEST_CASE("a binary envelope with text that is not UTF-8 is refused by name and logs nothing",
          "[actions]") {
  // Protobuf used to check string fields itself and log an ERROR line per bad envelope.
  static int protobuf_log_lines = 0;
  protobuf_log_lines = 0;
  google::protobuf::LogHandler* previous =
      google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int,
                                         const std::string&) { ++protobuf_log_lines; });
  EnvelopeVerifier verifier(1337);
  SecretKey key =
      *parse_secret_key("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  auto action = action_from_json(
      json::parse(R"({"type":"order","orders":[{"market":"ETH","isBuy":true,"px":"3000","sz":"1",)"
                  R"("reduceOnly":false,"tif":"Gtc","cloid":"0x00000000000000000000000000000000",)"
                  R"("triggerPx":"","tpsl":""}]})"));
  REQUIRE(action.ok());
  const std::string binary = encode_envelope_binary(verifier.sign(*action, 1, key));
  REQUIRE(decode_envelope_binary(binary).ok());
  for (std::string bad_text : {"E\xC0\xAF", "E\xED\xA0", "\xFF\xFEH"}) {
    std::string bad = binary;
    const auto at = bad.find("ETH");
    REQUIRE(at != std::string::npos);
    bad.replace(at, 3, bad_text);  // same length: the message lengths stay right
    auto decoded = decode_envelope_binary(bad);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().reason == Reason::BadEncoding);
    CHECK(decoded.error().message.find("orders[0].market") != std::string::npos);
    CHECK(decoded.error().message.find("UTF-8") != std::string::npos);
  }
  google::protobuf::SetLogHandler(previous);
  CHECK(protobuf_log_lines == 0);
}

TEST_CASE("JSON text that is not UTF-8 is refused as binary text is", "[actions]") {
  // A JSON parser refuses such text; a value built in code can still hold it.
  json::object order{{"market", "E\xC0\xAF"},
                     {"isBuy", true},
                     {"px", "3000"},
                     {"sz", "1"},
                     {"reduceOnly", false},
                     {"tif", "Gtc"},
                     {"cloid", "0x00000000000000000000000000000000"},
                     {"triggerPx", ""},
                     {"tpsl", ""}};
  auto action = action_from_json(json::object{{"type", "order"}, {"orders", json::array{order}}});
  REQUIRE_FALSE(action.ok());
  CHECK(action.error().reason == Reason::BadEncoding);
}

TEST_CASE("typed hashes of many distinct prices equal the general hash - twice over", "[actions]") {
  // More distinct texts than the per-thread memo of text hashes has slots, hashed two rounds:
  // evictions, collisions and hits must all give the plain keccak.
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 3000; i += 7) {
      json::object example{
          {"type", "order"},
          {"orders",
           json::array{json::object{{"market", i % 2 ? "ETH" : "gsr:XAUXAG"},
                                    {"isBuy", true},
                                    {"px", std::to_string(1000 + i) + "." + std::to_string(i % 10)},
                                    {"sz", "0." + std::to_string(i)},
                                    {"reduceOnly", false},
                                    {"tif", "Gtc"},
                                    {"cloid", "0x00000000000000000000000000000000"},
                                    {"triggerPx", ""},
                                    {"tpsl", ""}}}}};
      auto action = action_from_json(example);
      REQUIRE(action.ok());
      REQUIRE(action_struct_hash(*action, 5) == generic_struct_hash(example, 5));
    }
}

TEST_CASE("decimal text is kept exactly as signed", "[actions]") {
  auto a = action_from_json(json::parse(R"({"type":"stake","amount":"1.5"})"));
  auto b = action_from_json(json::parse(R"({"type":"stake","amount":"1.50"})"));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(std::get<Stake>(*a).amount.units == 1'500'000);
  CHECK(std::get<Stake>(*b).amount.units == 1'500'000);
  CHECK(action_to_json(*b).at("amount").as_string() == "1.50");
  CHECK(action_struct_hash(*a, 1) != action_struct_hash(*b, 1));  // different signed strings
}

TEST_CASE("uint64 fields take JSON integers or digit strings up to 2^64 - 1", "[actions]") {
  auto a = action_from_json(
      json::parse(R"({"type":"cancel","cancels":[{"market":"BTC","oid":18446744073709551615}]})"));
  auto b = action_from_json(json::parse(
      R"({"type":"cancel","cancels":[{"market":"BTC","oid":"18446744073709551615"}]})"));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(std::get<CancelOrders>(*a).cancels.items[0].oid == UINT64_MAX);
  CHECK(*a == *b);
  auto over = action_from_json(json::parse(
      R"({"type":"cancel","cancels":[{"market":"BTC","oid":"18446744073709551616"}]})"));
  CHECK(over.reason() == Reason::Overflow);
  auto neg =
      action_from_json(json::parse(R"({"type":"cancel","cancels":[{"market":"BTC","oid":-1}]})"));
  CHECK(neg.reason() == Reason::Overflow);
  auto frac =
      action_from_json(json::parse(R"({"type":"cancel","cancels":[{"market":"BTC","oid":1.5}]})"));
  CHECK(frac.reason() == Reason::BadFieldType);
  auto u8 = action_from_json(json::parse(
      R"({"type":"registerAsset","dex":"d","coin":"C","szDecimals":256,"oraclePx":"1","maxLeverage":3,"onlyIsolated":true,"maxGas":""})"));
  CHECK(u8.reason() == Reason::Overflow);
}

TEST_CASE("struct hashes of many actions at once equal each one hashed alone", "[actions]") {
  // Every example action with several nonces, interleaved, so each level of the batch mixes
  // struct trees of different shapes and depths.
  std::vector<Action> actions;
  std::vector<std::uint64_t> nonces;
  json::array examples = load_examples();
  for (std::uint64_t round = 0; round < 3; ++round)
    for (const auto& example : examples) {
      actions.push_back(*action_from_json(example));
      nonces.push_back(1767225600000 + round * 977 + actions.size());
    }
  std::vector<const Action*> pointers;
  for (const auto& action : actions) pointers.push_back(&action);
  for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{9}, actions.size()}) {
    auto hashes =
        action_struct_hashes(std::span(pointers).first(count), std::span(nonces).first(count));
    REQUIRE(hashes.size() == count);
    for (std::size_t i = 0; i < count; ++i) {
      INFO(i);
      CHECK(hashes[i] == action_struct_hash(actions[i], nonces[i]));
    }
  }
}
