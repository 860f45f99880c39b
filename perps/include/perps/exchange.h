// The exchange: markets with their books, accounts with positions and margin, and the action
// handlers of SPEC section 3 for trading and transfers. An Application for state::BlockExecutor:
// deterministic (integers only, block time only, ordered containers wherever iteration reaches
// state or results), with every changed object written back as a key/value pair for the app hash.
//
// Units: Px in micro-dollars per whole unit; sizes in lots (10^-szDecimals units); USD amounts in
// micro-dollars. notional = px * lots / 10^szDecimals, exact for prices on the market's tick.
#pragma once

#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <boost/json/value.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "perps/book_types.h"
#include "perps/funding.h"
#include "perps/genesis_state.h"
#include "perps/oracle.h"
#include "perps/order_book.h"
#include "perps/price_grid.h"
#include "state/block_executor.h"

namespace perps {

using MarketIndex = std::uint32_t;

struct AddressHasher {
  std::size_t operator()(const state::Address& a) const;
};
// Transparent string hashing, so a string_view finds a std::string key without a copy.
struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view name) const {
    return std::hash<std::string_view>{}(name);
  }
};
struct NameEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

// One funding settlement (SPEC section 4): the interval's average premium and its 8-hour rate.
struct FundingRecord {
  std::uint64_t time_ms = 0;  // the interval boundary
  std::int64_t rate_8h = 0;   // F, 1e-8; the interval paid F * interval_hours / 8
  std::int64_t premium = 0;   // P, 1e-8
  std::uint32_t interval_hours = 1;
};

struct Market {
  MarketIndex index = 0;
  std::string name;
  unsigned sz_decimals = 0;
  std::int64_t lot_scale = 1;  // 10^szDecimals
  std::uint32_t max_leverage = 1;
  bool only_isolated = false;
  bool halted = false;
  std::int64_t impact_notional = 0;
  std::vector<MarginTierSpec> tiers;  // ascending lower_bound; tiers[0].lower_bound == 0

  Px mark_px = 0;
  Px prev_mark_px = 0;  // the mark before its latest update: auto-deleveraging ranks at it
  Px oracle_px = 0;
  Px day_start_px = 0;  // oracle when the UTC day began: every price stays within 10x of it
  std::uint64_t oracle_time_ms = 0;  // last oracle update
  bool votes_pending = false;        // votes arrived since the last oracle update
  TimeEma mid_ema;                   // 150 s EMA of (mid - oracle), micro-dollars
  Px last_trade_px = 0;              // 0: no trade yet
  Lots open_interest = 0;            // sum of long sizes
  std::int64_t day_volume = 0;       // notional traded since day_start_ms
  std::uint64_t day_start_ms = 0;

  FundingParams funding;
  std::int64_t premium_sum = 0;  // premium samples of the current interval (1e-8 each)
  std::uint32_t premium_samples = 0;
  std::uint64_t next_sample_ms = 0;
  std::uint64_t next_funding_ms = 0;
  std::vector<FundingRecord> funding_history;  // ascending time

  // Accounts with a nonzero position here: what funding pays and a mark move can liquidate
  // (unordered; see Exchange::add_holder).
  std::vector<AccountId> holders;

  PriceGrid grid =
      PriceGrid::uniform(1);  // valid prices (SPEC section 1); the book indexes its levels by it
  OrderBook book;
  // Trigger orders waiting on this mark, as (trigger px, oid), so that a mark move visits only
  // the ones it fires: a rising mark fires those at mark >= px (sell take-profits, buy
  // stop-losses) from the lowest px, a falling one those at mark <= px from the highest.
  std::set<std::pair<Px, OrderId>> triggers_on_rise;
  std::set<std::pair<Px, OrderId>, std::greater<>> triggers_on_fall;

  // Tier maximum leverage for a position of this notional.
  std::uint32_t tier_max_leverage(std::int64_t notional) const;
  // Halfway between the best bid and ask, rounded down (written so it cannot overflow); none
  // with a side empty.
  std::optional<Px> mid_px() const {
    const auto bid = book.best_bid(), ask = book.best_ask();
    if (!bid || !ask) return std::nullopt;
    return *bid + (*ask - *bid) / 2;
  }
};

