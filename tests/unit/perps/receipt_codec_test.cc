#include "perps/receipt_codec.h"

#include <catch2/catch.hpp>

#include "exchange_harness.h"

using namespace perps;
using perps::testing::Harness;
using perps::testing::order;
using state::Reason;
using state::Tif;

namespace {

std::string record_of(const Outcome& outcome) {
  return encode_outcome_record(outcome);
}

std::string stored_text(const Exchange& exchange, std::string_view record) {
  auto text = stored_outcome_json_text(exchange, record);
  REQUIRE(text);
  return *text;
}

}  // namespace

TEST_CASE("outcome records render the JSON the answer had: resting - filled - success - error",
          "[receipt]") {
  Harness h;
  const OrderStatus resting = h.place("B", order("BTC", false, "50000", "0.3"));
  const OrderStatus filled = h.place("A", order("BTC", true, "50000", "0.25", Tif::Ioc));
  REQUIRE(resting.kind == OrderStatus::Kind::Resting);
  REQUIRE(filled.kind == OrderStatus::Kind::Filled);
  OrderStatus success;
  success.kind = OrderStatus::Kind::Success;
  OrderStatus error;
  error.error = Reason::InsufficientMargin;

  Outcome one;
  one.response = {resting};
  const std::string record = record_of(one);
  // tag, count, kind, market, oid: a quarter of the ~70 bytes of its text
  CHECK(record.size() == 1 + 4 + 1 + 4 + 8);
  CHECK(stored_text(h.exchange(), record) ==
        R"({"status":"ok","response":{"statuses":[{"resting":{"oid":)" +
            std::to_string(resting.oid) + "}}]}}");

  Outcome all;
  all.response = {resting, filled, success, error};
  CHECK(stored_text(h.exchange(), record_of(all)) ==
        R"({"status":"ok","response":{"statuses":[{"resting":{"oid":)" +
            std::to_string(resting.oid) + R"(}},{"filled":{"oid":)" + std::to_string(filled.oid) +
            R"(,"totalSz":"0.25","avgPx":"50000"}},"success",{"error":"InsufficientMargin"}]}})");
  auto decoded = decode_outcome_record(record_of(all));
  REQUIRE(decoded);
  REQUIRE(decoded->ok);
  REQUIRE(decoded->response.size() == 4);
  CHECK(decoded->response[1].market == filled.market);
  CHECK(decoded->response[1].oid == filled.oid);
  CHECK(decoded->response[1].total_sz == filled.total_sz);
  CHECK(decoded->response[1].avg_px == filled.avg_px);
  CHECK(decoded->response[3].error == Reason::InsufficientMargin);
}

TEST_CASE("outcome records: no response - rejection with a message to escape - older JSON text",
          "[receipt]") {
  Harness h;
  CHECK(stored_text(h.exchange(), record_of(Outcome{})) == R"({"status":"ok","response":null})");

  const Outcome rejected =
      Outcome::rejected(state::make_error(Reason::NonceTooLow, "nonce \"5\" is below\nthe window"));
  CHECK(
      stored_text(h.exchange(), record_of(rejected)) ==
      R"({"status":"err","response":{"reason":"NonceTooLow","message":"nonce \"5\" is below\nthe window"}})");
  auto decoded = decode_outcome_record(record_of(rejected));
  REQUIRE(decoded);
  CHECK_FALSE(decoded->ok);
  CHECK(decoded->reason == Reason::NonceTooLow);
  CHECK(decoded->message == "nonce \"5\" is below\nthe window");

  const std::string legacy = R"({"status":"ok","response":null})";
  CHECK(stored_text(h.exchange(), legacy) == legacy);
  // An older refusal, reason and message at the top, comes out in today's shape.
  CHECK(stored_text(h.exchange(), R"({"status":"err","reason":"NonceTooLow","message":"m"})") ==
        R"({"status":"err","response":{"reason":"NonceTooLow","message":"m"}})");
}

TEST_CASE("damaged outcome records are named StorageError", "[receipt]") {
  Harness h;
  const OrderStatus filled_status = [&] {
    h.place("B", order("BTC", false, "50000", "0.3"));
    return h.place("A", order("BTC", true, "50000", "0.1", Tif::Ioc));
  }();
  Outcome filled;
  filled.response = {filled_status};
  const std::string good = record_of(filled);
  REQUIRE(stored_outcome_json_text(h.exchange(), good));

  std::string market_past_end = good;
  market_past_end[1 + 4 + 1 + 3] = 9;  // low byte of the market index: no market 9
  std::string unknown_kind = good;
  unknown_kind[1 + 4] = 7;
  Outcome bad_reason_outcome = Outcome::rejected(state::make_error(Reason::NonceTooLow, "m"));
  std::string bad_reason = record_of(bad_reason_outcome);
  bad_reason[2] = 'X';  // "XonceTooLow" names no reason
  const std::vector<std::string> damaged = {
      "",                               // empty
      std::string(1, '\x03'),           // unknown tag
      good.substr(0, good.size() - 1),  // cut
      good + "x",                       // trailing bytes
      market_past_end,
      unknown_kind,
      bad_reason,
      std::string("\x02\x40", 2),  // a reason name longer than the record
      "{\"status\":",              // JSON text, cut
  };
  for (const std::string& record : damaged) {
    INFO("record of " << record.size() << " bytes");
    auto text = stored_outcome_json_text(h.exchange(), record);
    REQUIRE_FALSE(text);
    CHECK(text.error().reason == Reason::StorageError);
  }
}

TEST_CASE("reason names map back to their reasons", "[receipt]") {
  for (Reason r : {Reason::BadJson, Reason::NonceTooLow, Reason::InsufficientMargin,
                   Reason::StorageError, Reason::UnknownMarket})
    CHECK(state::reason_from_name(state::reason_name(r)) == r);
  CHECK_FALSE(state::reason_from_name("NoSuchReason"));
  CHECK_FALSE(state::reason_from_name(""));
}
