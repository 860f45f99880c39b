// Genesis files: the two examples load and are in canonical form, the canonical text round-trips,
// each validation rule fails with a message naming its field, and no input crashes the loader.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "genesis/genesis_file.h"
#include "perps/protocol_constants.h"
#include "state/crypto.h"

using namespace genesis;
using Catch::Matchers::StartsWith;
namespace json = boost::json;

namespace {

const std::string kGenesisDir = std::string(PERPD_TEST_DATA_DIR) + "/../../genesis";
const std::string kLocalPath = kGenesisDir + "/local.json";
const std::string kTestnetPath = kGenesisDir + "/testnet-4.json";

std::string read_text(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  REQUIRE(file);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

state::Address address(std::string_view text) {
  auto parsed = state::parse_address(text);
  REQUIRE(parsed.ok());
  return *parsed;
}

state::Address vault_address() {
  state::Address vault;
  std::memcpy(vault.data(), perps::kBackstopVaultAddress, 20);
  return vault;
}

bool same(const perps::GenesisState& a, const perps::GenesisState& b) {
  if (a.chain_id != b.chain_id || a.genesis_time_ms != b.genesis_time_ms ||
      a.stake_token != b.stake_token || a.validators.size() != b.validators.size() ||
      a.balances.size() != b.balances.size() || a.markets.size() != b.markets.size())
    return false;
  for (std::size_t i = 0; i < a.validators.size(); ++i) {
    const auto &x = a.validators[i], &y = b.validators[i];
    if (x.address != y.address || x.power != y.power || x.p2p != y.p2p) return false;
  }
  for (std::size_t i = 0; i < a.balances.size(); ++i) {
    const auto &x = a.balances[i], &y = b.balances[i];
    if (x.address != y.address || x.usd != y.usd || x.stake != y.stake) return false;
  }
  for (std::size_t i = 0; i < a.markets.size(); ++i) {
    const auto &x = a.markets[i], &y = b.markets[i];
    if (x.name != y.name || x.sz_decimals != y.sz_decimals || x.max_leverage != y.max_leverage ||
        x.oracle_px != y.oracle_px || x.impact_notional != y.impact_notional || !x.tiers.empty() ||
        !y.tiers.empty())
      return false;
  }
  return true;
}

// The local example with one edit applied, as text.
std::string local_with(const std::function<void(json::object&)>& edit) {
  json::value root = json::parse(read_text(kLocalPath));
  edit(root.as_object());
  return json::serialize(root);
}

json::object& market0(json::object& root) {
  return root["markets"].as_array()[0].as_object();
}
json::object& balance0(json::object& root) {
  return root["balances"].as_array()[0].as_object();
}
json::object& validator0(json::object& root) {
  return root["validators"].as_array()[0].as_object();
}

// The error message of a text that must fail as BadGenesis.
std::string error_of(std::string_view text) {
  auto result = parse_genesis(text);
  REQUIRE_FALSE(result.ok());
  CHECK(result.reason() == state::Reason::BadGenesis);
  return result.error().message;
}

std::string error_with(const std::function<void(json::object&)>& edit) {
  return error_of(local_with(edit));
}

}  // namespace

TEST_CASE("the local example genesis loads", "[genesis]") {
  auto g = load_genesis_file(kLocalPath);
  REQUIRE(g.ok());
  CHECK(g->chain_id == 1337);
  CHECK(g->genesis_time_ms == 1767225600000);
  CHECK(g->stake_token == "PERP");
  REQUIRE(g->validators.size() == 1);
  CHECK(g->validators[0].address == address("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"));
  CHECK(g->validators[0].power == 100);
  CHECK(g->validators[0].p2p == "127.0.0.1:26656");
  REQUIRE(g->balances.size() == 2);
  CHECK(g->balances[0].address == g->validators[0].address);
  CHECK(g->balances[0].usd == 1'000'000 * perps::kMicro);
  CHECK(g->balances[1].address == vault_address());
  CHECK(g->balances[1].usd == 1'000'000 * perps::kMicro);
  REQUIRE(g->markets.size() == 3);
  CHECK(g->markets[0].name == "BTC");
  CHECK(g->markets[0].sz_decimals == 5);
  CHECK(g->markets[0].max_leverage == 40);
  CHECK(g->markets[0].oracle_px == 65'000 * perps::kMicro);
  CHECK(g->markets[0].impact_notional == perps::kImpactNotionalMajor);
  CHECK(g->markets[1].name == "ETH");
  CHECK(g->markets[1].sz_decimals == 4);
  CHECK(g->markets[1].max_leverage == 25);
  CHECK(g->markets[1].oracle_px == 3'500 * perps::kMicro);
  CHECK(g->markets[2].name == "SOL");
  CHECK(g->markets[2].sz_decimals == 2);
  CHECK(g->markets[2].max_leverage == 20);
  CHECK(g->markets[2].oracle_px == 150 * perps::kMicro);
  CHECK(g->markets[2].impact_notional == perps::kImpactNotionalDefault);
}

TEST_CASE("the four-validator example genesis loads", "[genesis]") {
  auto g = load_genesis_file(kTestnetPath);
  REQUIRE(g.ok());
  const char* addresses[] = {
      "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "0x90F79bf6EB2c4f870365E785982E1f101E93b906"};
  REQUIRE(g->validators.size() == 4);
  REQUIRE(g->balances.size() == 5);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(g->validators[i].address == address(addresses[i]));
    CHECK(g->validators[i].power == 100);
    CHECK(g->validators[i].p2p == "127.0.0.1:" + std::to_string(26656 + i));
    CHECK(g->balances[i].address == address(addresses[i]));
    CHECK(g->balances[i].usd == 1'000'000 * perps::kMicro);
  }
  CHECK(g->balances[4].address == vault_address());
  auto local = load_genesis_file(kLocalPath);
  REQUIRE(local.ok());
  CHECK(genesis_to_json(perps::GenesisState{0, 0, "", {}, {}, g->markets}) ==
        genesis_to_json(perps::GenesisState{0, 0, "", {}, {}, local->markets}));
}

TEST_CASE("the example files are in canonical form", "[genesis]") {
  for (const std::string& path : {kLocalPath, kTestnetPath}) {
    INFO(path);
    auto g = load_genesis_file(path);
    REQUIRE(g.ok());
    CHECK(genesis_to_json(*g) == read_text(path));
  }
}

TEST_CASE("genesis text round trips exactly", "[genesis]") {
  perps::GenesisState g;
  g.chain_id = 18'446'744'073'709'551'615ULL;  // past 2^53: still a JSON integer
  g.genesis_time_ms = 1'767'225'600'123;
  g.stake_token = "X9";
  g.validators = {{address("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"), 7, "node-1.example:1"},
                  {address("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"), 1, "[::1]:65535"}};
  g.balances = {{address("0x90f79bf6eb2c4f870365e785982e1f101e93b906"), 1, 0},
                {vault_address(), 9'223'372'036'854'775'806, 123'456'789}};
  g.markets = {{"A1", 0, 1, 123'456'000'000, 1, {}},  // an integer price may have 6 figures
               {"Z", 6, 50, 1'000'000, 999'999'999, {}},
               {"LONGNAME12345678901", 3, 3, 12'345'000, 5'500'000, {}}};
  std::string text = genesis_to_json(g);
  auto parsed = parse_genesis(text);
  REQUIRE(parsed.ok());
  CHECK(same(*parsed, g));
  CHECK(genesis_to_json(*parsed) == text);
  CHECK_THAT(text, Catch::Matchers::Contains("\"usd\": \"9223372036854.775806\""));
  CHECK_THAT(text, Catch::Matchers::Contains("0x90F79bf6EB2c4f870365E785982E1f101E93b906"));
  CHECK_THAT(text, Catch::Matchers::Contains("\"impactNotional\": \"0.000001\""));

  // No balances, no markets: empty arrays.
  perps::GenesisState bare{1, 1'767'225'600'000, "PERP", {g.validators[0]}, {}, {}};
  auto bare_parsed = parse_genesis(genesis_to_json(bare));
  REQUIRE(bare_parsed.ok());
  CHECK(same(*bare_parsed, bare));
}

TEST_CASE("genesis optional fields take their defaults", "[genesis]") {
  auto g = parse_genesis(local_with([](json::object& root) {
    root.erase("stakeToken");
    balance0(root).erase("stake");
  }));
  REQUIRE(g.ok());
  CHECK(g->stake_token == "PERP");
  CHECK(g->balances[0].stake == 0);
}

TEST_CASE("genesis integer fields chainId and genesisTime may be digit strings", "[genesis]") {
  auto g = parse_genesis(local_with([](json::object& root) {
    root["chainId"] = "18446744073709551615";
    root["genesisTime"] = "1767225600000";
  }));
  REQUIRE(g.ok());
  CHECK(g->chain_id == 18'446'744'073'709'551'615ULL);
  CHECK(g->genesis_time_ms == 1'767'225'600'000);
  CHECK_THAT(error_with([](json::object& root) { root["chainId"] = "18446744073709551616"; }),
             StartsWith("chainId: must be a positive integer"));
  CHECK_THAT(error_with([](json::object& root) { root["chainId"] = "0x539"; }),
             StartsWith("chainId: must be a positive integer"));
  CHECK_THAT(error_with([](json::object& root) { root["chainId"] = "-1"; }),
             StartsWith("chainId: must be a positive integer"));
  CHECK_THAT(error_with([](json::object& root) { root["chainId"] = ""; }),
             StartsWith("chainId: must be a positive integer"));
}

TEST_CASE("genesis rejects unknown fields", "[genesis]") {
  CHECK_THAT(error_with([](json::object& root) { root["foo"] = 1; }),
             StartsWith("foo: unknown field"));
  CHECK_THAT(error_with([](json::object& root) { market0(root)["tiers"] = json::array(); }),
             StartsWith("markets[0].tiers: unknown field"));
  CHECK_THAT(error_with([](json::object& root) { validator0(root)["Power"] = 1; }),
             StartsWith("validators[0].Power: unknown field"));
  CHECK_THAT(error_with([](json::object& root) { balance0(root)["usdc"] = "1"; }),
             StartsWith("balances[0].usdc: unknown field"));
}

TEST_CASE("genesis rejects missing fields", "[genesis]") {
  for (const char* name : {"chainId", "genesisTime", "validators", "balances", "markets"}) {
    CHECK_THAT(error_with([&](json::object& root) { root.erase(name); }),
               StartsWith(std::string(name) + ": missing"));
  }
  for (const char* name : {"address", "power", "p2p"}) {
    CHECK_THAT(error_with([&](json::object& root) { validator0(root).erase(name); }),
               StartsWith("validators[0]." + std::string(name) + ": missing"));
  }
  for (const char* name : {"address", "usd"}) {
    CHECK_THAT(error_with([&](json::object& root) { balance0(root).erase(name); }),
               StartsWith("balances[0]." + std::string(name) + ": missing"));
  }
  for (const char* name : {"name", "szDecimals", "maxLeverage", "oraclePx", "impactNotional"}) {
    CHECK_THAT(error_with([&](json::object& root) { market0(root).erase(name); }),
               StartsWith("markets[0]." + std::string(name) + ": missing"));
  }
}

TEST_CASE("genesis rejects malformed addresses", "[genesis]") {
  const char* kRule = "validators[0].address: not a 0x-prefixed 20-byte hex address";
  for (json::value bad : {json::value("f39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
                          json::value("0xf39fd6e51aad88f6f4ce6ab8827279cfffb9226"),
                          json::value("0xf39fd6e51aad88f6f4ce6ab8827279cfffb922660"),
                          json::value("0Xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
                          json::value("0xg39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
                          json::value(" 0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
                          json::value(""), json::value(12), json::value(nullptr)}) {
    INFO(json::serialize(bad));
    CHECK_THAT(error_with([&](json::object& root) { validator0(root)["address"] = bad; }),
               StartsWith(kRule));
  }
  CHECK_THAT(error_with([](json::object& root) {
               balance0(root)["address"] = "0x0000000000000000000000000000000000000000";
             }),
             StartsWith("balances[0].address: the zero address"));
  CHECK_THAT(error_with([](json::object& root) {
               validator0(root)["address"] = "0x0000000000000000000000000000000000ba0c57";
             }),
             StartsWith("validators[0].address: the backstop vault"));
}

TEST_CASE("genesis accepts addresses in one case and checks mixed case", "[genesis]") {
  for (const char* form : {"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
                           "0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266"}) {
    auto g =
        parse_genesis(local_with([&](json::object& root) { validator0(root)["address"] = form; }));
    REQUIRE(g.ok());
    CHECK(g->validators[0].address == address(form));
    CHECK_THAT(genesis_to_json(*g),
               Catch::Matchers::Contains("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
  }
  // One letter's case flipped from the checksummed form.
  CHECK_THAT(error_with([](json::object& root) {
               validator0(root)["address"] = "0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
             }),
             StartsWith("validators[0].address: bad EIP-55 checksum (expected "
                        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266)"));
  CHECK_THAT(error_with([](json::object& root) {
               balance0(root)["address"] = "0x90F79bf6EB2c4f870365E785982E1f161e2Dd4d1";
             }),
             StartsWith("balances[0].address: bad EIP-55 checksum"));
}

TEST_CASE("genesis rejects duplicates", "[genesis]") {
  CHECK_THAT(error_with([](json::object& root) {
               json::object second = validator0(root);
               second["address"] =
                   "0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266";  // same, other case
               second["p2p"] = "127.0.0.1:26657";
               root["validators"].as_array().push_back(second);
             }),
             StartsWith("validators[1].address: duplicate"));
  CHECK_THAT(error_with([](json::object& root) {
               json::object second = validator0(root);
               second["address"] = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
               root["validators"].as_array().push_back(second);
             }),
             StartsWith("validators[1].p2p: duplicate"));
  CHECK_THAT(error_with([](json::object& root) {
               json::object again = balance0(root);
               root["balances"].as_array().push_back(again);
             }),
             StartsWith("balances[2].address: duplicate"));
  CHECK_THAT(error_with([](json::object& root) {
               root["markets"].as_array()[2].as_object()["name"] = "BTC";
             }),
             StartsWith("markets[2].name: duplicate"));
  // Duplicate JSON keys, which a tree parser would silently collapse.
  CHECK_THAT(error_of(R"({"chainId": 1, "chainId": 2})"), StartsWith("chainId: duplicate key"));
  std::string text = read_text(kLocalPath);
  std::string twice = text;
  twice.replace(twice.find("\"stake\": \"0\""), 12, "\"stake\": \"0\", \"stake\": \"1\"");
  CHECK_THAT(error_of(twice), StartsWith("balances[1].stake: duplicate key"));
  twice = text;
  twice.replace(twice.find("\"szDecimals\": 2"), 15, "\"szDecimals\": 2, \"szDecimals\": 3");
  CHECK_THAT(error_of(twice), StartsWith("markets[2].szDecimals: duplicate key"));
}

TEST_CASE("genesis rejects amounts that are not decimal strings", "[genesis]") {
  for (const char* bad : {"1e5", "abc", "", " 1", "1 ", "+1", "1.", ".5", "0x10", "1,000"}) {
    INFO(bad);
    CHECK_THAT(error_with([&](json::object& root) { balance0(root)["usd"] = bad; }),
               StartsWith("balances[0].usd: not a decimal string"));
  }
  CHECK_THAT(error_with([](json::object& root) { balance0(root)["stake"] = "ten"; }),
             StartsWith("balances[0].stake: not a decimal string"));
  CHECK_THAT(error_with([](json::object& root) { balance0(root)["usd"] = 1000000; }),
             StartsWith("balances[0].usd: must be a decimal string, not a JSON number"));
  CHECK_THAT(error_with([](json::object& root) { market0(root)["oraclePx"] = 65000; }),
             StartsWith("markets[0].oraclePx: must be a decimal string, not a JSON number"));
  CHECK_THAT(error_with([](json::object& root) { balance0(root)["usd"] = json::array(); }),
             StartsWith("balances[0].usd: must be a decimal string"));
  CHECK_THAT(error_with([](json::object& root) { balance0(root)["usd"] = "-1"; }),
             StartsWith("balances[0].usd: must not be negative"));
  CHECK_THAT(error_with([](json::object& root) { balance0(root)["usd"] = "9223372036854.775808"; }),
             StartsWith("balances[0].usd: too large"));
  // Each balance fits, their sum does not.
  CHECK_THAT(error_with([](json::object& root) {
               balance0(root)["usd"] = "9223372036854";
               root["balances"].as_array()[1].as_object()["usd"] = "1";
             }),
             StartsWith("balances[1].usd: total of all balances does not fit 64 bits"));
  CHECK_THAT(error_with([](json::object& root) { market0(root)["impactNotional"] = "0"; }),
             StartsWith("markets[0].impactNotional: must be positive"));
  CHECK_THAT(error_with([](json::object& root) { market0(root)["oraclePx"] = "0.000"; }),
             StartsWith("markets[0].oraclePx: must be positive"));
}

TEST_CASE("genesis rejects amounts with more than 6 decimals", "[genesis]") {
  CHECK_THAT(error_with([](json::object& root) { balance0(root)["usd"] = "0.0000001"; }),
             StartsWith("balances[0].usd: more than 6 decimals"));
  CHECK_THAT(error_with([](json::object& root) { balance0(root)["stake"] = "1.1234567"; }),
             StartsWith("balances[0].stake: more than 6 decimals"));
  CHECK_THAT(error_with([](json::object& root) { market0(root)["impactNotional"] = "1.0000001"; }),
             StartsWith("markets[0].impactNotional: more than 6 decimals"));
  // Trailing zeros past the sixth decimal are harmless (SPEC section 1).
  auto g =
      parse_genesis(local_with([](json::object& root) { balance0(root)["usd"] = "1.500000000"; }));
  REQUIRE(g.ok());
  CHECK(g->balances[0].usd == 1'500'000);
}

TEST_CASE("genesis szDecimals must be an integer from 0 to 6", "[genesis]") {
  for (json::value bad : {json::value(7), json::value(-1), json::value("5"), json::value(5.0),
                          json::value(true), json::value(nullptr)}) {
    INFO(json::serialize(bad));
    CHECK_THAT(error_with([&](json::object& root) { market0(root)["szDecimals"] = bad; }),
               StartsWith("markets[0].szDecimals: must be an integer 0..6"));
  }
  // szDecimals 0 and 6 are in range (the price must still fit the new grid).
  CHECK(
      parse_genesis(local_with([](json::object& root) { market0(root)["szDecimals"] = 0; })).ok());
  CHECK(
      parse_genesis(local_with([](json::object& root) { market0(root)["szDecimals"] = 6; })).ok());
}

TEST_CASE("genesis maxLeverage must be an integer from 1 to 50", "[genesis]") {
  for (json::value bad : {json::value(0), json::value(51), json::value("40"), json::value(40.5)}) {
    INFO(json::serialize(bad));
    CHECK_THAT(error_with([&](json::object& root) { market0(root)["maxLeverage"] = bad; }),
               StartsWith("markets[0].maxLeverage: must be an integer 1..50"));
  }
  CHECK(
      parse_genesis(local_with([](json::object& root) { market0(root)["maxLeverage"] = 1; })).ok());
  CHECK(parse_genesis(local_with([](json::object& root) {
          market0(root)["maxLeverage"] = 50;
        })).ok());
}

TEST_CASE("genesis oraclePx must be a valid price for the market", "[genesis]") {
  // BTC has szDecimals 5: at most 1 decimal and 5 significant figures unless an integer.
  for (const char* bad : {"65000.5", "65001.5", "12345.6", "1.23456", "0.01"}) {
    INFO(bad);
    CHECK_THAT(error_with([&](json::object& root) { market0(root)["oraclePx"] = bad; }),
               StartsWith("markets[0].oraclePx: not a valid price (at most 5 significant figures "
                          "and at most 1 decimals"));
  }
  for (const char* good : {"123456", "65000", "6500.5", "1234.5", "0.1", "9999999999"}) {
    INFO(good);
    CHECK(parse_genesis(local_with([&](json::object& root) {
            market0(root)["oraclePx"] = good;
          })).ok());
  }
  // The daily oracle range (x10) must stay within int64.
  CHECK_THAT(error_with([](json::object& root) { market0(root)["oraclePx"] = "1000000000000"; }),
             StartsWith("markets[0].oraclePx: too large"));
}

TEST_CASE("genesis rejects text that is not JSON", "[genesis]") {
  for (std::string_view bad : {"", "{", "{}}", "not json", "{\"chainId\": 1,}", "[1, 2",
                               "{\"chainId\": 01}", "\xff\xfe{}"}) {
    INFO(bad);
    CHECK_THAT(error_of(bad), StartsWith("genesis: not JSON ("));
  }
  CHECK_THAT(error_of("{\n  \"chainId\": 1,\n  oops\n}"),
             StartsWith("genesis: not JSON (line 3, column 3:"));
  // A comment is not JSON either.
  CHECK_THAT(error_of("// hi\n{}"), StartsWith("genesis: not JSON"));
}

TEST_CASE("genesis rejects fields of the wrong JSON kind", "[genesis]") {
  CHECK_THAT(error_of("[]"), StartsWith("genesis: must be an object"));
  CHECK_THAT(error_of("\"genesis\""), StartsWith("genesis: must be an object"));
  CHECK_THAT(error_with([](json::object& root) { root["chainId"] = 0; }),
             StartsWith("chainId: must be a positive integer"));
  CHECK_THAT(error_with([](json::object& root) { root["chainId"] = -5; }),
             StartsWith("chainId: must be a positive integer"));
  CHECK_THAT(error_with([](json::object& root) { root["chainId"] = 1337.0; }),
             StartsWith("chainId: must be a positive integer"));
  CHECK_THAT(error_with([](json::object& root) { root["genesisTime"] = 1767225600; }),
             StartsWith("genesisTime: must be an integer Unix time in milliseconds"));
  CHECK_THAT(error_with([](json::object& root) { root["genesisTime"] = true; }),
             StartsWith("genesisTime: must be an integer Unix time in milliseconds"));
  CHECK_THAT(error_with([](json::object& root) { root["validators"] = json::object(); }),
             StartsWith("validators: must be an array"));
  CHECK_THAT(error_with([](json::object& root) { root["balances"] = "none"; }),
             StartsWith("balances: must be an array"));
  CHECK_THAT(error_with([](json::object& root) { root["markets"] = nullptr; }),
             StartsWith("markets: must be an array"));
  CHECK_THAT(error_with([](json::object& root) { root["markets"].as_array()[1] = "ETH"; }),
             StartsWith("markets[1]: must be an object"));
  CHECK_THAT(error_with([](json::object& root) { validator0(root)["power"] = "100"; }),
             StartsWith("validators[0].power: must be a positive integer"));
  CHECK_THAT(error_with([](json::object& root) { validator0(root)["power"] = 0; }),
             StartsWith("validators[0].power: must be a positive integer"));
  CHECK_THAT(error_with([](json::object& root) { market0(root)["name"] = 1; }),
             StartsWith("markets[0].name: must be 1..20 uppercase letters or digits"));
  CHECK_THAT(error_with([](json::object& root) { root["stakeToken"] = nullptr; }),
             StartsWith("stakeToken: must be 1..16 uppercase letters or digits"));
}

TEST_CASE("genesis names and endpoints follow their formats", "[genesis]") {
  for (const char* bad : {"", "btc", "BTC-PERP", "dex:BTC", "ABCDEFGHIJKLMNOPQRSTU", " BTC"}) {
    INFO(bad);
    CHECK_THAT(error_with([&](json::object& root) { market0(root)["name"] = bad; }),
               StartsWith("markets[0].name: must be 1..20 uppercase letters or digits"));
  }
  for (const char* bad : {"", "perp", "ABCDEFGHIJKLMNOPQ", "P P"}) {
    INFO(bad);
    CHECK_THAT(error_with([&](json::object& root) { root["stakeToken"] = bad; }),
               StartsWith("stakeToken: must be 1..16 uppercase letters or digits"));
  }
  for (const char* bad :
       {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", ":26656", "127.0.0.1:026656",
        "127.0.0.1:2665a", "a b:1", "[]:1", "::1:80", "127.0.0.1:26656 "}) {
    INFO(bad);
    CHECK_THAT(error_with([&](json::object& root) { validator0(root)["p2p"] = bad; }),
               StartsWith("validators[0].p2p: must be \"host:port\" with port 1..65535"));
  }
  for (const char* good :
       {"localhost:1", "node-0.example.org:65535", "[::1]:26656", "10.0.0.1:26656"}) {
    INFO(good);
    CHECK(parse_genesis(local_with([&](json::object& root) {
            validator0(root)["p2p"] = good;
          })).ok());
  }
}

TEST_CASE("genesis needs at least one validator", "[genesis]") {
  CHECK_THAT(error_with([](json::object& root) { root["validators"] = json::array(); }),
             StartsWith("validators: must not be empty"));
  // Balances and markets may be empty: markets can come later from deployers.
  CHECK(parse_genesis(local_with([](json::object& root) {
          root["balances"] = json::array();
          root["markets"] = json::array();
        })).ok());
}

TEST_CASE("genesis total validator power must fit 63 bits", "[genesis]") {
  CHECK_THAT(error_with([](json::object& root) {
               validator0(root)["power"] = 9'223'372'036'854'775'807LL;
               json::object second = validator0(root);
               second["address"] = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
               second["p2p"] = "127.0.0.1:26657";
               second["power"] = 1;
               root["validators"].as_array().push_back(second);
             }),
             StartsWith("validators[1].power: total power"));
}

TEST_CASE("genesis rejects JSON nested too deep", "[genesis]") {
  std::string deep = "{\"chainId\": " + std::string(20, '[') + "1" + std::string(20, ']') + "}";
  CHECK_THAT(error_of(deep), StartsWith("genesis: JSON nested deeper than 8 levels"));
  // Far deeper input fails the same way, without recursion trouble.
  std::string very_deep(100'000, '[');
  CHECK_THAT(error_of(very_deep), StartsWith("genesis: JSON nested deeper than 8 levels"));
  // Within the limit the kind is what is wrong.
  CHECK_THAT(error_with([](json::object& root) { root["chainId"] = json::parse("[[[1]]]"); }),
             StartsWith("chainId: must be a positive integer"));
}

TEST_CASE("genesis rejects files over 16 MiB", "[genesis]") {
  // Valid JSON (whitespace after the object) but too large: rejected before parsing.
  std::string text = read_text(kLocalPath);
  text.resize(kMaxGenesisBytes + 1, ' ');
  CHECK_THAT(error_of(text), StartsWith("genesis: larger than 16777216 bytes"));
  text.resize(kMaxGenesisBytes);
  CHECK(parse_genesis(text).ok());

  const std::string path = (std::filesystem::temp_directory_path() /
                            ("perpd-genesis-" + std::to_string(std::random_device{}()) + ".json"))
                               .string();
  {
    std::ofstream file(path, std::ios::binary);
    file << text << "  ";
  }
  auto loaded = load_genesis_file(path);
  std::remove(path.c_str());
  REQUIRE_FALSE(loaded.ok());
  CHECK_THAT(loaded.error().message, StartsWith("genesis: larger than 16777216 bytes"));
}

TEST_CASE("genesis loading names a missing file", "[genesis]") {
  auto result = load_genesis_file("/nonexistent/genesis.json");
  REQUIRE_FALSE(result.ok());
  CHECK(result.reason() == state::Reason::BadGenesis);
  CHECK_THAT(result.error().message, StartsWith("/nonexistent/genesis.json: cannot open"));
}

TEST_CASE("genesis parsing survives random mutations", "[genesis][fuzz]") {
  const std::string original = read_text(kLocalPath);
  // A fresh seed each run, printed; PERPD_SEED=<n> replays one.
  const char* env = std::getenv("PERPD_SEED");
  const std::uint64_t seed = env ? std::strtoull(env, nullptr, 0) : std::random_device{}();
  std::printf("genesis mutation seed: %llu (rerun with PERPD_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  INFO("seed " << seed << " (rerun with PERPD_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const std::string_view alphabet = "{}[]\":,0123456789.-eE xX\\aAfF\n\xff";
  int accepted = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string text = original;
    const std::size_t edits = 1 + pick(4);
    for (std::size_t e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = pick(text.size());
      switch (pick(5)) {
        case 0:  // replace one byte
          text[at] = alphabet[pick(alphabet.size())];
          break;
        case 1:  // delete a short run
          text.erase(at, 1 + pick(8));
          break;
        case 2:  // insert a byte
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at),
                      alphabet[pick(alphabet.size())]);
          break;
        case 3:  // duplicate a slice (repeats keys, entries, brackets)
          text.insert(at, text.substr(pick(text.size()), 1 + pick(64)));
          break;
        case 4:  // flip a bit anywhere
          text[at] = static_cast<char>(text[at] ^ (1 << pick(8)));
          break;
      }
    }
    auto result = parse_genesis(text);
    if (result.ok()) {
      ++accepted;
      // Whatever is accepted is well-formed enough to round-trip.
      auto again = parse_genesis(genesis_to_json(*result));
      REQUIRE(again.ok());
      CHECK(same(*again, *result));
    } else {
      CHECK(result.reason() == state::Reason::BadGenesis);
      CHECK_FALSE(result.error().message.empty());
    }
  }
  std::printf("genesis mutation: %d of 2000 accepted\n", accepted);
}