struct Position {
  Lots szi = 0;           // signed size: + long, - short
  std::int64_t cost = 0;  // signed cost basis of the open lots (micro-dollars), exact
  std::int64_t cum_funding = 0;
  std::uint32_t leverage = 0;  // the account's setting for this market
  bool is_cross = true;
  std::int64_t isolated_margin = 0;
  std::int64_t bid_ntl = 0;  // open non-reduce-only bids, notional at their prices
  std::int64_t ask_ntl = 0;  // open non-reduce-only asks
  Lots reduce_only_sz = 0;   // open reduce-only size (all on the side opposite the position)
  std::uint32_t open_orders = 0;
  std::uint32_t holder_slot = 0;  // index in the market's holders while szi != 0 (not stored)

  bool empty() const { return szi == 0 && open_orders == 0 && isolated_margin == 0; }
};

// An account's positions by market, in a sorted vector: accounts trade few markets, and a flat
// table is walked by every margin check without chasing tree nodes or allocating per position.
class PositionTable {
 public:
  using Entry = std::pair<MarketIndex, Position>;
  using iterator = std::vector<Entry>::iterator;
  using const_iterator = std::vector<Entry>::const_iterator;

  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  std::size_t size() const { return entries_.size(); }

  iterator find(MarketIndex m) {
    auto it = lower(m);
    return it != entries_.end() && it->first == m ? it : entries_.end();
  }
  const_iterator find(MarketIndex m) const { return const_cast<PositionTable*>(this)->find(m); }
  bool contains(MarketIndex m) const { return find(m) != end(); }
  const Position& at(MarketIndex m) const { return find(m)->second; }
  // The position in m, created empty if absent; true when created.
  std::pair<iterator, bool> try_emplace(MarketIndex m) {
    auto it = lower(m);
    if (it != entries_.end() && it->first == m) return {it, false};
    return {entries_.insert(it, Entry{m, Position{}}), true};
  }

 private:
  iterator lower(MarketIndex m) {
    return std::lower_bound(entries_.begin(), entries_.end(), m,
                            [](const Entry& e, MarketIndex key) { return e.first < key; });
  }
  std::vector<Entry> entries_;
};

struct Account {
  state::Address address;
  std::int64_t usd = 0;  // cross collateral
  PositionTable positions;
  std::vector<OrderId> orders;  // open orders, all markets, unordered (sort to list them)
  // Open trigger orders (waiting outside the book), unordered: they count toward the account's
  // open-order limit, and liquidation cancels them without scanning every account's triggers.
  std::vector<OrderId> triggers;
  std::map<std::pair<MarketIndex, state::Bytes16>, OrderId> cloids;
  std::uint64_t liquidation_cooldown_until_ms = 0;  // after a partial liquidation
  // Stake tokens held and not staked (micro-units): genesis balances' "stake". The staking and
  // deployer actions that move them are not handled yet (UnsupportedAction).
  std::int64_t stake_free = 0;
  bool dirty = false;
};

// One position's margin figures at the market's mark (docs/protocol.md section 8).
struct PositionMargin {
  std::int64_t value = 0;        // signed notional at mark
  std::int64_t upnl = 0;         // value - cost
  std::int64_t initial = 0;      // ceil(worst-case notional incl. open orders / leverage)
  std::int64_t own_initial = 0;  // ceil(|value| / leverage): the position alone
  std::int64_t maintenance = 0;  // ceil(|value| / (2 * tier max leverage))
};
PositionMargin position_margin(const Market& market, const Position& p);

