#include "perps/receipt_codec.h"

#include <boost/json.hpp>

#include "record_codec.h"

namespace perps {
using detail::RecordReader;
using detail::RecordWriter;
using state::make_error;
using state::Reason;

namespace {

// The first byte of a record. Neither is '{', the first byte of the older JSON records.
constexpr std::uint8_t kOkTag = 1;
constexpr std::uint8_t kErrTag = 2;

// Reasons go by their stable names, so that renumbering the enum never changes what an old
// record says.
void put_reason(RecordWriter& w, Reason reason) {
  const std::string_view name = state::reason_name(reason);
  w.u8(static_cast<std::uint8_t>(name.size()));
  for (char c : name) w.u8(static_cast<std::uint8_t>(c));
}
std::optional<Reason> get_reason(RecordReader& r) {
  const std::uint8_t size = r.u8();
  std::string name;
  for (std::uint8_t i = 0; i < size && r.ok(); ++i) name.push_back(static_cast<char>(r.u8()));
  return r.ok() ? state::reason_from_name(name) : std::nullopt;
}

state::Error damaged() {
  return make_error(Reason::StorageError, "damaged transaction outcome record");
}

}  // namespace

std::string encode_outcome_record(const Outcome& outcome) {
  RecordWriter w;
  if (!outcome.ok) {
    w.u8(kErrTag);
    put_reason(w, outcome.reason);
    return w.take() + outcome.message;  // the message is the rest of the record
  }
  w.u8(kOkTag).u32(static_cast<std::uint32_t>(outcome.response.size()));
  for (const OrderStatus& s : outcome.response) {
    w.u8(static_cast<std::uint8_t>(s.kind));
    switch (s.kind) {
      case OrderStatus::Kind::Resting:
        w.u32(s.market).u64(s.oid);
        break;
      case OrderStatus::Kind::Filled:
        w.u32(s.market).u64(s.oid).i64(s.total_sz).i64(s.avg_px);
        break;
      case OrderStatus::Kind::Success:
        break;
      case OrderStatus::Kind::Error:
        put_reason(w, s.error);
        break;
    }
  }
  return w.take();
}

state::Result<Outcome> decode_outcome_record(std::string_view record) {
  RecordReader r(record);
  Outcome outcome;
  const std::uint8_t tag = r.u8();
  if (tag == kErrTag) {
    auto reason = get_reason(r);
    if (!reason) return damaged();
    outcome.ok = false;
    outcome.reason = *reason;
    outcome.message = std::string(record.substr(record.size() - r.remaining()));
    return outcome;
  }
  if (tag != kOkTag) return damaged();
  const std::uint32_t count = r.u32();
  for (std::uint32_t i = 0; i < count && r.ok(); ++i) {
    OrderStatus s;
    const std::uint8_t kind = r.u8();
    switch (kind) {
      case static_cast<std::uint8_t>(OrderStatus::Kind::Resting):
        s.kind = OrderStatus::Kind::Resting;
        s.market = r.u32();
        s.oid = r.u64();
        break;
      case static_cast<std::uint8_t>(OrderStatus::Kind::Filled):
        s.kind = OrderStatus::Kind::Filled;
        s.market = r.u32();
        s.oid = r.u64();
        s.total_sz = r.i64();
        s.avg_px = r.i64();
        break;
      case static_cast<std::uint8_t>(OrderStatus::Kind::Success):
        s.kind = OrderStatus::Kind::Success;
        break;
      case static_cast<std::uint8_t>(OrderStatus::Kind::Error): {
        s.kind = OrderStatus::Kind::Error;
        auto reason = get_reason(r);
        if (!reason) return damaged();
        s.error = *reason;
        break;
      }
      default:
        return damaged();
    }
    outcome.response.push_back(s);
  }
  if (!r.done()) return damaged();
  return outcome;
}

std::string response_json_text(const Exchange& exchange, const Exchange::Response& response) {
  return response.empty() ? std::string("null") : order_statuses_json_text(exchange, response);
}

namespace {
// An execution refusal: {"status":"err","response":{"reason":...,"message":...}}.
std::string refusal_json_text(std::string_view reason, std::string_view message) {
  return boost::json::serialize(boost::json::object{
      {"status", "err"},
      {"response", boost::json::object{{"reason", reason}, {"message", message}}}});
}
}  // namespace

std::string outcome_json_text(const Exchange& exchange, const Outcome& outcome) {
  if (!outcome.ok) return refusal_json_text(state::reason_name(outcome.reason), outcome.message);
  return R"({"status":"ok","response":)" + response_json_text(exchange, outcome.response) + '}';
}

state::Result<std::string> stored_outcome_json_text(const Exchange& exchange,
                                                    std::string_view record) {
  if (record.starts_with('{')) {
    // Stored as JSON text by older builds, a refusal with its reason and message at the top.
    boost::json::error_code ec;
    const boost::json::value old = boost::json::parse(record, ec);
    const boost::json::object* o = ec ? nullptr : old.if_object();
    if (!o) return make_error(Reason::StorageError, "damaged outcome record (JSON text)");
    const boost::json::value* reason = o->if_contains("reason");
    const boost::json::value* message = o->if_contains("message");
    if (reason && reason->is_string() && message && message->is_string())
      return refusal_json_text(reason->get_string(), message->get_string());
    return std::string(record);
  }
  auto outcome = decode_outcome_record(record);
  if (!outcome) return outcome.error();
  // A market index past the exchange's markets is damage too: the text would name another
  // market's size decimals.
  for (const OrderStatus& s : outcome->response)
    if (s.kind == OrderStatus::Kind::Filled && s.market >= exchange.markets().size())
      return damaged();
  return outcome_json_text(exchange, *outcome);
}

}  // namespace perps
