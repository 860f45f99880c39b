#include "perps/exchange.h"

#include <algorithm>
#include <cstring>

#include "exchange_arithmetic.h"
#include "perps/oracle.h"
#include "perps/price_grid.h"
#include "perps/protocol_constants.h"
#include "record_codec.h"
#include "state/fixed_point.h"

namespace perps {
using state::Address;
using state::Error;
using state::i128;
using state::make_error;
using state::Reason;
using state::Status;
using Outcome = state::TxOutcome<Exchange::Response>;
using namespace detail;

namespace {

// State keys (docs/protocol.md section 8).
constexpr char kAccountTag = 'A';  // + address        -> account
constexpr char kOrderTag = 'O';    // + oid (8 bytes)  -> resting order
constexpr char kTriggerTag = 'T';  // + oid            -> trigger order waiting for the mark
constexpr char kMarketTag = 'M';   // + index (4)      -> market prices and counters
constexpr char kAgentTag = 'a';    // + agent address  -> owner address
constexpr char kGlobalsTag = 'G';  //                  -> fee pool, next oid, next trade id
constexpr char kVoteTag = 'V';     // + market (4) + validator -> latest oracle vote
constexpr char kFundingTag = 'F';  // + market (4) + time (8)  -> funding settlement

constexpr std::uint32_t kDefaultLeverage = 20;

Status reject(Reason reason, std::string message) {
  return make_error(reason, std::move(message));
}

OrderStatus error_status(Reason reason, MarketIndex market = 0) {
  OrderStatus status;
  status.kind = OrderStatus::Kind::Error;
  status.market = market;
  status.error = reason;
  return status;
}

}  // namespace

std::size_t AddressHasher::operator()(const Address& a) const {
  std::size_t h;
  std::memcpy(&h, a.data(), sizeof h);
  return h;
}

std::string_view liquidation_method_name(LiquidationMethod method) {
  switch (method) {
    case LiquidationMethod::None:
      return "";
    case LiquidationMethod::Market:
      return "market";
    case LiquidationMethod::Backstop:
      return "backstop";
    case LiquidationMethod::Adl:
      return "adl";
  }
  return "";
}

std::string_view fill_direction_name(FillDirection dir) {
  switch (dir) {
    case FillDirection::OpenLong:
      return "Open Long";
    case FillDirection::OpenShort:
      return "Open Short";
    case FillDirection::CloseLong:
      return "Close Long";
    case FillDirection::CloseShort:
      return "Close Short";
    case FillDirection::LongToShort:
      return "Long > Short";
    case FillDirection::ShortToLong:
      return "Short > Long";
  }
  return "";
}

std::uint32_t Market::tier_max_leverage(std::int64_t ntl) const {
  std::uint32_t lev = max_leverage;
  for (const auto& tier : tiers)
    if (ntl >= tier.lower_bound) lev = tier.max_leverage;
  return lev;
}

Exchange::Exchange(const GenesisState& genesis) {
  for (const auto& gm : genesis.markets) {
    Market m;
    m.index = static_cast<MarketIndex>(markets_.size());
    m.name = gm.name;
    m.sz_decimals = gm.sz_decimals;
    m.lot_scale = pow10(gm.sz_decimals);
    m.max_leverage = gm.max_leverage;
    m.impact_notional = gm.impact_notional;
    m.tiers = gm.tiers.empty() ? std::vector<MarginTierSpec>{{0, gm.max_leverage}} : gm.tiers;
    m.mark_px = m.prev_mark_px = m.oracle_px = m.day_start_px = gm.oracle_px;
    m.oracle_time_ms = genesis.genesis_time_ms;
    m.day_start_ms = genesis.genesis_time_ms - genesis.genesis_time_ms % kDayMs;
    m.funding = {kCoreInterestRate8h, kCoreClamp8h, kCoreMultiplier, kCoreFundingIntervalHours};
    m.next_sample_ms = genesis.genesis_time_ms;
    const std::uint64_t interval = m.funding.interval_hours * kHourMs;
    m.next_funding_ms = genesis.genesis_time_ms - genesis.genesis_time_ms % interval + interval;
    m.grid = PriceGrid::significant_figures(m.sz_decimals);
    m.book = OrderBook(m.grid);
    market_by_name_.emplace(m.name, m.index);
    markets_.push_back(std::move(m));
  }
  for (const auto& balance : genesis.balances) {
    AccountId id = account_id(balance.address);
    accounts_[id].usd += balance.usd;
    accounts_[id].stake_free += balance.stake;
    touch(id);
  }
  Address vault;
  std::memcpy(vault.data(), kBackstopVaultAddress, 20);
  vault_id_ = account_id(vault);
  for (const auto& v : genesis.validators) {
    validators_[v.address] += v.power;
    total_power_ += v.power;
  }
  for (MarketIndex m = 0; m < markets_.size(); ++m) touch_market(m);
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping

AccountId Exchange::account_id(const Address& address) {
  auto [it, inserted] =
      account_by_address_.emplace(address, static_cast<AccountId>(accounts_.size()));
  if (inserted) {
    Account acct;
    acct.address = address;
    accounts_.push_back(std::move(acct));
    touch(it->second);
  }
  return it->second;
}

const Account* Exchange::find_account(const Address& address) const {
  auto it = account_by_address_.find(address);
  return it == account_by_address_.end() ? nullptr : &accounts_[it->second];
}

std::optional<MarketIndex> Exchange::find_market(std::string_view name) const {
  auto it = market_by_name_.find(name);
  if (it == market_by_name_.end()) return std::nullopt;
  return it->second;
}

void Exchange::touch(AccountId id) {
  if (!accounts_[id].dirty) {
    accounts_[id].dirty = true;
    dirty_accounts_.push_back(id);
  }
}
void Exchange::touch_market(MarketIndex market) {
  dirty_markets_.push_back(market);
}
void Exchange::touch_order(MarketIndex m, OrderId oid) {
  dirty_orders_.emplace_back(m, oid);
}
void Exchange::touch_trigger(OrderId oid) {
  dirty_triggers_.push_back(oid);
}

Position& Exchange::position(Account& acct, MarketIndex m) {
  auto [it, inserted] = acct.positions.try_emplace(m);
  if (inserted) {
    it->second.leverage = std::min(kDefaultLeverage, markets_[m].max_leverage);
    it->second.is_cross = !markets_[m].only_isolated;
  }
  return it->second;
}

// ---------------------------------------------------------------------------------------------
// Margin (docs/protocol.md section 8)

namespace {

// What every margin figure of a position starts from: its value at the mark, the leverage in
// force (its own, capped by the tier of that value) and the initial margin of its worst side
// (the position with all its bids or all its asks filled).
struct MarginBasis {
  std::int64_t value = 0, abs_value = 0, leverage = 1, initial = 0;
  std::uint32_t tier_max = 1;
};

MarginBasis margin_basis(const Market& market, const Position& p) {
  MarginBasis b;
  b.value = notional(market.mark_px, p.szi, market.lot_scale);
  b.abs_value = b.value < 0 ? -b.value : b.value;
  b.tier_max = market.tier_max_leverage(b.abs_value);
  b.leverage = std::min(p.leverage, b.tier_max);
  const std::int64_t worst = std::max(std::abs(b.value + p.bid_ntl), std::abs(b.value - p.ask_ntl));
  b.initial = ceil_div(worst, b.leverage);
  return b;
}

std::int64_t maintenance_of(const MarginBasis& b) {
  return ceil_div(b.abs_value, 2 * static_cast<std::int64_t>(b.tier_max));
}

}  // namespace

PositionMargin position_margin(const Market& market, const Position& p) {
  const MarginBasis b = margin_basis(market, p);
  PositionMargin out;
  out.value = b.value;
  out.upnl = b.value - p.cost;
  out.initial = b.initial;
  out.own_initial = ceil_div(b.abs_value, b.leverage);
  out.maintenance = maintenance_of(b);
  return out;
}

namespace {

// One position's part of the cross figures (each division only where its figure is used).
void add_position(MarginSummary& out, const Market& market, const Position& p) {
  const MarginBasis b = margin_basis(market, p);
  if (p.is_cross) {
    out.account_value += b.value - p.cost;
    out.cross_value += b.abs_value;
    out.margin_required += b.initial;
    out.maintenance_margin += maintenance_of(b);
  } else {
    // An isolated position carries itself; its open orders draw on cross collateral.
    out.margin_required += std::max<std::int64_t>(0, b.initial - ceil_div(b.abs_value, b.leverage));
  }
}

}  // namespace

Exchange::WhatIfMargin::WhatIfMargin(const Exchange& exchange, const Account& account,
                                     MarketIndex m)
    : market_(exchange.markets_[m]) {
  // An entry holding nothing adds nothing: skipped without its divisions.
  for (const auto& [index, p] : account.positions)
    if (index != m && (p.szi != 0 || p.bid_ntl != 0 || p.ask_ntl != 0))
      add_position(others_, exchange.markets_[index], p);
}

std::int64_t Exchange::WhatIfMargin::free_collateral(const Position& position,
                                                     std::int64_t usd) const {
  MarginSummary s = others_;
  add_position(s, market_, position);
  return usd + s.account_value - s.margin_required;
}

bool Exchange::WhatIfMargin::solvent(const Position& position, std::int64_t usd) const {
  const PositionMargin pm = position_margin(market_, position);
  if (position.is_cross) return usd + others_.account_value + pm.upnl >= 0;
  return usd + others_.account_value >= 0 &&
         (position.szi == 0 || position.isolated_margin + pm.upnl >= 0);
}

MarginSummary Exchange::margin_summary(const Account& account) const {
  MarginSummary out;
  out.account_value = account.usd;
  for (const auto& [index, p] : account.positions) add_position(out, markets_[index], p);
  out.free_usd =
      std::max<std::int64_t>(0, std::min(account.usd, out.account_value - out.margin_required));
  const std::int64_t kept = std::max(out.margin_required, ceil_div(out.cross_value, 10));
  out.withdrawable = std::max<std::int64_t>(0, std::min(account.usd, out.account_value - kept));
  return out;
}

std::int64_t Exchange::free_collateral(const Account& account) const {
  MarginSummary s = margin_summary(account);
  return s.account_value - s.margin_required;
}

namespace {

// One side of a fill applied to a position and its owner's cash: returns realized PnL and the
// direction. Pure, so margin what-ifs can run it on copies.
std::pair<std::int64_t, FillDirection> fill_position(const Market& market, Position& p,
                                                     std::int64_t& usd, Side side, Lots sz, Px px) {
  const Lots delta = signed_lots(side, sz);
  const Lots old = p.szi;
  const std::int64_t lev = std::max<std::int64_t>(1, std::min(p.leverage, market.max_leverage));
  auto open = [&](Lots lots) {  // lots signed, same sign as the (new) position
    const Lots abs_lots = lots < 0 ? -lots : lots;
    const std::int64_t ntl = notional(px, abs_lots, market.lot_scale);
    p.szi += lots;
    p.cost += lots < 0 ? -ntl : ntl;
    if (!p.is_cross) {
      // Sized at the mark, like every margin figure, plus whatever the fill price loses against
      // the mark at once (a buy above it, a sell below it), so a new isolated position starts
      // with its full initial margin as equity. Either way a better fill price draws less, so a
      // what-if at the limit price bounds the real draw.
      const std::int64_t at_mark = notional(market.mark_px, abs_lots, market.lot_scale);
      const std::int64_t immediate_loss =
          std::max<std::int64_t>(0, lots > 0 ? ntl - at_mark : at_mark - ntl);
      const std::int64_t margin = ceil_div(at_mark, lev) + immediate_loss;
      usd -= margin;
      p.isolated_margin += margin;
    }
  };
  if (old == 0 || (old > 0) == (delta > 0)) {
    open(delta);
    return {0, delta > 0 ? FillDirection::OpenLong : FillDirection::OpenShort};
  }
  // Reducing (and perhaps flipping): realize PnL on the closed lots at this price.
  const Lots abs_old = old < 0 ? -old : old;
  const Lots closed = std::min(sz, abs_old);
  const std::int64_t closed_ntl = notional(px, closed, market.lot_scale);
  // Cost basis leaves in proportion to the lots closed, truncated toward zero; all of it on a
  // full close. Whatever the rounding, cash and cost basis move by the same amount.
  const std::int64_t removed =
      closed == abs_old ? p.cost
                        : static_cast<std::int64_t>(static_cast<i128>(p.cost) * closed / abs_old);
  const std::int64_t realized = (old > 0 ? closed_ntl : -closed_ntl) - removed;
  p.cost -= removed;
  p.szi += old > 0 ? -closed : closed;
  usd += realized;
  if (!p.is_cross) {
    const std::int64_t released =
        closed == abs_old
            ? p.isolated_margin
            : static_cast<std::int64_t>(static_cast<i128>(p.isolated_margin) * closed / abs_old);
    p.isolated_margin -= released;
    usd += released;
  }
  const Lots rest = sz - closed;
  if (rest > 0) {
    open(signed_lots(side, rest));
    return {realized, old > 0 ? FillDirection::LongToShort : FillDirection::ShortToLong};
  }
  return {realized, old > 0 ? FillDirection::CloseLong : FillDirection::CloseShort};
}

// An order's reservation shrinking by sz (filled or cancelled part).
void release_reservation(const Market& market, Position& p, Side side, bool reduce_only, Px px,
                         Lots sz) {
  if (reduce_only)
    p.reduce_only_sz -= sz;
  else
    (side == Side::Bid ? p.bid_ntl : p.ask_ntl) -= notional(px, sz, market.lot_scale);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Dispatch

void Exchange::prepare(const std::vector<state::VerifiedAction>& txs) {
  prepared_txs_ = &txs;
  prepared_accounts_.resize(txs.size());
  for (std::size_t i = 0; i < txs.size(); ++i) {
    // An agent's owner is not resolved here: only a prefetch hint.
    auto it = account_by_address_.find(txs[i].signer);
    prepared_accounts_[i] = it == account_by_address_.end() ? kNoAccount : it->second;
  }
}

void Exchange::prefetch(std::size_t tx_index, int stage) const {
  // The tx is in cache from the executor's step before stage 0.
  const state::Action& action = (*prepared_txs_)[tx_index].signed_action.action;
  const auto* cancel = std::get_if<state::CancelOrders>(&action);
  if (cancel && cancel->cancels.items.empty()) cancel = nullptr;
  const Account* acct = prepared_accounts_[tx_index] == kNoAccount
                            ? nullptr
                            : &accounts_[prepared_accounts_[tx_index]];
  switch (stage) {
    case 0:  // the account record; a cancel's list; an order action's first order
      if (acct) {
        __builtin_prefetch(acct);
        __builtin_prefetch(reinterpret_cast<const char*>(acct) + 64);
      }
      if (cancel) __builtin_prefetch(cancel->cancels.items.data());
      if (const auto* place = std::get_if<state::PlaceOrders>(&action);
          place && !place->orders.items.empty()) {
        const char* spec = reinterpret_cast<const char*>(place->orders.items.data());
        for (std::size_t at = 0; at < sizeof(state::OrderSpec); at += 64)
          __builtin_prefetch(spec + at);
      }
      break;
    case 1:  // what the account points to; the cancelled order's slot in its book's index
      if (acct && acct->positions.size() > 0) __builtin_prefetch(&*acct->positions.begin());
      if (acct && !acct->orders.empty()) __builtin_prefetch(&acct->orders.back());
      if (cancel)
        if (auto m = find_market(cancel->cancels.items.front().market))
          markets_[*m].book.prefetch(cancel->cancels.items.front().oid, false);
      break;
    default:  // the cancelled order's node
      if (cancel)
        if (auto m = find_market(cancel->cancels.items.front().market))
          markets_[*m].book.prefetch(cancel->cancels.items.front().oid, true);
      break;
  }
}

bool Exchange::places_gtc_or_ioc(const state::Action& action) {
  auto is_taking = [](const state::OrderSpec& o) { return o.tif != state::Tif::Alo; };
  if (const auto* place = std::get_if<state::PlaceOrders>(&action))
    return std::any_of(place->orders.items.begin(), place->orders.items.end(), is_taking);
  if (const auto* mod = std::get_if<state::ModifyOrder>(&action)) return is_taking(mod->order);
  return false;
}

void Exchange::begin_block(const state::BlockContext& ctx) {
  for (auto& m : markets_) {
    if (ctx.time_ms >= m.day_start_ms + kDayMs) {
      m.day_start_ms = ctx.time_ms - ctx.time_ms % kDayMs;
      m.day_start_px = m.oracle_px;
      m.day_volume = 0;
      touch_market(m.index);
    }
  }
}

// Time-driven work, in this order: oracle updates (and the marks they move), premium samples and
// funding settlements, trigger orders released by the new marks, then liquidations of the accounts
// holding positions in markets whose mark moved or that paid funding.
void Exchange::end_block(const state::BlockContext& ctx) {
  prepared_txs_ = nullptr;  // the block's txs may be freed after it: apply() must not match them
  Context c{ctx, {}};
  const std::uint64_t now = ctx.time_ms;
  for (MarketIndex m = 0; m < markets_.size(); ++m) {
    Market& market = markets_[m];
    if (market.votes_pending && now >= market.oracle_time_ms + kSetOracleMinSpacingMs)
      update_oracle(m, now);
    if (now >= market.next_sample_ms) sample_premium(m, now);
    if (now >= market.next_funding_ms) settle_funding(m, now);
  }
  std::sort(marks_moved_.begin(), marks_moved_.end());
  marks_moved_.erase(std::unique(marks_moved_.begin(), marks_moved_.end()), marks_moved_.end());
  release_triggers(c);
  triggers_due_.clear();
  std::vector<MarketIndex> scan = marks_moved_;
  scan.insert(scan.end(), funding_paid_.begin(), funding_paid_.end());
  marks_moved_.clear();
  funding_paid_.clear();
  if (!scan.empty()) liquidate(c, std::move(scan));
}

Outcome Exchange::apply(const state::BlockContext& ctx, const state::VerifiedAction& tx) {
  Context c{ctx, tx.tx_hash};
  auto agent = agent_owner_.find(tx.signer);
  const bool by_agent = agent != agent_owner_.end();
  const Address& owner_address = by_agent ? agent->second : tx.signer;
  auto existing = [&]() -> std::optional<AccountId> {
    // A tx of the prepared block already had its signer looked up.
    if (!by_agent && prepared_txs_ && &tx >= prepared_txs_->data() &&
        &tx < prepared_txs_->data() + prepared_txs_->size()) {
      const AccountId id =
          prepared_accounts_[static_cast<std::size_t>(&tx - prepared_txs_->data())];
      if (id != kNoAccount) return id;
    }
    auto it = account_by_address_.find(owner_address);
    if (it == account_by_address_.end()) return std::nullopt;
    return it->second;
  };
  auto no_account = [] {
    return Outcome::rejected(make_error(Reason::InsufficientMargin, "account has no funds"));
  };
  auto agents_barred = [&]() -> std::optional<Outcome> {
    if (by_agent)
      return Outcome::rejected(make_error(Reason::AgentNotAllowed, "agents may only trade"));
    return std::nullopt;
  };

  const state::Action& action = tx.signed_action.action;
  if (const auto* a = std::get_if<state::PlaceOrders>(&action)) {
    auto id = existing();
    return id ? place_orders(c, *id, *a) : no_account();
  }
  if (const auto* a = std::get_if<state::CancelOrders>(&action)) {
    auto id = existing();
    return id ? cancel_orders(c, *id, *a)
              : Outcome::rejected(make_error(Reason::UnknownOrder, "no open orders"));
  }
  if (const auto* a = std::get_if<state::CancelByCloid>(&action)) {
    auto id = existing();
    return id ? cancel_by_cloid(c, *id, *a)
              : Outcome::rejected(make_error(Reason::UnknownOrder, "no open orders"));
  }
  if (const auto* a = std::get_if<state::ModifyOrder>(&action)) {
    auto id = existing();
    return id ? modify(c, *id, *a)
              : Outcome::rejected(make_error(Reason::UnknownOrder, "no open orders"));
  }
  if (const auto* a = std::get_if<state::UpdateLeverage>(&action)) {
    auto id = existing();
    return id ? update_leverage(*id, *a) : no_account();
  }
  if (const auto* a = std::get_if<state::UpdateIsolatedMargin>(&action)) {
    auto id = existing();
    return id ? update_isolated_margin(*id, *a) : no_account();
  }
  if (const auto* a = std::get_if<state::UsdSend>(&action)) {
    if (auto barred = agents_barred()) return *barred;
    auto id = existing();
    return id ? usd_send(*id, *a)
              : Outcome::rejected(make_error(Reason::InsufficientBalance, "account has no funds"));
  }
  if (const auto* a = std::get_if<state::ApproveAgent>(&action)) {
    if (auto barred = agents_barred()) return *barred;
    return approve_agent(account_id(owner_address), *a);
  }
  if (const auto* a = std::get_if<state::OracleVote>(&action)) return oracle_vote(c, tx.signer, *a);
  if (auto barred = agents_barred()) return *barred;
  return Outcome::rejected(make_error(
      Reason::UnsupportedAction, std::string(state::action_type(action)) + " is not handled yet"));
}

// ---------------------------------------------------------------------------------------------
// Orders

Outcome Exchange::place_orders(Context& c, AccountId owner, const state::PlaceOrders& action) {
  Outcome outcome;
  outcome.response.reserve(action.orders.items.size());
  for (const auto& spec : action.orders.items)
    outcome.response.push_back(place_one(c, owner, spec));
  return outcome;
}

namespace {
// A sell take-profit fires at mark >= its trigger price, a sell stop-loss at mark <= it; buys
// mirror.
template <class Trigger>
bool fires_on_rise(const Trigger& trigger) {
  return (trigger.order.side == Side::Ask) == (trigger.tpsl == state::TpSl::Tp);
}
}  // namespace

std::optional<OrderStatus> Exchange::spec_error(const state::OrderSpec& spec) const {
  auto m = find_market(spec.market);
  if (!m) return error_status(Reason::UnknownMarket);
  const Market& market = markets_[*m];
  if (market.halted) return error_status(Reason::MarketHalted, *m);
  // Within the day's 10x range, where marks and oracle prices stay: a price far outside it could
  // never trade, and each distant level costs the book a page of memory on every validator.
  auto valid_px = [&](Px p) {
    return market.grid.valid(p) &&
           clamp_to_day_range(p, market.day_start_px, kOracleRangeFactor) == p;
  };
  const Px px = spec.px.units;  // the px field has 6 decimals: micro-dollars
  if (!valid_px(px)) return error_status(Reason::InvalidPrice, *m);
  if (spec.tpsl != state::TpSl::None && !valid_px(spec.trigger_px.units))
    return error_status(Reason::InvalidPrice, *m);
  const std::int64_t units_per_lot = pow10(kMaxSzDecimals - market.sz_decimals);
  if (spec.sz.units <= 0 || spec.sz.units % units_per_lot != 0)
    return error_status(Reason::InvalidSize, *m);
  const i128 ntl = static_cast<i128>(px) * (spec.sz.units / units_per_lot) / market.lot_scale;
  if (ntl > std::numeric_limits<std::int64_t>::max() / 4)
    return error_status(Reason::InvalidSize, *m);
  // Checked here too (not only when placed) so a trigger order too small to place is refused
  // when it is given, not dropped when it fires. A reduce-only order is exempt: it may close
  // whatever is left.
  if (!spec.reduce_only && ntl < kMinOrderNotional) return error_status(Reason::OrderTooSmall, *m);
  return std::nullopt;
}

OrderStatus Exchange::place_one(Context& c, AccountId owner, const state::OrderSpec& spec) {
  if (auto error = spec_error(spec)) return *error;
  const MarketIndex m = *find_market(spec.market);
  const std::int64_t units_per_lot = pow10(kMaxSzDecimals - markets_[m].sz_decimals);

  RestingOrder order;
  order.owner = owner;
  order.side = spec.is_buy ? Side::Bid : Side::Ask;
  order.reduce_only = spec.reduce_only;
  order.px = spec.px.units;
  order.sz = order.orig_sz = spec.sz.units / units_per_lot;
  order.time_ms = c.block.time_ms;
  order.cloid = spec.cloid;
  const TimeInForce tif = spec.tif == state::Tif::Gtc   ? TimeInForce::Gtc
                          : spec.tif == state::Tif::Ioc ? TimeInForce::Ioc
                                                        : TimeInForce::Alo;
  if (spec.tpsl != state::TpSl::None) {
    Account& acct = account(owner);
    if (open_order_count(acct) >= kMaxOpenOrdersPerAccount)  // as place_validated checks
      return error_status(Reason::TooManyOpenOrders, m);
    if (!order.cloid.is_zero() && acct.cloids.contains({m, order.cloid}))
      return error_status(Reason::DuplicateCloid, m);
    order.oid = next_oid_++;
    globals_dirty_ = true;
    const TriggerOrder trigger{order, tif, spec.tpsl, spec.trigger_px.units};
    add_trigger(m, trigger);
    touch_trigger(order.oid);
    // One already past its price fires at this block's end, as if the mark had just moved there,
    // rather than waiting for the next mark move (forever, if the oracle stalls).
    const Px mark = markets_[m].mark_px;
    if (fires_on_rise(trigger) ? mark >= trigger.trigger_px : mark <= trigger.trigger_px)
      triggers_due_.push_back(m);
    OrderStatus status;
    status.kind = OrderStatus::Kind::Resting;
    status.market = m;
    status.oid = order.oid;
    return status;
  }
  return place_validated(c, owner, m, order, tif);
}

OrderStatus Exchange::place_validated(Context& c, AccountId owner, MarketIndex m,
                                      RestingOrder order, TimeInForce tif, Origin origin) {
  const bool liquidation = origin == Origin::Liquidation;
  Market& market = markets_[m];
  Account& acct = account(owner);
  Position& pos = position(acct, m);
  // A liquidation order is the protocol's, not the account's: the account's order limit must
  // not stop it (it has no cloid).
  if (!liquidation && open_order_count(acct) >= kMaxOpenOrdersPerAccount)
    return error_status(Reason::TooManyOpenOrders, m);
  if (!order.cloid.is_zero() && acct.cloids.contains({m, order.cloid}))
    return error_status(Reason::DuplicateCloid, m);
  if (static_cast<i128>(order.px) * order.sz / market.lot_scale >
      std::numeric_limits<std::int64_t>::max() / 4)
    return error_status(Reason::InvalidSize, m);

  if (order.reduce_only) {
    const bool opposite =
        (pos.szi > 0 && order.side == Side::Ask) || (pos.szi < 0 && order.side == Side::Bid);
    // A reduce-only order that rests may cover only what the resting ones do not. An Ioc never
    // rests, so it may close the whole position ("market close" beside a reduce-only take-profit
    // for all of it); the resting ones are trimmed to what it leaves (enforce_reduce_only).
    const Lots covered = tif == TimeInForce::Ioc ? 0 : pos.reduce_only_sz;
    const Lots available = std::abs(pos.szi) - covered;
    if (!opposite || available <= 0) return error_status(Reason::ReduceOnlyWouldIncrease, m);
    order.sz = order.orig_sz = std::min(order.sz, available);
  }
  std::int64_t ntl = notional(order.px, order.sz, market.lot_scale);
  if (!order.reduce_only && ntl < kMinOrderNotional) return error_status(Reason::OrderTooSmall, m);

  // Whether the book can fill the order now: an Alo must not; a Gtc that cannot only rests.
  const auto best_opposite =
      order.side == Side::Bid ? market.book.best_ask() : market.book.best_bid();
  const bool crosses_now = best_opposite && (order.side == Side::Bid ? *best_opposite <= order.px
                                                                     : *best_opposite >= order.px);
  if (tif == TimeInForce::Alo && crosses_now) return error_status(Reason::AloWouldCross, m);

  // Margin, at the two extremes the order can end in: fully resting (its reservation joins the
  // worst case of the account's open orders) and fully filled at its limit price (the position it
  // makes valued at the mark, the taker fee paid; for an isolated position, its margin moved).
  // Either must leave free collateral non-negative; a reduce-only order passes whenever it does not
  // make free collateral worse, so an account short of margin can always reduce. A liquidation
  // order is the protocol closing a position: nothing to check.
  if (!liquidation) {
    const WhatIfMargin what_if(*this, acct, m);
    // The exemption never reaches negative equity: dumping a position far below the mark could
    // improve free collateral (margin released) while the account goes bankrupt.
    auto acceptable = [&](const Position& position, std::int64_t usd) {
      const std::int64_t after = what_if.free_collateral(position, usd);
      return after >= 0 || (order.reduce_only && after >= free_collateral(acct) &&
                            what_if.solvent(position, usd));
    };
    if (tif != TimeInForce::Ioc && !order.reduce_only) {
      Position resting = pos;
      (order.side == Side::Bid ? resting.bid_ntl : resting.ask_ntl) += ntl;
      if (!acceptable(resting, acct.usd)) return error_status(Reason::InsufficientMargin, m);
    }
    // A Gtc order the book cannot fill now only rests: as a maker its fills are checked when
    // they happen (screen_makers), so only the resting extreme applies to it.
    if (tif == TimeInForce::Ioc || (tif == TimeInForce::Gtc && crosses_now)) {
      // The fee is taken at the highest price the order can fill at: its limit for a buy, the
      // best bid for a sell (a sell fills at or above its limit).
      Px fee_px = order.px;
      if (order.side == Side::Ask && best_opposite) fee_px = std::max(fee_px, *best_opposite);
      Position filled = pos;
      std::int64_t usd = acct.usd - fee_of(notional(fee_px, order.sz, market.lot_scale), kTakerFee);
      fill_position(market, filled, usd, order.side, order.sz, order.px);
      if (!acceptable(filled, usd)) return error_status(Reason::InsufficientMargin, m);
    }
  }
  // What rests reserves at its own price; reduce-only orders reserve nothing (they only shrink).
  if (order.reduce_only)
    pos.reduce_only_sz += order.sz;
  else
    (order.side == Side::Bid ? pos.bid_ntl : pos.ask_ntl) += ntl;

  // A fired trigger order keeps the oid its owner was given; it queues from now, so it draws its
  // queue place from the oid sequence, as a new order's oid would be.
  if (origin == Origin::FiredTrigger)
    fired_queue_place_[order.oid] = next_oid_++;
  else
    order.oid = next_oid_++;
  globals_dirty_ = true;
  ++pos.open_orders;
  acct.orders.push_back(order.oid);
  if (!order.cloid.is_zero()) acct.cloids.emplace(std::pair{m, order.cloid}, order.oid);

  // As Hyperliquid: a maker whose fill would leave it short of margin is cancelled, not filled;
  // a reduce-only maker fills no more than what is left of its position.
  if (tif != TimeInForce::Alo) screen_makers(m, order);
  match_scratch_.clear();
  PlaceOutcome placed = market.book.place(order, tif, match_scratch_);

  i128 filled_value = 0;  // sum of px * sz for the average price
  for (const MatchEvent& event : match_scratch_) {
    RestingOrder maker_order;
    maker_order.oid = event.maker_oid;
    maker_order.owner = event.maker;
    maker_order.side = opposite(order.side);
    maker_order.reduce_only = event.maker_reduce_only;
    maker_order.px = event.px;
    maker_order.cloid = event.maker_cloid;
    touch_order(m, event.maker_oid);
    if (event.kind == MatchEvent::Kind::SelfTradeExpired) {
      release_order(m, maker_order, event.sz, true);
      continue;
    }
    const std::uint64_t tid = next_tid_++;
    settle_fill(c, m, owner, order, event, tid);
    release_order(m, maker_order, event.sz, event.maker_done);
    // The taker's reservation was at its own price.
    release_order(m, order, event.sz, false);
    filled_value += static_cast<i128>(event.px) * event.sz;
  }

  const Lots remaining = order.sz - placed.filled;
  const bool rests = placed.status == PlaceOutcome::Status::Rested && remaining > 0;
  if (rests) {
    touch_order(m, order.oid);
  } else {
    release_order(m, order, remaining, true);
  }
  if (placed.filled > 0) {
    enforce_reduce_only(owner, m);
    for (const MatchEvent& event : match_scratch_)
      if (event.kind == MatchEvent::Kind::Fill) enforce_reduce_only(event.maker, m);
  }

  OrderStatus status;
  status.market = m;
  status.oid = order.oid;
  if (placed.filled > 0 && !rests) {
    status.kind = OrderStatus::Kind::Filled;
    status.total_sz = placed.filled;
    status.avg_px = static_cast<Px>(filled_value / placed.filled);
  } else if (rests) {
    status.kind = OrderStatus::Kind::Resting;
    status.total_sz = placed.filled;
    if (placed.filled > 0) status.avg_px = static_cast<Px>(filled_value / placed.filled);
  } else {
    status =
        error_status(placed.status == PlaceOutcome::Status::AloWouldCross ? Reason::AloWouldCross
                                                                          : Reason::IocNotFilled,
                     m);
    status.oid = order.oid;
  }
  return status;
}

void Exchange::add_trigger(MarketIndex m, const TriggerOrder& trigger) {
  const OrderId oid = trigger.order.oid;
  triggers_.emplace(oid, std::pair{m, trigger});
  Account& acct = accounts_[trigger.order.owner];
  acct.triggers.push_back(oid);
  // Its cloid is taken among the account's open orders (and cancelByCloid finds it) until it
  // fires, when the order it places takes the cloid over.
  if (!trigger.order.cloid.is_zero()) acct.cloids.emplace(std::pair{m, trigger.order.cloid}, oid);
  if (fires_on_rise(trigger))
    markets_[m].triggers_on_rise.emplace(trigger.trigger_px, oid);
  else
    markets_[m].triggers_on_fall.emplace(trigger.trigger_px, oid);
}

void Exchange::remove_trigger(
    std::map<OrderId, std::pair<MarketIndex, TriggerOrder>>::iterator it) {
  const OrderId oid = it->first;
  const auto& [m, trigger] = it->second;
  Account& acct = accounts_[trigger.order.owner];
  *std::find(acct.triggers.begin(), acct.triggers.end(), oid) = acct.triggers.back();
  acct.triggers.pop_back();
  forget_cloid(acct, m, trigger.order.cloid, oid);
  if (fires_on_rise(trigger))
    markets_[m].triggers_on_rise.erase({trigger.trigger_px, oid});
  else
    markets_[m].triggers_on_fall.erase({trigger.trigger_px, oid});
  triggers_.erase(it);
  touch_trigger(oid);
}

void Exchange::release_order(MarketIndex m, const RestingOrder& order, Lots sz, bool leaves_book) {
  Account& acct = account(order.owner);
  Position& pos = position(acct, m);
  release_reservation(markets_[m], pos, order.side, order.reduce_only, order.px, sz);
  if (leaves_book) {
    fired_queue_place_.erase(order.oid);
    --pos.open_orders;
    auto it = std::find(acct.orders.begin(), acct.orders.end(), order.oid);
    *it = acct.orders.back();
    acct.orders.pop_back();
    forget_cloid(acct, m, order.cloid, order.oid);
  }
}

void Exchange::forget_cloid(Account& acct, MarketIndex m, const state::Bytes16& cloid,
                            OrderId oid) {
  // Only the entry that is this order's: state stored before trigger orders registered their
  // cloids can hold a trigger and an order sharing one, and the entry is the lower oid's.
  if (cloid.is_zero()) return;
  if (auto it = acct.cloids.find({m, cloid}); it != acct.cloids.end() && it->second == oid)
    acct.cloids.erase(it);
}

void Exchange::settle_fill(Context& c, MarketIndex m, AccountId taker,
                           const RestingOrder& taker_order, const MatchEvent& event,
                           std::uint64_t tid) {
  Market& market = markets_[m];
  const std::int64_t ntl = notional(event.px, event.sz, market.lot_scale);
  struct Party {
    AccountId id;
    OrderId oid;
    Side side;
    bool crossed;
    std::int64_t rate;
  };
  const Party parties[2] = {
      {taker, taker_order.oid, taker_order.side, true, kTakerFee},
      {event.maker, event.maker_oid, opposite(taker_order.side), false, kMakerFee}};
  for (const Party& party : parties) {
    Account& acct = account(party.id);
    const Lots start = position(acct, m).szi;
    auto [pnl, dir] = apply_fill(party.id, m, party.side, event.sz, event.px);
    const Lots end = acct.positions.at(m).szi;
    market.open_interest += std::max<Lots>(0, end) - std::max<Lots>(0, start);
    const std::int64_t fee = fee_of(ntl, party.rate);
    acct.usd -= fee;
    fee_pool_ += fee;
    touch(party.id);

    FillEvent fill;
    fill.market = m;
    fill.user = acct.address;
    fill.oid = party.oid;
    fill.tid = tid;
    fill.px = event.px;
    fill.sz = event.sz;
    fill.side = party.side;
    fill.crossed = party.crossed;
    fill.fee = fee;
    fill.closed_pnl = pnl;
    fill.dir = dir;
    fill.start_position = start;
    fill.time_ms = c.block.time_ms;
    fill.tx_hash = c.tx_hash;
    if (c.liquidation != LiquidationMethod::None) {
      fill.liquidation = c.liquidation;
      fill.liquidated_user = accounts_[c.liquidated].address;
      fill.liquidation_mark_px = market.mark_px;
    }
    events_.push_back(fill);
  }
  market.last_trade_px = event.px;
  market.day_volume += ntl;
  globals_dirty_ = true;
  touch_market(m);
}

std::pair<std::int64_t, FillDirection> Exchange::apply_fill(AccountId id, MarketIndex m, Side side,
                                                            Lots sz, Px px) {
  Account& acct = accounts_[id];
  Position& p = position(acct, m);
  const bool held = p.szi != 0;
  auto result = fill_position(markets_[m], p, acct.usd, side, sz, px);
  if (!held && p.szi != 0) {
    add_holder(m, id, p);
  } else if (held && p.szi == 0) {
    remove_holder(m, p);
  }
  return result;
}

// Holders are an unordered vector with each position's slot in it: O(1) to add and remove on the
// fill path. Its order depends only on the sequence of fills, so it is deterministic; readers that
// need an order sort (liquidation) or do not depend on it (funding payments).
void Exchange::add_holder(MarketIndex m, AccountId id, Position& p) {
  p.holder_slot = static_cast<std::uint32_t>(markets_[m].holders.size());
  markets_[m].holders.push_back(id);
}

void Exchange::remove_holder(MarketIndex m, const Position& p) {
  std::vector<AccountId>& holders = markets_[m].holders;
  const AccountId moved = holders.back();
  holders[p.holder_slot] = moved;
  accounts_[moved].positions.find(m)->second.holder_slot = p.holder_slot;
  holders.pop_back();
}

void Exchange::screen_makers(MarketIndex m, const RestingOrder& taker) {
  const Market& market = markets_[m];
  struct WhatIf {
    AccountId id;
    Position position;
    std::int64_t usd;
  };
  struct Trim {
    OrderId oid;
    AccountId owner;
    Lots sz;
  };
  std::vector<WhatIf> accepted;  // makers' states after the fills accepted so far
  std::vector<std::pair<OrderId, AccountId>> cancelled;
  std::vector<Trim> trimmed;
  Lots remaining = taker.sz;
  market.book.visit_side(opposite(taker.side), [&](const RestingOrder& maker) {
    const bool crosses = taker.side == Side::Bid ? maker.px <= taker.px : maker.px >= taker.px;
    if (!crosses || remaining == 0) return false;
    if (maker.owner == taker.owner) return true;  // expired by self-trade prevention, not filled
    Lots fill = std::min(remaining, maker.sz);
    auto state = std::find_if(accepted.begin(), accepted.end(),
                              [&](const WhatIf& w) { return w.id == maker.owner; });
    const Account& acct = accounts_[maker.owner];
    WhatIf next =
        state != accepted.end() ? *state : WhatIf{maker.owner, acct.positions.at(m), acct.usd};
    // A reduce-only maker fills only what the sweep has left of its owner's position: the
    // owner's earlier fills in this sweep (a plain order of theirs at a better price) may have
    // closed or flipped it, and the trim after the sweep (enforce_reduce_only) comes too late.
    bool trim = false;
    if (maker.reduce_only) {
      const Lots reducible =
          std::max<Lots>(maker.side == Side::Ask ? next.position.szi : -next.position.szi, 0);
      if (reducible == 0) {
        cancelled.emplace_back(maker.oid, maker.owner);
        return true;
      }
      if (reducible < fill) {
        fill = reducible;
        trim = true;  // to exactly what fills
      }
    }
    const WhatIfMargin what_if(*this, acct, m);
    const std::int64_t before = what_if.free_collateral(next.position, next.usd);
    release_reservation(market, next.position, maker.side, maker.reduce_only, maker.px, fill);
    fill_position(market, next.position, next.usd, maker.side, fill, maker.px);
    next.usd -= fee_of(notional(maker.px, fill, market.lot_scale), kMakerFee);
    const std::int64_t after = what_if.free_collateral(next.position, next.usd);
    // As Hyperliquid: a fill that leaves free collateral negative is taken only if it improves it
    // (a close) and keeps the maker solvent: a released order reservation can outweigh a loss
    // that empties the account.
    if (after < 0 && (after < before || !what_if.solvent(next.position, next.usd))) {
      cancelled.emplace_back(maker.oid, maker.owner);
      return true;
    }
    if (trim) trimmed.push_back({maker.oid, maker.owner, fill});
    if (state != accepted.end())
      *state = next;
    else
      accepted.push_back(next);
    remaining -= fill;
    return true;
  });
  for (const auto& [oid, owner] : cancelled) (void)cancel_order(m, oid, owner);
  for (const Trim& t : trimmed) {
    const RestingOrder* order = markets_[m].book.find(t.oid);
    position(account(t.owner), m).reduce_only_sz -= order->sz - t.sz;
    markets_[m].book.reduce_size(t.oid, t.sz);
    touch_order(m, t.oid);
  }
}

void Exchange::enforce_reduce_only(AccountId id, MarketIndex m) {
  Account& acct = account(id);
  Position& p = position(acct, m);
  if (p.reduce_only_sz == 0) return;
  // Reduce-only orders may only shrink the position: cancel those now on the wrong side and trim
  // the newest first until they fit.
  std::vector<OrderId> reduce_only;
  for (OrderId oid : acct.orders) {
    const RestingOrder* order = markets_[m].book.find(oid);
    if (order && order->reduce_only) reduce_only.push_back(oid);
  }
  // Newest first: by queue place, the time each entered the book (a fired trigger order's oid
  // is older than its place).
  std::sort(reduce_only.begin(), reduce_only.end(),
            [this](OrderId a, OrderId b) { return queue_place(a) > queue_place(b); });
  for (OrderId oid : reduce_only) {
    const RestingOrder* order = markets_[m].book.find(oid);
    if (!order) continue;
    const bool opposite =
        (p.szi > 0 && order->side == Side::Ask) || (p.szi < 0 && order->side == Side::Bid);
    const Lots excess = p.reduce_only_sz - (opposite ? std::abs(p.szi) : 0);
    if (excess <= 0) break;
    if (!opposite || order->sz <= excess) {
      (void)cancel_order(m, oid, id);
    } else {
      markets_[m].book.reduce_size(oid, order->sz - excess);
      p.reduce_only_sz -= excess;
      touch_order(m, oid);
    }
  }
}

Status Exchange::cancel_order(MarketIndex m, OrderId oid, AccountId owner) {
  const RestingOrder* resting = markets_[m].book.find(oid);
  if (!resting || resting->owner != owner) {
    auto trigger = triggers_.find(oid);
    if (trigger != triggers_.end() && trigger->second.first == m &&
        trigger->second.second.order.owner == owner) {
      remove_trigger(trigger);
      return Status::Ok();
    }
    return reject(Reason::UnknownOrder, "no open order " + std::to_string(oid));
  }
  std::optional<RestingOrder> removed = markets_[m].book.cancel(oid);
  release_order(m, *removed, removed->sz, true);
  touch_order(m, oid);
  return Status::Ok();
}

Outcome Exchange::cancel_orders(Context&, AccountId owner, const state::CancelOrders& action) {
  Outcome outcome;
  for (const auto& spec : action.cancels.items) {
    auto m = find_market(spec.market);
    OrderStatus status;
    if (!m) {
      status = error_status(Reason::UnknownMarket);
    } else if (Status s = cancel_order(*m, spec.oid, owner); !s) {
      status = error_status(s.reason(), *m);
    } else {
      status.kind = OrderStatus::Kind::Success;
      status.market = *m;
    }
    status.oid = spec.oid;
    outcome.response.push_back(status);
  }
  return outcome;
}

Outcome Exchange::cancel_by_cloid(Context&, AccountId owner, const state::CancelByCloid& action) {
  Outcome outcome;
  const Account& acct = account(owner);
  for (const auto& spec : action.cancels.items) {
    auto m = find_market(spec.market);
    OrderStatus status;
    if (!m) {
      status = error_status(Reason::UnknownMarket);
    } else if (auto it = acct.cloids.find({*m, spec.cloid}); it == acct.cloids.end()) {
      status = error_status(Reason::UnknownOrder, *m);
    } else {
      status.oid = it->second;
      (void)cancel_order(*m, it->second, owner);
      status.kind = OrderStatus::Kind::Success;
      status.market = *m;
    }
    outcome.response.push_back(status);
  }
  return outcome;
}

Outcome Exchange::modify(Context& c, AccountId owner, const state::ModifyOrder& action) {
  Outcome outcome;
  auto m = find_market(action.order.market);
  if (!m) {
    outcome.response.push_back(error_status(Reason::UnknownMarket));
    return outcome;
  }
  // A modify is a cancel and a new order: the new order has a new oid and no time priority. A new
  // order that is malformed in itself (price, size, notional, market) is refused before the
  // cancel. One refused for the account after the cancel (margin, reduce-only room, Alo
  // crossing, a cloid in use) is refused before it takes an oid or touches anything; the cancel
  // is then undone, so a refused modify always leaves the order as it was, queue place included.
  if (auto error = spec_error(action.order)) {
    outcome.response.push_back(*error);
    return outcome;
  }
  std::optional<RestingOrder> resting;
  std::optional<TriggerOrder> trigger;
  const std::uint64_t place = queue_place(action.oid);
  if (const RestingOrder* order = markets_[*m].book.find(action.oid);
      order && order->owner == owner)
    resting = *order;
  else if (auto it = triggers_.find(action.oid); it != triggers_.end() && it->second.first == *m &&
                                                 it->second.second.order.owner == owner)
    trigger = it->second.second;
  if (Status s = cancel_order(*m, action.oid, owner); !s) {
    outcome.response.push_back(error_status(s.reason(), *m));
    return outcome;
  }
  const OrderId next_oid = next_oid_;
  OrderStatus placed = place_one(c, owner, action.order);
  if (placed.kind == OrderStatus::Kind::Error && next_oid_ == next_oid) {
    if (resting) reinstate_order(*m, *resting, place);
    if (trigger) {
      add_trigger(*m, *trigger);
      touch_trigger(trigger->order.oid);
    }
  }
  outcome.response.push_back(placed);
  return outcome;
}

void Exchange::reinstate_order(MarketIndex m, const RestingOrder& order, std::uint64_t place) {
  Market& market = markets_[m];
  Account& acct = account(order.owner);
  Position& pos = position(acct, m);
  if (place != order.oid) fired_queue_place_[order.oid] = place;
  market.book.reinstate(order, [this](OrderId oid) { return queue_place(oid); });
  // The inverse of release_order(m, order, order.sz, true).
  if (order.reduce_only)
    pos.reduce_only_sz += order.sz;
  else
    (order.side == Side::Bid ? pos.bid_ntl : pos.ask_ntl) +=
        notional(order.px, order.sz, market.lot_scale);
  ++pos.open_orders;
  acct.orders.push_back(order.oid);
  if (!order.cloid.is_zero()) acct.cloids.emplace(std::pair{m, order.cloid}, order.oid);
  touch_order(m, order.oid);
}

void Exchange::release_triggers(Context& c) {
  std::vector<MarketIndex> markets = marks_moved_;
  markets.insert(markets.end(), triggers_due_.begin(), triggers_due_.end());
  std::sort(markets.begin(), markets.end());
  markets.erase(std::unique(markets.begin(), markets.end()), markets.end());
  std::vector<OrderId> fired;
  for (MarketIndex m : markets) {
    const Market& market = markets_[m];
    for (auto it = market.triggers_on_rise.begin();
         it != market.triggers_on_rise.end() && it->first <= market.mark_px; ++it)
      fired.push_back(it->second);
    for (auto it = market.triggers_on_fall.begin();
         it != market.triggers_on_fall.end() && it->first >= market.mark_px; ++it)
      fired.push_back(it->second);
  }
  // Released in oid order, whatever their markets and prices.
  std::sort(fired.begin(), fired.end());
  for (OrderId oid : fired) {
    auto it = triggers_.find(oid);
    const auto [m, trigger] = it->second;
    remove_trigger(it);
    RestingOrder order = trigger.order;
    order.time_ms = c.block.time_ms;
    (void)place_validated(c, order.owner, m, order, trigger.tif, Origin::FiredTrigger);
  }
}

void Exchange::set_mark_px(MarketIndex market, Px px) {
  markets_[market].prev_mark_px = markets_[market].mark_px;
  markets_[market].mark_px = px;
  touch_market(market);
  marks_moved_.push_back(market);
}

// ---------------------------------------------------------------------------------------------
// Leverage, margin and transfers

Outcome Exchange::update_leverage(AccountId owner, const state::UpdateLeverage& action) {
  auto m = find_market(action.market);
  if (!m)
    return Outcome::rejected(make_error(Reason::UnknownMarket, "unknown market " + action.market));
  const Market& market = markets_[*m];
  if (action.leverage < kMinLeverage || action.leverage > market.max_leverage)
    return Outcome::rejected(make_error(
        Reason::LeverageOutOfRange, "leverage must be 1.." + std::to_string(market.max_leverage)));
  if (action.is_cross && market.only_isolated)
    return Outcome::rejected(
        make_error(Reason::CrossNotAllowed, market.name + " is isolated-only"));
  Account& acct = account(owner);
  Position& p = position(acct, *m);
  if (p.szi != 0 && p.is_cross != action.is_cross)
    return Outcome::rejected(
        make_error(Reason::OpenPosition, "close the position to change margin mode"));
  // The change may not leave free collateral negative, unless it improves it (raising leverage
  // is always allowed); lowering an isolated position's leverage needs its margin to cover it.
  const Position before = p;
  const std::int64_t free_before = free_collateral(acct);
  p.leverage = action.leverage;
  p.is_cross = action.is_cross;
  const std::int64_t free_after = free_collateral(acct);
  bool ok = free_after >= 0 || free_after >= free_before;
  if (ok && !p.is_cross && p.szi != 0 && p.leverage < before.leverage) {
    PositionMargin pm = position_margin(market, p);
    ok = p.isolated_margin + pm.upnl >= pm.own_initial;
  }
  if (!ok) {
    p = before;
    return Outcome::rejected(
        make_error(Reason::InsufficientMargin, "not enough margin for that leverage"));
  }
  touch(owner);
  return {};
}

Outcome Exchange::update_isolated_margin(AccountId owner,
                                         const state::UpdateIsolatedMargin& action) {
  auto m = find_market(action.market);
  if (!m)
    return Outcome::rejected(make_error(Reason::UnknownMarket, "unknown market " + action.market));
  Account& acct = account(owner);
  auto it = acct.positions.find(*m);
  if (it == acct.positions.end() || it->second.szi == 0 || it->second.is_cross)
    return Outcome::rejected(
        make_error(Reason::NotIsolated, "no isolated position on " + action.market));
  Position& p = it->second;
  const std::int64_t amount = action.amount.units;
  if (amount == 0)
    return Outcome::rejected(make_error(Reason::InvalidAmount, "amount must not be zero"));
  if (amount > 0) {
    if (margin_summary(acct).free_usd < amount)
      return Outcome::rejected(make_error(Reason::InsufficientBalance, "not enough free USD"));
  } else {
    PositionMargin pm = position_margin(markets_[*m], p);
    if (p.isolated_margin + amount < 0 || p.isolated_margin + amount + pm.upnl < pm.own_initial)
      return Outcome::rejected(
          make_error(Reason::InsufficientMargin, "the position needs that margin"));
  }
  acct.usd -= amount;
  p.isolated_margin += amount;
  touch(owner);
  return {};
}

Outcome Exchange::usd_send(AccountId owner, const state::UsdSend& action) {
  const std::int64_t amount = action.amount.units;
  if (amount <= 0)
    return Outcome::rejected(make_error(Reason::InvalidAmount, "amount must be positive"));
  if (margin_summary(account(owner)).withdrawable < amount)
    return Outcome::rejected(
        make_error(Reason::InsufficientBalance, "not enough withdrawable USD"));
  // USD at an agent's address could never move again: the agent's actions are its owner's.
  if (agent_owner_.contains(action.destination))
    return Outcome::rejected(make_error(
        Reason::BadAgent, "the destination is an agent (API wallet) of another account"));
  AccountId to = account_id(action.destination);  // may grow accounts_: take references after
  account(owner).usd -= amount;
  account(to).usd += amount;
  touch(owner);
  touch(to);
  return {};
}

Outcome Exchange::approve_agent(AccountId owner, const state::ApproveAgent& action) {
  const Address& owner_address = account(owner).address;
  if (action.agent == owner_address)
    return Outcome::rejected(make_error(Reason::BadAgent, "cannot approve yourself"));
  // An agent's every action is taken as its owner's: an address with an account of its own
  // (funds, positions, orders) would lose the use of it to whoever approved it first.
  if (account_by_address_.contains(action.agent))
    return Outcome::rejected(make_error(
        Reason::BadAgent, "the agent address has an account of its own: an agent is a fresh key"));
  auto it = agent_owner_.find(action.agent);
  if (it != agent_owner_.end() && it->second != owner_address)
    return Outcome::rejected(make_error(Reason::BadAgent, "agent belongs to another account"));
  agent_owner_[action.agent] = owner_address;
  dirty_agents_.push_back(action.agent);
  return {};
}

// ---------------------------------------------------------------------------------------------
// Totals for conservation checks

std::int64_t Exchange::total_cash() const {
  std::int64_t total = fee_pool_;
  for (const auto& acct : accounts_) {
    total += acct.usd;
    for (const auto& [m, p] : acct.positions) total += p.isolated_margin;
  }
  return total;
}

std::int64_t Exchange::total_cost_basis() const {
  std::int64_t total = 0;
  for (const auto& acct : accounts_)
    for (const auto& [m, p] : acct.positions) total += p.cost;
  return total;
}

void Exchange::take_events(std::vector<FillEvent>& out) {
  out.swap(events_);  // out's old buffer becomes the next block's: no reallocation
  events_.clear();
}

// ---------------------------------------------------------------------------------------------
// State records (docs/protocol.md section 8)

namespace {

using detail::RecordReader;
using detail::RecordWriter;
using detail::tagged_key;

bool position_persisted(const Market& market, const Position& p) {
  return p.szi != 0 || p.cost != 0 || p.cum_funding != 0 || p.isolated_margin != 0 ||
         p.leverage != std::min(kDefaultLeverage, market.max_leverage) ||
         p.is_cross == market.only_isolated;
}

RecordWriter& encode_order(RecordWriter&& w, MarketIndex m, const Address& owner,
                           const RestingOrder& o) {
  return w.u32(m)
      .bytes(owner)
      .u8(static_cast<std::uint8_t>(o.side))
      .u8(o.reduce_only)
      .i64(o.px)
      .i64(o.sz)
      .i64(o.orig_sz)
      .u64(o.time_ms)
      .bytes(o.cloid);
}

}  // namespace

void Exchange::collect_changes(state::ChangeSink& sink) {
  for (AccountId id : dirty_accounts_) {
    Account& acct = accounts_[id];
    acct.dirty = false;
    RecordWriter w(record_buffer_);
    w.u32(id).i64(acct.usd);
    std::uint32_t count = 0;
    for (const auto& [m, p] : acct.positions) count += position_persisted(markets_[m], p);
    w.u32(count);
    for (const auto& [m, p] : acct.positions) {
      if (!position_persisted(markets_[m], p)) continue;
      w.u32(m)
          .i64(p.szi)
          .i64(p.cost)
          .i64(p.cum_funding)
          .u32(p.leverage)
          .u8(p.is_cross)
          .i64(p.isolated_margin);
    }
    w.u64(acct.liquidation_cooldown_until_ms).i64(acct.stake_free);
    sink.set(tagged_key(kAccountTag, acct.address), w.view());
  }
  dirty_accounts_.clear();

  std::sort(dirty_orders_.begin(), dirty_orders_.end());
  dirty_orders_.erase(std::unique(dirty_orders_.begin(), dirty_orders_.end()), dirty_orders_.end());
  for (const auto& [m, oid] : dirty_orders_) {
    const RestingOrder* resting = markets_[m].book.find(oid);
    if (!resting) {
      sink.set(tagged_key(kOrderTag, oid, 8), std::nullopt);
      continue;
    }
    RecordWriter w(record_buffer_);
    encode_order(std::move(w), m, accounts_[resting->owner].address, *resting);
    // Only a fired trigger order's record carries its queue place (every other's is its oid).
    if (const std::uint64_t place = queue_place(oid); place != oid) w.u64(place);
    sink.set(tagged_key(kOrderTag, oid, 8), w.view());
  }
  std::sort(dirty_triggers_.begin(), dirty_triggers_.end());
  dirty_triggers_.erase(std::unique(dirty_triggers_.begin(), dirty_triggers_.end()),
                        dirty_triggers_.end());
  for (OrderId oid : dirty_triggers_) {
    auto trigger = triggers_.find(oid);
    if (trigger == triggers_.end()) {
      sink.set(tagged_key(kTriggerTag, oid, 8), std::nullopt);
      continue;
    }
    const auto& [m, t] = trigger->second;
    sink.set(
        tagged_key(kTriggerTag, oid, 8),
        encode_order(RecordWriter(record_buffer_), m, accounts_[t.order.owner].address, t.order)
            .u8(static_cast<std::uint8_t>(t.tif))
            .u8(static_cast<std::uint8_t>(t.tpsl))
            .i64(t.trigger_px)
            .view());
  }
  dirty_orders_.clear();
  dirty_triggers_.clear();

  std::sort(dirty_markets_.begin(), dirty_markets_.end());
  dirty_markets_.erase(std::unique(dirty_markets_.begin(), dirty_markets_.end()),
                       dirty_markets_.end());
  for (MarketIndex m : dirty_markets_) {
    const Market& market = markets_[m];
    sink.set(tagged_key(kMarketTag, m, 4), RecordWriter()
                                               .i64(market.mark_px)
                                               .i64(market.prev_mark_px)
                                               .i64(market.oracle_px)
                                               .i64(market.day_start_px)
                                               .u64(market.oracle_time_ms)
                                               .u8(market.votes_pending)
                                               .i64(market.mid_ema.value)
                                               .u64(market.mid_ema.time_ms)
                                               .u8(market.mid_ema.started)
                                               .i64(market.last_trade_px)
                                               .i64(market.open_interest)
                                               .i64(market.day_volume)
                                               .u64(market.day_start_ms)
                                               .i64(market.premium_sum)
                                               .u32(market.premium_samples)
                                               .u64(market.next_sample_ms)
                                               .u64(market.next_funding_ms)
                                               .u8(market.halted)
                                               .take());
  }
  dirty_markets_.clear();

  std::sort(dirty_votes_.begin(), dirty_votes_.end());
  dirty_votes_.erase(std::unique(dirty_votes_.begin(), dirty_votes_.end()), dirty_votes_.end());
  for (const auto& [m, validator] : dirty_votes_) {
    const Vote& vote = votes_.at({m, validator});
    std::string key = tagged_key(kVoteTag, m, 4);
    key.append(reinterpret_cast<const char*>(validator.data()), validator.size());
    sink.set(key, RecordWriter().i64(vote.px).u64(vote.time_ms).take());
  }
  dirty_votes_.clear();

  for (const auto& [m, index] : new_funding_records_) {
    const FundingRecord& f = markets_[m].funding_history[index];
    std::string key = tagged_key(kFundingTag, m, 4);
    for (int shift = 56; shift >= 0; shift -= 8)
      key.push_back(static_cast<char>(f.time_ms >> shift));
    sink.set(key, RecordWriter().i64(f.rate_8h).i64(f.premium).u32(f.interval_hours).take());
  }
  new_funding_records_.clear();

  for (const state::Address& agent : dirty_agents_) {
    auto it = agent_owner_.find(agent);
    if (it == agent_owner_.end())
      sink.set(tagged_key(kAgentTag, agent), std::nullopt);
    else
      sink.set(tagged_key(kAgentTag, agent), RecordWriter().bytes(it->second).take());
  }
  dirty_agents_.clear();

  if (globals_dirty_) {
    sink.set(std::string(1, kGlobalsTag),
             RecordWriter().i64(fee_pool_).u64(next_oid_).u64(next_tid_).take());
    globals_dirty_ = false;
  }
}

void Exchange::collect_all(state::ChangeSink& sink) {
  for (AccountId id = 0; id < accounts_.size(); ++id) touch(id);
  for (MarketIndex m = 0; m < markets_.size(); ++m)
    markets_[m].book.for_each_order([&](const RestingOrder& o) { touch_order(m, o.oid); });
  for (const auto& [oid, trigger] : triggers_) touch_trigger(oid);
  for (MarketIndex m = 0; m < markets_.size(); ++m) touch_market(m);
  for (const auto& [agent, owner] : agent_owner_) dirty_agents_.push_back(agent);
  for (const auto& [key, vote] : votes_) dirty_votes_.push_back(key);
  for (MarketIndex m = 0; m < markets_.size(); ++m)
    for (std::size_t i = 0; i < markets_[m].funding_history.size(); ++i)
      new_funding_records_.emplace_back(m, i);
  globals_dirty_ = true;
  collect_changes(sink);
}

Status Exchange::load(std::string_view key, std::string_view value) {
  auto damaged = [&] {
    return reject(Reason::StorageError,
                  "damaged state record at key s/" +
                      state::to_hex(std::span(reinterpret_cast<const std::uint8_t*>(key.data()),
                                              key.size())));
  };
  if (key.empty()) return damaged();
  RecordReader r(value);
  switch (key[0]) {
    case kAccountTag: {
      if (key.size() != 21) return damaged();
      Address address;
      std::memcpy(address.data(), key.data() + 1, 20);
      const AccountId id = r.u32();
      if (!r.ok()) return damaged();
      // Ids are dense, so a damaged one far past those seen is refused, not allocated for.
      if (id > accounts_.size() + (1u << 20)) return damaged();
      if (id >= accounts_.size()) accounts_.resize(id + 1);
      Account& acct = accounts_[id];
      if (auto old = account_by_address_.find(address);
          old != account_by_address_.end() && old->second != id)
        return damaged();
      acct = Account{};
      acct.address = address;
      account_by_address_[address] = id;
      acct.usd = r.i64();
      const std::uint32_t count = r.u32();
      for (std::uint32_t i = 0; i < count && r.ok(); ++i) {
        const MarketIndex m = r.u32();
        if (m >= markets_.size()) return damaged();
        Position& p = position(acct, m);
        const bool held = p.szi != 0;  // a damaged record may list a market twice
        p.szi = r.i64();
        p.cost = r.i64();
        p.cum_funding = r.i64();
        p.leverage = r.u32();
        p.is_cross = r.u8() != 0;
        p.isolated_margin = r.i64();
        if (!held && p.szi != 0) add_holder(m, id, p);
        if (held && p.szi == 0) remove_holder(m, p);
      }
      acct.liquidation_cooldown_until_ms = r.u64();
      // Records written before stake balances were kept end here (the stake was not kept: 0).
      if (r.remaining() > 0) acct.stake_free = r.i64();
      return r.done() ? Status::Ok() : damaged();
    }
    case kOrderTag:
    case kTriggerTag: {
      if (key.size() != 9) return damaged();
      OrderId oid = 0;
      for (int i = 1; i < 9; ++i) oid = oid << 8 | static_cast<std::uint8_t>(key[i]);
      const MarketIndex m = r.u32();
      const Address owner = r.bytes<20>();
      RestingOrder o;
      o.oid = oid;
      o.side = r.u8() ? Side::Ask : Side::Bid;
      o.reduce_only = r.u8() != 0;
      o.px = r.i64();
      o.sz = r.i64();
      o.orig_sz = r.i64();
      o.time_ms = r.u64();
      o.cloid = r.bytes<16>();
      if (!r.ok() || m >= markets_.size()) return damaged();
      // Owners are resolved in finish_load, once every account is known; keep the address.
      pending_orders_.push_back({key[0] == kTriggerTag, m, owner, o, {}, oid});
      if (key[0] == kTriggerTag) {
        auto& t = pending_orders_.back().trigger;
        t.tif = static_cast<TimeInForce>(r.u8());
        t.tpsl = static_cast<state::TpSl>(r.u8());
        t.trigger_px = r.i64();
      } else if (r.remaining() > 0) {
        // A fired trigger order's queue place: drawn after its oid, so always past it.
        const std::uint64_t place = r.u64();
        if (place <= oid) return damaged();
        pending_orders_.back().queue_place = place;
      }
      return r.done() ? Status::Ok() : damaged();
    }
    case kMarketTag: {
      if (key.size() != 5) return damaged();
      MarketIndex m = 0;
      for (int i = 1; i < 5; ++i) m = m << 8 | static_cast<std::uint8_t>(key[i]);
      if (m >= markets_.size()) return damaged();
      Market& market = markets_[m];
      market.mark_px = r.i64();
      market.prev_mark_px = r.i64();
      market.oracle_px = r.i64();
      market.day_start_px = r.i64();
      market.oracle_time_ms = r.u64();
      market.votes_pending = r.u8() != 0;
      market.mid_ema.value = r.i64();
      market.mid_ema.time_ms = r.u64();
      market.mid_ema.started = r.u8() != 0;
      market.last_trade_px = r.i64();
      market.open_interest = r.i64();
      market.day_volume = r.i64();
      market.day_start_ms = r.u64();
      market.premium_sum = r.i64();
      market.premium_samples = r.u32();
      market.next_sample_ms = r.u64();
      market.next_funding_ms = r.u64();
      market.halted = r.u8() != 0;
      return r.done() ? Status::Ok() : damaged();
    }
    case kVoteTag: {
      if (key.size() != 25) return damaged();
      MarketIndex m = 0;
      for (int i = 1; i < 5; ++i) m = m << 8 | static_cast<std::uint8_t>(key[i]);
      Address validator;
      std::memcpy(validator.data(), key.data() + 5, 20);
      if (m >= markets_.size()) return damaged();
      Vote& vote = votes_[{m, validator}];
      vote.px = r.i64();
      vote.time_ms = r.u64();
      return r.done() ? Status::Ok() : damaged();
    }
    case kFundingTag: {
      if (key.size() != 13) return damaged();
      MarketIndex m = 0;
      for (int i = 1; i < 5; ++i) m = m << 8 | static_cast<std::uint8_t>(key[i]);
      FundingRecord f;
      for (int i = 5; i < 13; ++i) f.time_ms = f.time_ms << 8 | static_cast<std::uint8_t>(key[i]);
      f.rate_8h = r.i64();
      f.premium = r.i64();
      f.interval_hours = r.u32();
      if (m >= markets_.size()) return damaged();
      // Keys sort by market then time, so records arrive in time order.
      markets_[m].funding_history.push_back(f);
      return r.done() ? Status::Ok() : damaged();
    }
    case kAgentTag: {
      if (key.size() != 21) return damaged();
      Address agent;
      std::memcpy(agent.data(), key.data() + 1, 20);
      agent_owner_[agent] = r.bytes<20>();
      return r.done() ? Status::Ok() : damaged();
    }
    case kGlobalsTag: {
      fee_pool_ = r.i64();
      next_oid_ = r.u64();
      next_tid_ = r.u64();
      return r.done() ? Status::Ok() : damaged();
    }
    default:
      return damaged();
  }
}

Status Exchange::finish_load() {
  // Orders go back in queue-place order, which within a price level is time priority.
  std::sort(pending_orders_.begin(), pending_orders_.end(),
            [](const auto& a, const auto& b) { return a.queue_place < b.queue_place; });
  // Places are drawn from the oid sequence, once each; an oid is a trigger's or a resting
  // order's, never both (a firing trigger's record is deleted as its order's is written).
  std::set<OrderId> oids;
  for (std::size_t i = 0; i < pending_orders_.size(); ++i) {
    const PendingOrder& p = pending_orders_[i];
    if (p.queue_place >= next_oid_ ||
        (i > 0 && pending_orders_[i - 1].queue_place == p.queue_place) ||
        !oids.insert(p.order.oid).second)
      return reject(Reason::StorageError, "damaged order record " + std::to_string(p.order.oid));
  }
  for (auto& pending : pending_orders_) {
    auto owner = account_by_address_.find(pending.owner);
    if (owner == account_by_address_.end())
      return reject(Reason::StorageError, "order of an unknown account");
    pending.order.owner = owner->second;
    if (pending.is_trigger) {
      pending.trigger.order = pending.order;
      add_trigger(pending.market, pending.trigger);
      continue;
    }
    Market& market = markets_[pending.market];
    // A damaged record must not reach the book (it would file the order at a wrong level).
    if (!market.grid.valid(pending.order.px) || pending.order.sz <= 0 ||
        pending.order.sz > pending.order.orig_sz || market.book.find(pending.order.oid))
      return reject(Reason::StorageError,
                    "damaged order record " + std::to_string(pending.order.oid));
    match_scratch_.clear();
    PlaceOutcome placed = market.book.place(pending.order, TimeInForce::Gtc, match_scratch_);
    if (!match_scratch_.empty() || placed.status != PlaceOutcome::Status::Rested)
      return reject(Reason::StorageError, "stored book is crossed");
    if (pending.queue_place != pending.order.oid)
      fired_queue_place_[pending.order.oid] = pending.queue_place;
    Account& acct = accounts_[owner->second];
    Position& pos = position(acct, pending.market);
    if (pending.order.reduce_only)
      pos.reduce_only_sz += pending.order.sz;
    else
      (pending.order.side == Side::Bid ? pos.bid_ntl : pos.ask_ntl) +=
          notional(pending.order.px, pending.order.sz, market.lot_scale);
    ++pos.open_orders;
    acct.orders.push_back(pending.order.oid);
    if (!pending.order.cloid.is_zero())
      acct.cloids.emplace(std::pair{pending.market, pending.order.cloid}, pending.order.oid);
  }
  pending_orders_.clear();
  Address vault;
  std::memcpy(vault.data(), kBackstopVaultAddress, 20);
  auto vault_it = account_by_address_.find(vault);
  if (vault_it == account_by_address_.end())
    return reject(Reason::StorageError, "no backstop vault account");
  vault_id_ = vault_it->second;
  for (auto& acct : accounts_) acct.dirty = false;
  dirty_accounts_.clear();
  dirty_orders_.clear();
  dirty_triggers_.clear();
  dirty_markets_.clear();
  dirty_agents_.clear();
  dirty_votes_.clear();
  new_funding_records_.clear();
  globals_dirty_ = false;
  return Status::Ok();
}

}  // namespace perps