// Margin figures of an account at current marks (SPEC section 4; docs/protocol.md section 8).
struct MarginSummary {
  std::int64_t account_value = 0;       // cross: usd + unrealized PnL of cross positions
  std::int64_t margin_required = 0;     // cross initial margin incl. open orders' worst case
  std::int64_t maintenance_margin = 0;  // cross positions
  std::int64_t cross_value = 0;         // |value at the mark| of the cross positions
  // What may leave the account (usdSend): max(0, min(usd, account_value - max(margin_required,
  // cross_value / 10))). As Hyperliquid, a withdrawal leaves at least 10% of the position value
  // behind, not only the initial margin, which at 40-50x would leave 2-2.5%.
  std::int64_t withdrawable = 0;
  // What may move into an isolated position: max(0, min(usd, account_value - margin_required)).
  // No 10% floor: the USD stays in the account, shoring up a position.
  std::int64_t free_usd = 0;
};

enum class FillDirection : std::uint8_t {
  OpenLong,
  OpenShort,
  CloseLong,
  CloseShort,
  LongToShort,
  ShortToLong
};
std::string_view fill_direction_name(FillDirection dir);

// Why a fill happened outside the account holder's own orders (Hyperliquid's fill field
// liquidation.method): a liquidation order sent to the book, the backstop vault taking a position
// at the mark, or auto-deleveraging against an underwater account.
enum class LiquidationMethod : std::uint8_t { None, Market, Backstop, Adl };
std::string_view liquidation_method_name(LiquidationMethod method);

struct FillEvent {
  MarketIndex market = 0;
  state::Address user;
  OrderId oid = 0;
  std::uint64_t tid = 0;  // trade id, shared by the two sides
  Px px = 0;
  Lots sz = 0;
  Side side = Side::Bid;
  bool crossed = false;  // taker side
  std::int64_t fee = 0;
  std::int64_t closed_pnl = 0;
  FillDirection dir = FillDirection::OpenLong;
  Lots start_position = 0;
  std::uint64_t time_ms = 0;
  state::Hash256 tx_hash;
  LiquidationMethod liquidation = LiquidationMethod::None;
  state::Address liquidated_user;  // when liquidation != None
  Px liquidation_mark_px = 0;      // the mark the liquidation acted at
};

struct OrderStatus {
  // Stored in tx records (perps/receipt_codec.h): the values are fixed.
  enum class Kind : std::uint8_t { Resting = 0, Filled = 1, Success = 2, Error = 3 };
  Kind kind = Kind::Error;
  MarketIndex market = 0;
  OrderId oid = 0;
  Lots total_sz = 0;
  Px avg_px = 0;  // floor of the size-weighted average fill price
  state::Reason error{};
};

// Per order or cancel of an action; empty for other actions. Most actions carry one order: held
// inline, a receipt allocates nothing.
using OrderStatuses = boost::container::small_vector<OrderStatus, 1>;

class Exchange {
 public:
  using Response = OrderStatuses;
  using Event = FillEvent;

  explicit Exchange(const GenesisState& genesis);

  // --- state::Application ---
  void begin_block(const state::BlockContext& ctx);
  state::TxOutcome<Response> apply(const state::BlockContext& ctx, const state::VerifiedAction& tx);
  void end_block(const state::BlockContext& ctx);
  void collect_changes(state::ChangeSink& sink);
  void collect_all(state::ChangeSink& sink);
  void take_events(std::vector<FillEvent>& out);
  static bool places_gtc_or_ioc(const state::Action& action);
  state::Status load(std::string_view key, std::string_view value);
  state::Status finish_load();
  // state::Prefetching: the block's acting accounts, looked up together, then requested ahead.
  void prepare(const std::vector<state::VerifiedAction>& txs);
  void prefetch(std::size_t tx_index, int stage) const;

  // --- prices ---
  // Sets the mark as an oracle update would (without its clamps): releases the trigger orders it
  // crosses and liquidates what it must at the next end_block. Tests and the oracle use it.
  void set_mark_px(MarketIndex market, Px px);

  // A trigger order waiting outside the book for its mark.
  struct TriggerOrder {
    RestingOrder order;
    TimeInForce tif = TimeInForce::Gtc;
    state::TpSl tpsl = state::TpSl::None;
    Px trigger_px = 0;
  };

