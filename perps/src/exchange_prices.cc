// Oracle, mark price and funding for core markets (SPEC section 4; docs/protocol.md section 9).
#include <algorithm>

#include "exchange_arithmetic.h"
#include "perps/exchange.h"
#include "perps/protocol_constants.h"

namespace perps {
using state::make_error;
using state::Reason;
using Outcome = state::TxOutcome<Exchange::Response>;

Outcome Exchange::oracle_vote(const Context& c, const state::Address& validator,
                              const state::OracleVote& action) {
  if (!validators_.contains(validator))
    return Outcome::rejected(make_error(Reason::NotValidator, "only validators vote prices"));
  std::vector<std::pair<MarketIndex, Px>> votes;
  for (const auto& pair : action.pxs.items) {
    auto m = find_market(pair.coin);
    if (!m)
      return Outcome::rejected(make_error(Reason::UnknownMarket, "unknown market " + pair.coin));
    if (pair.px.units <= 0)
      return Outcome::rejected(make_error(Reason::InvalidPrice, "oracle price must be positive"));
    votes.emplace_back(*m, pair.px.units);
  }
  for (const auto& [m, px] : votes) {
    votes_[{m, validator}] = {px, c.block.time_ms};
    dirty_votes_.emplace_back(m, validator);
    markets_[m].votes_pending = true;
    touch_market(m);
  }
  return {};
}

// The oracle is the stake-weighted median of the votes at most kOracleVoteMaxAgeMs old, once they
// hold more than 2/3 of the voting power: with less than 1/3 of the power Byzantine, they then
// hold less than half of the counted weight, so the median lies within the honest votes.
void Exchange::update_oracle(MarketIndex m, std::uint64_t now_ms) {
  Market& market = markets_[m];
  market.votes_pending = false;
  touch_market(m);
  std::vector<WeightedPrice> fresh;
  std::uint64_t fresh_power = 0;
  for (const auto& [validator, power] : validators_) {
    auto vote = votes_.find({m, validator});
    if (vote == votes_.end() || vote->second.time_ms + kOracleVoteMaxAgeMs < now_ms) continue;
    fresh.push_back({vote->second.px, power});
    fresh_power += power;
  }
  if (3 * static_cast<state::i128>(fresh_power) <= 2 * static_cast<state::i128>(total_power_))
    return;
  auto median = weighted_median(fresh);
  if (!median) return;
  market.oracle_px = clamp_to_day_range(*median, market.day_start_px, kOracleRangeFactor);
  market.oracle_time_ms = now_ms;
  update_mark(m);
}

// mark = median(oracle + EMA150(mid - oracle), median(bid, ask, last)); with these two inputs the
// median is their mean (rounded down). Then at most 1% from the previous mark, and within 10x of
// the start-of-day price.
void Exchange::update_mark(MarketIndex m) {
  Market& market = markets_[m];
  const auto bid = market.book.best_bid(), ask = market.book.best_ask();
  if (const auto mid = market.mid_px())
    market.mid_ema.sample(*mid - market.oracle_px, market.oracle_time_ms, kMarkEmaWindowMs);
  const Px ema_px = market.oracle_px + (market.mid_ema.started ? market.mid_ema.value : 0);
  const std::optional<Px> last =
      market.last_trade_px > 0 ? std::optional<Px>(market.last_trade_px) : std::nullopt;
  const Px book_px = median3(bid, ask, last, market.oracle_px);
  const Px raw = static_cast<Px>(state::div_floor(static_cast<state::i128>(ema_px) + book_px, 2));
  const Px mark = clamp_to_day_range(clamp_move(raw, market.mark_px, kMarkMoveClamp),
                                     market.day_start_px, kOracleRangeFactor);
  set_mark_px(m, mark);
}

void Exchange::sample_premium(MarketIndex m, std::uint64_t now_ms) {
  Market& market = markets_[m];
  const auto bid = impact_price(market.book, Side::Bid, market.impact_notional, market.lot_scale);
  const auto ask = impact_price(market.book, Side::Ask, market.impact_notional, market.lot_scale);
  market.premium_sum += core_premium(bid, ask, market.oracle_px);
  ++market.premium_samples;
  market.next_sample_ms = now_ms - now_ms % kPremiumSampleIntervalMs + kPremiumSampleIntervalMs;
  touch_market(m);
}

// Pays the interval's funding between the market's position holders at the oracle price. Payers
// round up and receivers toward zero; the residue (never negative, since longs and shorts are
// equal in size) goes to the fee pool. Isolated positions pay from and receive into their margin.
void Exchange::settle_funding(MarketIndex m, std::uint64_t now_ms) {
  Market& market = markets_[m];
  const std::uint64_t boundary = market.next_funding_ms;
  const std::int64_t premium =
      market.premium_samples ? market.premium_sum / market.premium_samples : 0;
  const std::int64_t rate = funding_rate_8h(premium, market.funding);
  std::int64_t residue = 0;
  if (rate != 0) {
    for (AccountId id : market.holders) {
      Account& acct = accounts_[id];
      Position& p = acct.positions.find(m)->second;
      const std::int64_t pay = funding_payment(p.szi, market.oracle_px, market.lot_scale, rate,
                                               market.funding.interval_hours);
      if (pay == 0) continue;
      (p.is_cross ? acct.usd : p.isolated_margin) -= pay;
      p.cum_funding += pay;
      residue += pay;
      touch(id);
    }
  }
  fee_pool_ += residue;
  globals_dirty_ = true;
  market.funding_history.push_back({boundary, rate, premium, market.funding.interval_hours});
  new_funding_records_.emplace_back(m, market.funding_history.size() - 1);
  market.premium_sum = 0;
  market.premium_samples = 0;
  // After a gap in blocks longer than an interval, one settlement covers it (with the samples
  // taken) and the schedule resumes at the next boundary.
  const std::uint64_t interval = market.funding.interval_hours * kHourMs;
  market.next_funding_ms = now_ms - now_ms % interval + interval;
  funding_paid_.push_back(m);
  touch_market(m);
}

}  // namespace perps
