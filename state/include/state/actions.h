// Every action of SPEC section 3 as a typed struct. Each struct lists its fields once, in
// fields(), with their wire names; the JSON codec, the EIP-712 types and hashing, and the Protobuf
// binary codec are all derived from that list, so they cannot disagree about names or order.
//
// Decimal fields keep the exact text that was signed (EIP-712 hashes the string, so "1.5" and
// "1.50" are different messages) beside its integer value. Stateless decoding checks syntax and
// the unit's decimals; rules that depend on state (a market's szDecimals and tick) are checked at
// execution.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "state/bytes.h"
#include "state/decimal.h"
#include "state/eip712.h"
#include "state/result.h"

namespace state {

// ---------------------------------------------------------------------------------------------
// Field value types

// A decimal string as signed, with its value in 10^-Decimals units. AllowEmpty admits "" (for
// optional fields such as triggerPx), which has units 0.
template <unsigned Decimals, Sign S, bool AllowEmpty = false>
struct DecimalText {
  static constexpr unsigned kDecimals = Decimals;
  static constexpr Sign kSign = S;
  static constexpr bool kAllowEmpty = AllowEmpty;

  std::string text;
  std::int64_t units = 0;

  bool empty() const { return text.empty(); }
  bool operator==(const DecimalText&) const = default;
};

using UsdText = DecimalText<6, Sign::Unsigned>;      // USD, micro-dollars
using SignedUsdText = DecimalText<6, Sign::Signed>;  // USD with a sign (margin moves)
using TokenText = DecimalText<6, Sign::Unsigned>;    // stake token, micro-units
using OptionalTokenText = DecimalText<6, Sign::Unsigned, true>;
using PxText = DecimalText<6, Sign::Unsigned>;  // price, micro-dollars per unit
using OptionalPxText = DecimalText<6, Sign::Unsigned, true>;
using SzText = DecimalText<6, Sign::Unsigned>;      // size, 10^-6 units (lots at execution)
using FractionText = DecimalText<8, Sign::Signed>;  // rates, multipliers, scales: 1e-8 units

// A list whose length is bounded at decoding (TooManyItems beyond Max).
template <class T, std::size_t Max>
struct List {
  using value_type = T;
  static constexpr std::size_t kMax = Max;
  std::vector<T> items;
  bool operator==(const List&) const = default;
};

enum class Tif : std::uint8_t { Gtc, Ioc, Alo };
enum class TpSl : std::uint8_t { None, Tp, Sl };  // wire: "", "tp", "sl"

std::string_view tif_name(Tif tif);
std::string_view tpsl_name(TpSl tpsl);

// Limits applied by stateless decoding.
inline constexpr std::size_t kMaxStringBytes = 256;
inline constexpr std::size_t kMaxOrdersPerAction = 64;
inline constexpr std::size_t kMaxCancelsPerAction = 256;
inline constexpr std::size_t kMaxPricesPerAction = 256;
inline constexpr std::size_t kMaxMarginTiers = 3;

// fields() entries: a wire name and a member.
template <class S, class T>
struct FieldSpec {
  std::string_view name;
  T S::*member;
};
template <class S, class T>
constexpr FieldSpec<S, T> field(std::string_view name, T S::*member) {
  return {name, member};
}

// ---------------------------------------------------------------------------------------------
// Nested types

struct OrderSpec {
  std::string market;
  bool is_buy = false;
  PxText px;
  SzText sz;
  bool reduce_only = false;
  Tif tif = Tif::Gtc;
  Bytes16 cloid;  // zero means none
  OptionalPxText trigger_px;
  TpSl tpsl = TpSl::None;