  // --- queries ---
  const std::vector<Market>& markets() const { return markets_; }
  // The waiting trigger order with this oid and its market, or null.
  const std::pair<MarketIndex, TriggerOrder>* find_trigger(OrderId oid) const {
    auto it = triggers_.find(oid);
    return it == triggers_.end() ? nullptr : &it->second;
  }
  std::optional<MarketIndex> find_market(std::string_view name) const;
  const Account* find_account(const state::Address& address) const;
  MarginSummary margin_summary(const Account& account) const;
  std::int64_t fee_pool() const { return fee_pool_; }
  // All USD the exchange holds: balances, isolated margins and the fee pool (conservation checks).
  std::int64_t total_cash() const;
  // Sum of all positions' cost bases.
  std::int64_t total_cost_basis() const;
  std::size_t account_count() const { return accounts_.size(); }
  const std::vector<Account>& accounts() const { return accounts_; }
  // The backstop vault's account (protocol-owned; takes positions below 2/3 of maintenance).
  const Account& backstop_vault() const { return accounts_[vault_id_]; }
  const std::map<state::Address, std::uint64_t>& validators() const { return validators_; }
  // A position's liquidation price at current marks (docs/protocol.md section 10).
  std::optional<Px> liquidation_px(const Account& account, MarketIndex market) const;

 private:
  // One action's (or end-of-block step's) execution context.
  struct Context {
    const state::BlockContext& block;
    state::Hash256 tx_hash;  // zero for the protocol's own steps (liquidations)
    LiquidationMethod liquidation = LiquidationMethod::None;
    AccountId liquidated = 0;  // when liquidation != None
  };

  AccountId account_id(const state::Address& address);  // creates on first sight
  Account& account(AccountId id) { return accounts_[id]; }
  void touch(AccountId id);
  void touch_market(MarketIndex market);
  void touch_order(MarketIndex m, OrderId oid);
  void touch_trigger(OrderId oid);

  state::TxOutcome<Response> place_orders(Context& c, AccountId owner,
                                          const state::PlaceOrders& action);
  // The refusal an order spec earns by itself (market, price and trigger price on the grid and in
  // the day's range, size in whole lots, notional), before any account state is looked at.
  std::optional<OrderStatus> spec_error(const state::OrderSpec& spec) const;
  OrderStatus place_one(Context& c, AccountId owner, const state::OrderSpec& spec);
  // Who places an order: an account (a new oid), the protocol liquidating (no margin checks, no
  // minimum notional), or a trigger order firing (it keeps its oid; queue_place below).
  enum class Origin : std::uint8_t { Account, Liquidation, FiredTrigger };
  OrderStatus place_validated(Context& c, AccountId owner, MarketIndex m, RestingOrder order,
                              TimeInForce tif, Origin origin = Origin::Account);
  state::TxOutcome<Response> cancel_orders(Context& c, AccountId owner,
                                           const state::CancelOrders& action);
  state::TxOutcome<Response> cancel_by_cloid(Context& c, AccountId owner,
                                             const state::CancelByCloid& action);
  state::TxOutcome<Response> modify(Context& c, AccountId owner, const state::ModifyOrder& action);
  state::TxOutcome<Response> update_leverage(AccountId owner, const state::UpdateLeverage& action);
  state::TxOutcome<Response> update_isolated_margin(AccountId owner,
                                                    const state::UpdateIsolatedMargin& action);
  state::TxOutcome<Response> usd_send(AccountId owner, const state::UsdSend& action);
  state::TxOutcome<Response> approve_agent(AccountId owner, const state::ApproveAgent& action);
  state::TxOutcome<Response> oracle_vote(const Context& c, const state::Address& validator,
                                         const state::OracleVote& action);

  // Prices and funding at the end of a block (exchange_prices.cc).
  void update_oracle(MarketIndex m, std::uint64_t now_ms);
  void update_mark(MarketIndex m);
  void sample_premium(MarketIndex m, std::uint64_t now_ms);
  void settle_funding(MarketIndex m, std::uint64_t now_ms);

