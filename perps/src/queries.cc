// SPEC section 5 result shapes. Amounts and prices are decimal strings; identifiers, counts,
// times and market parameters (oid, tid, n, szDecimals, maxLeverage) are JSON integers.
#include <algorithm>
#include <boost/json.hpp>

#include "perps/book_level.h"
#include "perps/exchange.h"
#include "state/crypto.h"
#include "state/decimal.h"
#include "state/fixed_point.h"

namespace perps {
namespace json = boost::json;
using state::format_decimal;

namespace {

std::string px_text(Px px) {
  return format_decimal(px, 6);
}
std::string usd_text(std::int64_t usd) {
  return format_decimal(usd, 6);
}
std::string sz_text(const Market& market, Lots lots) {
  return format_decimal(lots, market.sz_decimals);
}

// The rate one funding interval pays, F * intervalHours / 8 (F in 1e-8): exact in 1e-11 units.
std::string interval_rate_text(std::int64_t rate_8h, std::uint32_t interval_hours) {
  return format_decimal(rate_8h * static_cast<std::int64_t>(interval_hours) * 125, 11);
}

json::value mid_px(const Market& market) {
  const auto mid = market.mid_px();
  return mid ? json::value(px_text(*mid)) : json::value(nullptr);
}

}  // namespace

std::string order_statuses_json_text(const Exchange& exchange, const OrderStatuses& statuses) {
  // Written as text: one per committed order, built on the commit path. Every string here is a
  // reason name or a decimal, so nothing needs escaping.
  std::string out = R"({"statuses":[)";
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    const OrderStatus& s = statuses[i];
    const Market& market = exchange.markets()[s.market < exchange.markets().size() ? s.market : 0];
    if (i) out += ',';
    switch (s.kind) {
      case OrderStatus::Kind::Resting:
        out += R"({"resting":{"oid":)" + std::to_string(s.oid) + "}}";
        break;
      case OrderStatus::Kind::Filled:
        out += R"({"filled":{"oid":)" + std::to_string(s.oid) + R"(,"totalSz":")" +
               sz_text(market, s.total_sz) + R"(","avgPx":")" + px_text(s.avg_px) + "\"}}";
        break;
      case OrderStatus::Kind::Success:
        out += R"("success")";
        break;
      case OrderStatus::Kind::Error:
        out += R"({"error":")" + std::string(state::reason_name(s.error)) + "\"}";
        break;
    }
  }
  return out + "]}";
}

json::value markets_to_json(const Exchange& exchange) {
  json::array out;
  for (const Market& m : exchange.markets()) {
    out.push_back(json::object{
        {"name", m.name},
        {"dex", ""},
        {"szDecimals", m.sz_decimals},
        {"maxLeverage", m.max_leverage},
        {"onlyIsolated", m.only_isolated},
        {"halted", m.halted},
        {"markPx", px_text(m.mark_px)},
        {"oraclePx", px_text(m.oracle_px)},
        {"midPx", mid_px(m)},
        // The rate the current interval pays if its premium holds.
        {"funding",
         interval_rate_text(
             funding_rate_8h(m.premium_samples ? m.premium_sum / m.premium_samples : 0, m.funding),
             m.funding.interval_hours)},
        {"openInterest", sz_text(m, m.open_interest)},
        {"dayNtlVlm", usd_text(m.day_volume)}});
  }
  return out;
}

json::value order_book_to_json(const Exchange& exchange, MarketIndex market, std::size_t depth,
                               std::uint64_t height, std::uint64_t time_ms) {
  const Market& m = exchange.markets()[market];
  std::vector<BookLevel> levels;
  auto side_json = [&](Side side) {
    levels.clear();
    m.book.levels(side, depth, levels);
    json::array out;
    for (const auto& level : levels)
      out.push_back(
          json::object{{"px", px_text(level.px)}, {"sz", sz_text(m, level.sz)}, {"n", level.n}});
    return out;
  };
  return json::object{{"market", m.name},
                      {"height", height},
                      {"time", time_ms},
                      {"bids", side_json(Side::Bid)},
                      {"asks", side_json(Side::Ask)}};
}

namespace {
json::value liquidation_px_json(const Exchange& exchange, const Account& acct, MarketIndex m) {
  auto px = exchange.liquidation_px(acct, m);
  return px ? json::value(px_text(*px)) : json::value(nullptr);
}
}  // namespace