  static constexpr std::string_view kTypeName = "OrderSpec";
  static constexpr auto fields() {
    return std::tuple{field("market", &OrderSpec::market),
                      field("isBuy", &OrderSpec::is_buy),
                      field("px", &OrderSpec::px),
                      field("sz", &OrderSpec::sz),
                      field("reduceOnly", &OrderSpec::reduce_only),
                      field("tif", &OrderSpec::tif),
                      field("cloid", &OrderSpec::cloid),
                      field("triggerPx", &OrderSpec::trigger_px),
                      field("tpsl", &OrderSpec::tpsl)};
  }
  // triggerPx and tpsl are both empty (plain order) or both set (trigger order).
  static Status validate(const OrderSpec& order);
  bool operator==(const OrderSpec&) const = default;
};

struct CancelSpec {
  std::string market;
  std::uint64_t oid = 0;
  static constexpr std::string_view kTypeName = "CancelSpec";
  static constexpr auto fields() {
    return std::tuple{field("market", &CancelSpec::market), field("oid", &CancelSpec::oid)};
  }
  bool operator==(const CancelSpec&) const = default;
};

struct CloidSpec {
  std::string market;
  Bytes16 cloid;
  static constexpr std::string_view kTypeName = "CloidSpec";
  static constexpr auto fields() {
    return std::tuple{field("market", &CloidSpec::market), field("cloid", &CloidSpec::cloid)};
  }
  bool operator==(const CloidSpec&) const = default;
};

struct PricePair {
  std::string coin;
  PxText px;
  static constexpr std::string_view kTypeName = "PricePair";
  static constexpr auto fields() {
    return std::tuple{field("coin", &PricePair::coin), field("px", &PricePair::px)};
  }
  bool operator==(const PricePair&) const = default;
};

struct MarginTier {
  UsdText lower_bound;
  std::uint32_t max_leverage = 0;
  static constexpr std::string_view kTypeName = "MarginTier";
  static constexpr auto fields() {
    return std::tuple{field("lowerBound", &MarginTier::lower_bound),
                      field("maxLeverage", &MarginTier::max_leverage)};
  }
  bool operator==(const MarginTier&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Actions (primary types). kActionType is the JSON "type"; every primary type's EIP-712 form
// ends with `uint64 nonce`, which travels in the envelope, not in the struct.

struct PlaceOrders {
  List<OrderSpec, kMaxOrdersPerAction> orders;
  static constexpr std::string_view kActionType = "order";
  static constexpr std::string_view kTypeName = "PlaceOrders";
  static constexpr auto fields() { return std::tuple{field("orders", &PlaceOrders::orders)}; }
  bool operator==(const PlaceOrders&) const = default;
};

struct CancelOrders {
  List<CancelSpec, kMaxCancelsPerAction> cancels;
  static constexpr std::string_view kActionType = "cancel";
  static constexpr std::string_view kTypeName = "CancelOrders";
  static constexpr auto fields() { return std::tuple{field("cancels", &CancelOrders::cancels)}; }
  bool operator==(const CancelOrders&) const = default;
};

struct CancelByCloid {
  List<CloidSpec, kMaxCancelsPerAction> cancels;
  static constexpr std::string_view kActionType = "cancelByCloid";
  static constexpr std::string_view kTypeName = "CancelByCloid";
  static constexpr auto fields() { return std::tuple{field("cancels", &CancelByCloid::cancels)}; }
  bool operator==(const CancelByCloid&) const = default;
};

struct ModifyOrder {
  std::uint64_t oid = 0;
  OrderSpec order;
  static constexpr std::string_view kActionType = "modify";
  static constexpr std::string_view kTypeName = "ModifyOrder";
  static constexpr auto fields() {
    return std::tuple{field("oid", &ModifyOrder::oid), field("order", &ModifyOrder::order)};
  }
  bool operator==(const ModifyOrder&) const = default;
};

struct UpdateLeverage {
  std::string market;
  bool is_cross = true;
  std::uint32_t leverage = 0;
  static constexpr std::string_view kActionType = "updateLeverage";
  static constexpr std::string_view kTypeName = "UpdateLeverage";
  static constexpr auto fields() {
    return std::tuple{field("market", &UpdateLeverage::market),
                      field("isCross", &UpdateLeverage::is_cross),
                      field("leverage", &UpdateLeverage::leverage)};
  }
  bool operator==(const UpdateLeverage&) const = default;
};

struct UpdateIsolatedMargin {
  std::string market;
  SignedUsdText amount;
  static constexpr std::string_view kActionType = "updateIsolatedMargin";
  static constexpr std::string_view kTypeName = "UpdateIsolatedMargin";
  static constexpr auto fields() {
    return std::tuple{field("market", &UpdateIsolatedMargin::market),
                      field("amount", &UpdateIsolatedMargin::amount)};
  }
  bool operator==(const UpdateIsolatedMargin&) const = default;
};

struct UsdSend {
  Address destination;
  UsdText amount;
  static constexpr std::string_view kActionType = "usdSend";
  static constexpr std::string_view kTypeName = "UsdSend";
  static constexpr auto fields() {
    return std::tuple{field("destination", &UsdSend::destination),
                      field("amount", &UsdSend::amount)};
  }
  bool operator==(const UsdSend&) const = default;
};

struct TokenSend {
  Address destination;
  TokenText amount;
  static constexpr std::string_view kActionType = "tokenSend";
  static constexpr std::string_view kTypeName = "TokenSend";
  static constexpr auto fields() {
    return std::tuple{field("destination", &TokenSend::destination),
                      field("amount", &TokenSend::amount)};
  }
  bool operator==(const TokenSend&) const = default;
};

struct ApproveAgent {
  Address agent;
  std::string name;
  static constexpr std::string_view kActionType = "approveAgent";
  static constexpr std::string_view kTypeName = "ApproveAgent";
  static constexpr auto fields() {
    return std::tuple{field("agent", &ApproveAgent::agent), field("name", &ApproveAgent::name)};
  }
  bool operator==(const ApproveAgent&) const = default;
};

struct Stake {
  TokenText amount;
  static constexpr std::string_view kActionType = "stake";
  static constexpr std::string_view kTypeName = "Stake";
  static constexpr auto fields() { return std::tuple{field("amount", &Stake::amount)}; }
  bool operator==(const Stake&) const = default;
};

struct Unstake {
  TokenText amount;
  static constexpr std::string_view kActionType = "unstake";
  static constexpr std::string_view kTypeName = "Unstake";
  static constexpr auto fields() { return std::tuple{field("amount", &Unstake::amount)}; }
  bool operator==(const Unstake&) const = default;
};

struct RegisterDex {
  std::string dex;
  std::string full_name;
  Address oracle_updater;
  Address fee_recipient;
  static constexpr std::string_view kActionType = "registerDex";
  static constexpr std::string_view kTypeName = "RegisterDex";
  static constexpr auto fields() {
    return std::tuple{field("dex", &RegisterDex::dex), field("fullName", &RegisterDex::full_name),
                      field("oracleUpdater", &RegisterDex::oracle_updater),
                      field("feeRecipient", &RegisterDex::fee_recipient)};
  }
  bool operator==(const RegisterDex&) const = default;
};

struct RegisterAsset {
  std::string dex;
  std::string coin;
  std::uint8_t sz_decimals = 0;
  PxText oracle_px;
  std::uint32_t max_leverage = 0;
  bool only_isolated = false;
  OptionalTokenText max_gas;  // "" pays the current auction price
  static constexpr std::string_view kActionType = "registerAsset";
  static constexpr std::string_view kTypeName = "RegisterAsset";
  static constexpr auto fields() {
    return std::tuple{field("dex", &RegisterAsset::dex),
                      field("coin", &RegisterAsset::coin),
                      field("szDecimals", &RegisterAsset::sz_decimals),
                      field("oraclePx", &RegisterAsset::oracle_px),
                      field("maxLeverage", &RegisterAsset::max_leverage),
                      field("onlyIsolated", &RegisterAsset::only_isolated),
                      field("maxGas", &RegisterAsset::max_gas)};
  }
  bool operator==(const RegisterAsset&) const = default;
};

struct SetOracle {
  std::string dex;
  List<PricePair, kMaxPricesPerAction> oracle_pxs;
  List<PricePair, kMaxPricesPerAction> mark_pxs;
  static constexpr std::string_view kActionType = "setOracle";
  static constexpr std::string_view kTypeName = "SetOracle";
  static constexpr auto fields() {
    return std::tuple{field("dex", &SetOracle::dex), field("oraclePxs", &SetOracle::oracle_pxs),
                      field("markPxs", &SetOracle::mark_pxs)};
  }
  bool operator==(const SetOracle&) const = default;
};

struct SetFunding {
  std::string dex;
  std::string coin;
  FractionText multiplier;
  FractionText interest_rate;
  FractionText clamp;
  std::uint32_t interval_hours = 1;
  static constexpr std::string_view kActionType = "setFunding";
  static constexpr std::string_view kTypeName = "SetFunding";
  static constexpr auto fields() {
    return std::tuple{field("dex", &SetFunding::dex),
                      field("coin", &SetFunding::coin),
                      field("multiplier", &SetFunding::multiplier),
                      field("interestRate", &SetFunding::interest_rate),
                      field("clamp", &SetFunding::clamp),
                      field("intervalHours", &SetFunding::interval_hours)};
  }
  bool operator==(const SetFunding&) const = default;
};

struct SetMarginTable {
  std::string dex;
  std::string coin;
  List<MarginTier, kMaxMarginTiers> tiers;
  static constexpr std::string_view kActionType = "setMarginTable";
  static constexpr std::string_view kTypeName = "SetMarginTable";
  static constexpr auto fields() {
    return std::tuple{field("dex", &SetMarginTable::dex), field("coin", &SetMarginTable::coin),
                      field("tiers", &SetMarginTable::tiers)};
  }
  bool operator==(const SetMarginTable&) const = default;
};

struct SetOpenInterestCap {
  std::string dex;
  std::string coin;
  UsdText notional_cap;
  static constexpr std::string_view kActionType = "setOpenInterestCap";
  static constexpr std::string_view kTypeName = "SetOpenInterestCap";
  static constexpr auto fields() {
    return std::tuple{field("dex", &SetOpenInterestCap::dex),
                      field("coin", &SetOpenInterestCap::coin),
                      field("notionalCap", &SetOpenInterestCap::notional_cap)};
  }
  bool operator==(const SetOpenInterestCap&) const = default;
};

struct HaltTrading {
  std::string dex;
  std::string coin;
  bool halted = false;
  static constexpr std::string_view kActionType = "haltTrading";
  static constexpr std::string_view kTypeName = "HaltTrading";
  static constexpr auto fields() {
    return std::tuple{field("dex", &HaltTrading::dex), field("coin", &HaltTrading::coin),
                      field("halted", &HaltTrading::halted)};
  }
  bool operator==(const HaltTrading&) const = default;
};

struct SetFeeScale {
  std::string dex;
  FractionText scale;
  static constexpr std::string_view kActionType = "setFeeScale";
  static constexpr std::string_view kTypeName = "SetFeeScale";
  static constexpr auto fields() {
    return std::tuple{field("dex", &SetFeeScale::dex), field("scale", &SetFeeScale::scale)};
  }
  bool operator==(const SetFeeScale&) const = default;
};

struct BackstopTransfer {
  std::string dex;
  UsdText amount;
  bool is_deposit = true;
  static constexpr std::string_view kActionType = "backstopTransfer";
  static constexpr std::string_view kTypeName = "BackstopTransfer";
  static constexpr auto fields() {
    return std::tuple{field("dex", &BackstopTransfer::dex),
                      field("amount", &BackstopTransfer::amount),
                      field("isDeposit", &BackstopTransfer::is_deposit)};
  }
  bool operator==(const BackstopTransfer&) const = default;
};

struct OracleVote {
  List<PricePair, kMaxPricesPerAction> pxs;
  static constexpr std::string_view kActionType = "oracleVote";
  static constexpr std::string_view kTypeName = "OracleVote";
  static constexpr auto fields() { return std::tuple{field("pxs", &OracleVote::pxs)}; }
  bool operator==(const OracleVote&) const = default;
};

struct SlashVote {
  std::string dex;
  std::uint32_t bps = 0;
  std::string reason;
  static constexpr std::string_view kActionType = "slashVote";
  static constexpr std::string_view kTypeName = "SlashVote";
  static constexpr auto fields() {
    return std::tuple{field("dex", &SlashVote::dex), field("bps", &SlashVote::bps),
                      field("reason", &SlashVote::reason)};
  }
  bool operator==(const SlashVote&) const = default;
};

// In SPEC section 3's order; the index is stable (it is the Protobuf oneof order too).
using Action = std::variant<PlaceOrders, CancelOrders, CancelByCloid, ModifyOrder, UpdateLeverage,
                            UpdateIsolatedMargin, UsdSend, TokenSend, ApproveAgent, Stake, Unstake,
                            RegisterDex, RegisterAsset, SetOracle, SetFunding, SetMarginTable,
                            SetOpenInterestCap, HaltTrading, SetFeeScale, BackstopTransfer,
                            OracleVote, SlashVote>;

// "order", "cancel", ... and "PlaceOrders", "CancelOrders", ...
std::string_view action_type(const Action& action);
std::string_view primary_type(const Action& action);
// Every action type in SPEC order as {JSON type, EIP-712 primary type}.
std::vector<std::pair<std::string_view, std::string_view>> action_type_names();

// JSON: the action object {"type": ..., fields...}. Errors name the field path
// ("orders[0].px: at most 6 decimals allowed"): UnknownActionType, MissingField, UnknownField,
// BadFieldType, BadFieldValue, BadHex, BadDecimal, NegativeAmount, TooManyDecimals, Overflow,
// TooManyItems, StringTooLong.
Result<Action> action_from_json(const boost::json::value& value);
boost::json::object action_to_json(const Action& action);

// EIP-712: every type of every action plus EIP712Domain (what perp_eip712Schema returns), and
// hashStruct(action with nonce).
const Eip712Types& action_eip712_types();
Hash256 action_struct_hash(const Action& action, std::uint64_t nonce);
// action_struct_hash of actions[i] with nonces[i], for many at once (results in order): one level
// of every action's struct tree is hashed together, several messages per permutation.
std::vector<Hash256> action_struct_hashes(std::span<const Action* const> actions,
                                          std::span<const std::uint64_t> nonces);

}  // namespace state