  // Liquidation and auto-deleveraging (exchange_liquidation.cc).
  void liquidate(Context& c, std::vector<MarketIndex> markets);
  void liquidate_cross(Context& c, AccountId id);
  void liquidate_isolated(Context& c, AccountId id, MarketIndex m);
  void cancel_all_orders(AccountId id, std::optional<MarketIndex> only);
  // Sends (part of) a position to the book as a reduce-only Ioc order whose limit keeps the
  // account's cover above zero; true when the order was partial (cooldown).
  bool book_liquidation(Context& c, AccountId id, MarketIndex m, std::int64_t cover);
  // Moves sz of from's position in m to `to` at px (both sides settle as a fill without fees).
  void transfer_position(Context& c, AccountId from, AccountId to, MarketIndex m, Lots sz, Px px);
  // cross: the account's cross positions (its cash goes with them); else one isolated position.
  void backstop(Context& c, AccountId id, std::vector<MarketIndex> markets, bool cross);
  void deleverage(Context& c, AccountId id, std::vector<MarketIndex> markets, bool cross);
  void cover_bad_debt();
  // Removes a resting order from its book and from its owner's bookkeeping.
  state::Status cancel_order(MarketIndex m, OrderId oid, AccountId owner);
  // Undoes cancel_order of a resting order: back on its level at its place in the queue, with its
  // reservation, its cloid and its oid.
  void reinstate_order(MarketIndex m, const RestingOrder& order, std::uint64_t place);
  // An order's place in its level's queue: its oid, or for a fired trigger order (which keeps its
  // oid but queues from when it fired) the number drawn from the oid sequence then.
  std::uint64_t queue_place(OrderId oid) const {
    auto it = fired_queue_place_.find(oid);
    return it == fired_queue_place_.end() ? oid : it->second;
  }
  // Bookkeeping of an order leaving the book (cancelled, expired, filled) or shrinking by sz.
  void release_order(MarketIndex m, const RestingOrder& order, Lots sz, bool leaves_book);
  // Removes the account's cloid entry for (m, cloid) if it names oid.
  static void forget_cloid(Account& acct, MarketIndex m, const state::Bytes16& cloid, OrderId oid);
  // Resting and trigger orders: what kMaxOpenOrdersPerAccount limits.
  static std::size_t open_order_count(const Account& acct) {
    return acct.orders.size() + acct.triggers.size();
  }
  void settle_fill(Context& c, MarketIndex m, AccountId taker, const RestingOrder& taker_order,
                   const MatchEvent& event, std::uint64_t tid);
  // Applies one side of a fill to a position; returns realized PnL and the direction.
  std::pair<std::int64_t, FillDirection> apply_fill(AccountId id, MarketIndex m, Side side, Lots sz,
                                                    Px px);
  void enforce_reduce_only(AccountId id, MarketIndex m);
  void add_holder(MarketIndex m, AccountId id, Position& p);
  void remove_holder(MarketIndex m, const Position& p);
  Position& position(Account& acct, MarketIndex m);
  std::int64_t free_collateral(const Account& account) const;
  // Free collateral of an account with its position in one market replaced, for margin checks:
  // the other positions are summed once, then each variant costs one position.
  class WhatIfMargin {
   public:
    WhatIfMargin(const Exchange& exchange, const Account& account, MarketIndex m);
    std::int64_t free_collateral(const Position& position, std::int64_t usd) const;
    // Whether the account keeps non-negative equity: its cross account value and, for an
    // isolated position, that position's margin plus PnL.
    bool solvent(const Position& position, std::int64_t usd) const;

   private:
    const Market& market_;
    MarginSummary others_;  // positions other than m; cash excluded
  };
  // Before a taker sweeps the book: cancels the makers it would meet whose fill they could not
  // carry, and cancels or trims reduce-only makers to what is left of their owners' positions.
  void screen_makers(MarketIndex m, const RestingOrder& taker);
  void release_triggers(Context& c);

