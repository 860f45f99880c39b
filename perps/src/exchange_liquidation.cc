// Liquidation, the backstop vault and auto-deleveraging (SPEC section 4; docs/protocol.md
// section 10). Runs at the end of a block over the holders of the markets whose mark moved or
// that paid funding, so a block without either scans no account.
#include <algorithm>

#include "exchange_arithmetic.h"
#include "perps/exchange.h"
#include "perps/liquidation.h"
#include "perps/protocol_constants.h"

namespace perps {
using namespace detail;
using state::i128;

namespace {

Lots abs_lots(Lots szi) {
  return szi < 0 ? -szi : szi;
}

}  // namespace

void Exchange::liquidate(Context& c, std::vector<MarketIndex> markets) {
  std::sort(markets.begin(), markets.end());
  markets.erase(std::unique(markets.begin(), markets.end()), markets.end());
  std::vector<AccountId> candidates;
  for (MarketIndex m : markets)
    candidates.insert(candidates.end(), markets_[m].holders.begin(), markets_[m].holders.end());
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

  for (AccountId id : candidates) {
    if (id == vault_id_) continue;
    bool has_cross = false;
    std::vector<MarketIndex> isolated;
    for (const auto& [m, p] : accounts_[id].positions) {
      if (p.szi == 0) continue;
      if (p.is_cross)
        has_cross = true;
      else
        isolated.push_back(m);
    }
    const MarginSummary s = margin_summary(accounts_[id]);
    if (has_cross && s.account_value < s.maintenance_margin) {
      liquidate_cross(c, id);
    } else if (!has_cross && s.account_value < 0) {
      // Debt without a position left to deleverage (funding took the account under water and an
      // earlier deleveraging in this scan closed it out): the vault covers it.
      accounts_[vault_id_].usd += s.account_value;
      accounts_[id].usd -= s.account_value;
      touch(id);
      touch(vault_id_);
    }
    for (MarketIndex m : isolated) {
      const Position& p = accounts_[id].positions.at(m);
      const PositionMargin pm = position_margin(markets_[m], p);
      if (p.szi != 0 && p.isolated_margin + pm.upnl < pm.maintenance) liquidate_isolated(c, id, m);
    }
  }

  // The vault is the backstop itself: it is never liquidated, but a loss beyond its cash is
  // deleveraged like any account's.
  const MarginSummary vault = margin_summary(accounts_[vault_id_]);
  if (vault.account_value < 0) {
    std::vector<MarketIndex> held;
    for (const auto& [m, p] : accounts_[vault_id_].positions)
      if (p.szi != 0) held.push_back(m);
    Context lc{c.block, {}, LiquidationMethod::Adl, vault_id_};
    deleverage(lc, vault_id_, held, /*cross=*/true);
  }
  cover_bad_debt();
}

// A deficit the opposite side could not pay lands on the vault; what the vault cannot carry is
// covered by the fee pool, and then shared by every account with positive equity in proportion
// to it (rounded up, at most its equity). Reached only after a cascade the clamps make rare; the
// last step costs one pass over the accounts.
void Exchange::cover_bad_debt() {
  Account& vault = accounts_[vault_id_];
  std::int64_t debt = -margin_summary(vault).account_value;
  if (debt <= 0) return;
  const std::int64_t from_pool = std::min(debt, fee_pool_);
  fee_pool_ -= from_pool;
  vault.usd += from_pool;
  debt -= from_pool;
  globals_dirty_ = true;
  touch(vault_id_);
  if (debt == 0) return;
  std::vector<std::pair<AccountId, std::int64_t>> equity;
  i128 total = 0;
  for (AccountId id = 0; id < accounts_.size(); ++id) {
    if (id == vault_id_) continue;
    const std::int64_t value = margin_summary(accounts_[id]).account_value;
    if (value <= 0) continue;
    equity.emplace_back(id, value);
    total += value;
  }
  for (const auto& [id, value] : equity) {
    if (debt == 0 || total == 0) break;
    const std::int64_t share = std::min<std::int64_t>(
        value, static_cast<std::int64_t>(state::div_ceil(static_cast<i128>(debt) * value, total)));
    total -= value;
    accounts_[id].usd -= share;
    accounts_[vault_id_].usd += share;
    debt -= share;
    touch(id);
  }
}

void Exchange::liquidate_cross(Context& c, AccountId id) {
  cancel_all_orders(id, std::nullopt);
  const MarginSummary s = margin_summary(accounts_[id]);
  std::vector<MarketIndex> cross;
  for (const auto& [m, p] : accounts_[id].positions)
    if (p.szi != 0 && p.is_cross) cross.push_back(m);
  Context lc{c.block, {}, LiquidationMethod::Market, id};
  if (s.account_value < 0) {
    lc.liquidation = LiquidationMethod::Adl;
    deleverage(lc, id, cross, /*cross=*/true);
  } else if (kBackstopDenominator * s.account_value < kBackstopNumerator * s.maintenance_margin) {
    lc.liquidation = LiquidationMethod::Backstop;
    backstop(lc, id, cross, /*cross=*/true);
  } else if (c.block.time_ms >= accounts_[id].liquidation_cooldown_until_ms) {
    bool partial = false;
    for (MarketIndex m : cross)
      partial |= book_liquidation(lc, id, m, margin_summary(accounts_[id]).account_value);
    if (partial) {
      accounts_[id].liquidation_cooldown_until_ms = c.block.time_ms + kLiquidationCooldownMs;
      touch(id);
    }
  }
}

void Exchange::liquidate_isolated(Context& c, AccountId id, MarketIndex m) {
  cancel_all_orders(id, m);
  const Position& p = accounts_[id].positions.at(m);
  const PositionMargin pm = position_margin(markets_[m], p);
  const std::int64_t equity = p.isolated_margin + pm.upnl;
  Context lc{c.block, {}, LiquidationMethod::Market, id};
  if (equity < 0) {
    lc.liquidation = LiquidationMethod::Adl;
    deleverage(lc, id, {m}, /*cross=*/false);
  } else if (kBackstopDenominator * equity < kBackstopNumerator * pm.maintenance) {
    lc.liquidation = LiquidationMethod::Backstop;
    backstop(lc, id, {m}, /*cross=*/false);
  } else if (c.block.time_ms >= accounts_[id].liquidation_cooldown_until_ms) {
    if (book_liquidation(lc, id, m, equity)) {
      accounts_[id].liquidation_cooldown_until_ms = c.block.time_ms + kLiquidationCooldownMs;
      touch(id);
    }
  }
}

void Exchange::cancel_all_orders(AccountId id, std::optional<MarketIndex> only) {
  std::vector<OrderId> resting = accounts_[id].orders;
  std::sort(resting.begin(), resting.end());
  for (OrderId oid : resting)
    for (MarketIndex m = 0; m < markets_.size(); ++m)
      if ((!only || *only == m) && markets_[m].book.find(oid)) (void)cancel_order(m, oid, id);
  std::vector<OrderId> triggers = accounts_[id].triggers;
  std::sort(triggers.begin(), triggers.end());  // the list's order depends on past removals
  for (OrderId oid : triggers) {
    const MarketIndex m = triggers_.at(oid).first;
    if (!only || *only == m) (void)cancel_order(m, oid, id);
  }
}

bool Exchange::book_liquidation(Context& c, AccountId id, MarketIndex m, std::int64_t equity) {
  const Market& market = markets_[m];
  const Position& p = accounts_[id].positions.at(m);
  const Lots full = abs_lots(p.szi);
  Lots sz = full;
  if (notional(market.mark_px, full, market.lot_scale) > kPartialLiquidationThreshold)
    sz = std::max<Lots>(1,
                        static_cast<Lots>(state::div_ceil(  // lots x 2e7 overflows int64
                            static_cast<i128>(full) * kPartialLiquidationFraction, kFractionOne)));
  const Side side = p.szi > 0 ? Side::Ask : Side::Bid;
  // The fill may lose at most the equity against the mark (fee and a micro-dollar per rounding
  // included), so a liquidation through the book never leaves the account in debt. An isolated
  // position frees only the sold part's share of its margin into the account's cash, so that
  // part may lose only its share of the equity: more would be taken from the cross cash (and
  // then covered by the vault) while the rest of the position still held equity.
  const std::int64_t share =
      p.is_cross ? equity : static_cast<std::int64_t>(static_cast<i128>(equity) * sz / full);
  // The fee is paid at the fill price. A sell (closing a long) costs the most at its lowest fill,
  // where the fee is below the mark's; a buy (closing a short) may fill up to the slippage above
  // the mark, so its fee is budgeted there: at the mark, a short could end a few cents in debt.
  const i128 slippage = static_cast<i128>(market.mark_px) * kLiquidationSlippage / kFractionOne;
  const Px fee_px = side == Side::Bid ? static_cast<Px>(market.mark_px + slippage) : market.mark_px;
  const std::int64_t allowed =
      share - fee_of(notional(fee_px, sz, market.lot_scale), kTakerFee) - 2;
  if (allowed <= 0) return false;
  const i128 affordable = static_cast<i128>(allowed) * market.lot_scale / sz;
  const Px distance = static_cast<Px>(std::min(slippage, affordable));
  // Rounded onto the grid toward the mark, so the bound stays where the equity allows.
  const Px limit = side == Side::Ask
                       ? market.grid.ceil_price(std::max<Px>(1, market.mark_px - distance))
                       : market.grid.floor_price(market.mark_px + distance);
  RestingOrder order;
  order.owner = id;
  order.side = side;
  order.reduce_only = true;
  order.px = limit;
  order.sz = order.orig_sz = sz;
  order.time_ms = c.block.time_ms;
  (void)place_validated(c, id, m, order, TimeInForce::Ioc, Origin::Liquidation);
  return sz < full;
}

void Exchange::transfer_position(Context& c, AccountId from, AccountId to, MarketIndex m, Lots sz,
                                 Px px) {
  Market& market = markets_[m];
  const Side from_side = accounts_[from].positions.at(m).szi > 0 ? Side::Ask : Side::Bid;
  const std::uint64_t tid = next_tid_++;
  globals_dirty_ = true;
  struct Party {
    AccountId id;
    Side side;
  };
  for (const Party& party : {Party{from, from_side}, Party{to, opposite(from_side)}}) {
    Account& acct = accounts_[party.id];
    const Lots start = position(acct, m).szi;
    auto [pnl, dir] = apply_fill(party.id, m, party.side, sz, px);
    const Lots end = acct.positions.at(m).szi;
    market.open_interest += std::max<Lots>(0, end) - std::max<Lots>(0, start);
    // A shrunk position trims its reduce-only orders, as after a book fill: else one resting
    // for the old size could open the other way.
    enforce_reduce_only(party.id, m);
    touch(party.id);

    FillEvent fill;
    fill.market = m;
    fill.user = acct.address;
    fill.oid = 0;
    fill.tid = tid;
    fill.px = px;
    fill.sz = sz;
    fill.side = party.side;
    fill.crossed = party.id == from;
    fill.closed_pnl = pnl;
    fill.dir = dir;
    fill.start_position = start;
    fill.time_ms = c.block.time_ms;
    fill.liquidation = c.liquidation;
    fill.liquidated_user = accounts_[c.liquidated].address;
    fill.liquidation_mark_px = market.mark_px;
    events_.push_back(fill);
  }
  touch_market(m);
}

namespace {

// The mark rounded to a multiple of the size unit's price step, where px * lots / lot_scale is
// exact, so a transfer moves cash and cost basis by the same amount on both sides. Rounded in
// favour of the side taking the position (vault or counterparty): the liquidated account's cover
// is measured after the transfer, so it bears the rounding.
Px transfer_px(const Market& market, bool taker_buys) {
  const Px down =
      std::max<Px>(market.lot_scale, market.mark_px - market.mark_px % market.lot_scale);
  return taker_buys || down >= market.mark_px ? down : down + market.lot_scale;
}

}  // namespace

// The vault takes the positions at the mark and the cover left behind them (cross: the account's
// cash; isolated: the position's margin and PnL), as Hyperliquid's liquidator vault: maintenance
// margin is not returned.
void Exchange::backstop(Context& c, AccountId id, std::vector<MarketIndex> markets, bool cross) {
  const std::int64_t usd_before = accounts_[id].usd;
  for (MarketIndex m : markets) {
    const Lots sz = abs_lots(accounts_[id].positions.at(m).szi);
    const bool vault_buys = accounts_[id].positions.at(m).szi > 0;
    transfer_position(c, id, vault_id_, m, sz, transfer_px(markets_[m], vault_buys));
  }
  const std::int64_t cover = cross ? accounts_[id].usd : accounts_[id].usd - usd_before;
  accounts_[id].usd -= cover;
  accounts_[vault_id_].usd += cover;
  touch(id);
  touch(vault_id_);
}

// Closes an underwater account's positions against the opposite side, best ranked first (score
// at the previous mark), at the mark; then each counterparty pays its share of the deficit left
// behind, in proportion to the notional it took and rounded up, at most its equity: together the
// same as closing at the bankruptcy price. What one cannot pay passes to the next.
void Exchange::deleverage(Context& c, AccountId id, std::vector<MarketIndex> markets, bool cross) {
  struct Taken {
    AccountId counterparty;
    std::int64_t ntl;
    std::int64_t isolated_release;  // < 0: cross counterparty (pays from its account value)
    std::size_t from_event, to_event;
  };
  std::vector<Taken> taken;
  const std::int64_t usd_before = accounts_[id].usd;
  for (MarketIndex m : markets) {
    const Market& market = markets_[m];
    const bool long_position = accounts_[id].positions.at(m).szi > 0;
    struct Candidate {
      i128 score;
      AccountId id;
    };
    std::vector<Candidate> ranked;
    for (AccountId h : market.holders) {
      const Position& q = accounts_[h].positions.at(m);
      if (h == id || (q.szi > 0) == long_position) continue;
      const PositionMargin now = position_margin(market, q);
      const std::int64_t equity_now =
          q.is_cross ? margin_summary(accounts_[h]).account_value : q.isolated_margin + now.upnl;
      const std::int64_t value_prev = notional(market.prev_mark_px, q.szi, market.lot_scale);
      const std::int64_t equity_prev = equity_now - now.upnl + (value_prev - q.cost);
      ranked.push_back({adl_score(value_prev, q.cost, equity_prev), h});
    }
    std::sort(ranked.begin(), ranked.end(), [](const Candidate& a, const Candidate& b) {
      return a.score != b.score ? a.score > b.score : a.id < b.id;
    });
    const Px px = transfer_px(market, /*taker_buys=*/long_position);
    Lots remaining = abs_lots(accounts_[id].positions.at(m).szi);
    for (const Candidate& candidate : ranked) {
      if (remaining == 0) break;
      const Position& q = accounts_[candidate.id].positions.at(m);
      const Lots take = std::min(remaining, abs_lots(q.szi));
      const bool isolated = !q.is_cross;
      const std::int64_t cp_usd_before = accounts_[candidate.id].usd;
      transfer_position(c, id, candidate.id, m, take, px);
      taken.push_back(
          {candidate.id, notional(px, take, market.lot_scale),
           isolated ? std::max<std::int64_t>(0, accounts_[candidate.id].usd - cp_usd_before) : -1,
           events_.size() - 2, events_.size() - 1});
      remaining -= take;
    }
  }

  const std::int64_t usd_after = accounts_[id].usd;
  std::int64_t deficit = std::max<std::int64_t>(0, cross ? -usd_after : usd_before - usd_after);
  i128 ntl_left = 0;
  for (const Taken& t : taken) ntl_left += t.ntl;
  for (const Taken& t : taken) {
    if (deficit == 0 || ntl_left == 0) break;
    const std::int64_t cap = t.isolated_release >= 0
                                 ? t.isolated_release
                                 : margin_summary(accounts_[t.counterparty]).account_value;
    std::int64_t pay =
        static_cast<std::int64_t>(state::div_ceil(static_cast<i128>(deficit) * t.ntl, ntl_left));
    pay = std::clamp<std::int64_t>(pay, 0, std::max<std::int64_t>(0, cap));
    ntl_left -= t.ntl;
    if (pay == 0) continue;
    accounts_[t.counterparty].usd -= pay;
    accounts_[id].usd += pay;
    events_[t.from_event].closed_pnl += pay;
    events_[t.to_event].closed_pnl -= pay;
    deficit -= pay;
    touch(t.counterparty);
  }
  // What the opposite side could not pay, the backstop vault covers (an underwater vault is then
  // deleveraged in turn, at the end of the scan).
  if (deficit > 0 && id != vault_id_) {
    accounts_[vault_id_].usd -= deficit;
    accounts_[id].usd += deficit;
    touch(vault_id_);
  }
  touch(id);
}

std::optional<Px> Exchange::liquidation_px(const Account& account, MarketIndex m) const {
  auto it = account.positions.find(m);
  if (it == account.positions.end() || it->second.szi == 0) return std::nullopt;
  const Market& market = markets_[m];
  const Position& p = it->second;
  const PositionMargin pm = position_margin(market, p);
  std::int64_t cover;
  if (p.is_cross) {
    const MarginSummary s = margin_summary(account);
    cover = s.account_value - (s.maintenance_margin - pm.maintenance);
  } else {
    cover = p.isolated_margin + pm.upnl;
  }
  return liquidation_price(p.szi, market.mark_px, market.lot_scale, cover,
                           market.tier_max_leverage(pm.value < 0 ? -pm.value : pm.value));
}

}  // namespace perps