json::value account_to_json(const Exchange& exchange, const state::Address& user) {
  const Account* acct = exchange.find_account(user);
  Account empty;
  if (!acct) acct = &empty;
  MarginSummary summary = exchange.margin_summary(*acct);
  // The account's totals cover isolated positions too (as Hyperliquid's marginSummary): their
  // equity, margin and maintenance are added to the cross figures. withdrawable stays cross.
  std::int64_t account_value = summary.account_value;
  std::int64_t margin_used_total = summary.margin_required;
  std::int64_t maintenance_total = summary.maintenance_margin;
  json::array positions;
  for (const auto& [index, p] : acct->positions) {
    if (p.szi == 0) continue;
    const Market& m = exchange.markets()[index];
    const PositionMargin pm = position_margin(m, p);
    if (!p.is_cross) {
      account_value += p.isolated_margin + pm.upnl;
      margin_used_total += p.isolated_margin;
      maintenance_total += pm.maintenance;
    }
    const std::int64_t value = pm.value;
    const std::int64_t abs_szi = p.szi < 0 ? -p.szi : p.szi;
    const std::int64_t abs_cost = p.cost < 0 ? -p.cost : p.cost;
    const Px entry = static_cast<Px>(static_cast<state::i128>(abs_cost) * m.lot_scale / abs_szi);
    const std::int64_t margin_used = p.is_cross ? pm.own_initial : p.isolated_margin;
    positions.push_back(json::object{
        {"market", m.name},
        {"szi", sz_text(m, p.szi)},
        {"entryPx", px_text(entry)},
        {"positionValue", usd_text(value < 0 ? -value : value)},
        {"unrealizedPnl", usd_text(pm.upnl)},
        {"leverage",
         json::object{{"type", p.is_cross ? "cross" : "isolated"}, {"value", p.leverage}}},
        {"liquidationPx", liquidation_px_json(exchange, *acct, index)},
        {"marginUsed", usd_text(margin_used)},
        {"cumFunding", usd_text(p.cum_funding)}});
  }
  return json::object{
      {"user", state::to_checksum_address(user)},
      {"usd", usd_text(acct->usd)},
      {"accountValue", usd_text(account_value)},
      {"marginUsed", usd_text(margin_used_total)},
      {"maintenanceMargin", usd_text(maintenance_total)},
      {"withdrawable", usd_text(summary.withdrawable)},
      {"stake", json::object{{"free", usd_text(acct->stake_free)},  // micro-units, as USD
                             {"staked", "0"},
                             {"locked", "0"},
                             {"unstaking", "0"}}},
      {"positions", std::move(positions)}};
}

json::value open_orders_to_json(const Exchange& exchange, const state::Address& user) {
  json::array out;
  const Account* acct = exchange.find_account(user);
  if (!acct) return out;
  // Resting and trigger orders together, in oid order: a trigger order is listed at its limit
  // price with its trigger (triggerPx, tpsl) added, as Hyperliquid's frontendOpenOrders does, so
  // a stop the account placed is visible and cancellable by the oid it was given.
  std::vector<OrderId> oids = acct->orders;
  oids.insert(oids.end(), acct->triggers.begin(), acct->triggers.end());
  std::sort(oids.begin(), oids.end());
  auto entry = [](const Market& m, const RestingOrder& o) {
    return json::object{
        {"market", m.name},
        {"oid", o.oid},
        {"cloid", o.cloid.is_zero() ? json::value(nullptr) : json::value(state::to_hex(o.cloid))},
        {"side", o.side == Side::Bid ? "B" : "A"},
        {"px", px_text(o.px)},
        {"sz", sz_text(m, o.sz)},
        {"origSz", sz_text(m, o.orig_sz)},
        {"timestamp", o.time_ms}};
  };
  for (OrderId oid : oids) {
    if (const auto* trigger = exchange.find_trigger(oid)) {
      const auto& [m, t] = *trigger;
      json::object o = entry(exchange.markets()[m], t.order);
      o.emplace("triggerPx", px_text(t.trigger_px));
      o.emplace("tpsl", t.tpsl == state::TpSl::Tp ? "tp" : "sl");
      out.push_back(std::move(o));
      continue;
    }
    for (const Market& m : exchange.markets()) {
      if (const RestingOrder* o = m.book.find(oid)) {
        out.push_back(entry(m, *o));
        break;
      }
    }
  }
  return out;
}

namespace {
// Hyperliquid's fill field: null, or {liquidatedUser, markPx, method}.
json::value liquidation_json(const FillEvent& f) {
  if (f.liquidation == LiquidationMethod::None) return nullptr;
  return json::object{{"liquidatedUser", state::to_checksum_address(f.liquidated_user)},
                      {"markPx", px_text(f.liquidation_mark_px)},
                      {"method", liquidation_method_name(f.liquidation)}};
}
}  // namespace

json::value funding_history_to_json(const Exchange& exchange, MarketIndex market,
                                    std::uint64_t start_ms, std::uint64_t end_ms) {
  const Market& m = exchange.markets()[market];
  json::array out;
  for (const FundingRecord& f : m.funding_history)
    if (f.time_ms >= start_ms && f.time_ms <= end_ms)
      out.push_back(json::object{{"market", m.name},
                                 {"time", f.time_ms},
                                 {"fundingRate", interval_rate_text(f.rate_8h, f.interval_hours)},
                                 {"premium", format_decimal(f.premium, 8)}});
  return out;
}

json::value fills_to_json(const Exchange& exchange, const std::vector<FillEvent>& fills) {
  json::array out;
  for (const FillEvent& f : fills) {
    const Market& m = exchange.markets()[f.market];
    out.push_back(json::object{{"market", m.name},
                               {"px", px_text(f.px)},
                               {"sz", sz_text(m, f.sz)},
                               {"side", f.side == Side::Bid ? "B" : "A"},
                               {"time", f.time_ms},
                               {"oid", f.oid},
                               {"tid", f.tid},
                               {"fee", usd_text(f.fee)},
                               {"closedPnl", usd_text(f.closed_pnl)},
                               {"dir", fill_direction_name(f.dir)},
                               {"liquidation", liquidation_json(f)},
                               {"txHash", state::to_hex(f.tx_hash)}});
  }
  return out;
}

}  // namespace perps