  std::vector<Market> markets_;
  // determinism: looked up by name only (every order names its market: hashed, not compared
  // along a tree).
  boost::unordered_flat_map<std::string, MarketIndex, NameHash, NameEqual> market_by_name_;
  std::vector<Account> accounts_;
  // determinism: looked up only; account ids are assigned in first-seen (block) order.
  boost::unordered_flat_map<state::Address, AccountId, AddressHasher> account_by_address_;
  std::map<state::Address, state::Address> agent_owner_;  // agent -> approving account
  std::map<state::Address, std::uint64_t> validators_;    // address -> voting power (genesis)
  std::uint64_t total_power_ = 0;
  struct Vote {
    Px px = 0;
    std::uint64_t time_ms = 0;
  };
  std::map<std::pair<MarketIndex, state::Address>, Vote> votes_;  // latest per validator
  AccountId vault_id_ = 0;
  // Orders read by load(), placed into the books by finish_load() in queue-place order.
  struct PendingOrder {
    bool is_trigger;
    MarketIndex market;
    state::Address owner;
    RestingOrder order;
    TriggerOrder trigger;
    std::uint64_t queue_place;  // the order's oid unless it is a fired trigger order
  };
  std::vector<PendingOrder> pending_orders_;
  // Resting orders that fired as trigger orders: oid -> queue place (queue_place()). Stored in
  // their order records; an order leaving the book leaves this too. Looked up only.
  std::map<OrderId, std::uint64_t> fired_queue_place_;
  std::map<OrderId, std::pair<MarketIndex, TriggerOrder>> triggers_;
  // A trigger order enters or leaves triggers_, its owner's list and its market's queue.
  void add_trigger(MarketIndex m, const TriggerOrder& trigger);
  void remove_trigger(std::map<OrderId, std::pair<MarketIndex, TriggerOrder>>::iterator it);
  std::int64_t fee_pool_ = 0;
  OrderId next_oid_ = 1;
  std::uint64_t next_tid_ = 1;
  std::vector<MarketIndex> marks_moved_;  // since the last end_block
  // Markets where a trigger order was placed already past its price, since the last end_block:
  // their triggers are released at its end like those of a moved mark (with no liquidation scan).
  std::vector<MarketIndex> triggers_due_;
  std::vector<MarketIndex> funding_paid_;  // this end_block

  // Changed since the last collect_changes.
  std::vector<AccountId> dirty_accounts_;
  std::vector<std::pair<MarketIndex, OrderId>> dirty_orders_;  // resting orders (and triggers)
  std::vector<OrderId> dirty_triggers_;  // triggers only (placed, cancelled or fired)
  std::vector<MarketIndex> dirty_markets_;
  std::vector<state::Address> dirty_agents_;
  std::vector<std::pair<MarketIndex, state::Address>> dirty_votes_;
  std::vector<std::pair<MarketIndex, std::size_t>> new_funding_records_;  // (market, index)
  bool globals_dirty_ = true;

  std::vector<FillEvent> events_;
  std::vector<MatchEvent> match_scratch_;
  std::string record_buffer_;  // collect_changes encodes each record here
  const std::vector<state::VerifiedAction>* prepared_txs_ = nullptr;
  // The signer's account per tx of the prepared block (kNoAccount: none at prepare time). Ids
  // stay valid as accounts are added; apply() reads its own tx's id instead of a map lookup.
  static constexpr AccountId kNoAccount = ~AccountId{0};
  std::vector<AccountId> prepared_accounts_;
};

// JSON forms of SPEC section 5 results (decimal strings for every number a user sees).
std::string order_statuses_json_text(const Exchange& exchange, const OrderStatuses& statuses);
boost::json::value markets_to_json(const Exchange& exchange);
boost::json::value order_book_to_json(const Exchange& exchange, MarketIndex market,
                                      std::size_t depth, std::uint64_t height,
                                      std::uint64_t time_ms);
boost::json::value account_to_json(const Exchange& exchange, const state::Address& user);
boost::json::value open_orders_to_json(const Exchange& exchange, const state::Address& user);
boost::json::value funding_history_to_json(const Exchange& exchange, MarketIndex market,
                                           std::uint64_t start_ms, std::uint64_t end_ms);
// Fills in the order given (perp_fills: the oldest first).
boost::json::value fills_to_json(const Exchange& exchange, const std::vector<FillEvent>& fills);

}  // namespace perps
