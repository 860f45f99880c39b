// Protocol constants of SPEC section 4, in code and settable by no one. Names follow the SPEC.
// Units: USD and stake amounts in micro-units (1e-6); fractions in 1e-8 (kFractionOne = 100%);
// times in milliseconds of block time.
#pragma once

#include <cstdint>

namespace perps {

inline constexpr std::int64_t kMicro = 1'000'000;          // 1 USD or 1 stake token
inline constexpr std::int64_t kFractionOne = 100'000'000;  // 1.0 as a 1e-8 fraction
inline constexpr std::uint64_t kHourMs = 60ULL * 60 * 1000;
inline constexpr std::uint64_t kDayMs = 24 * kHourMs;

// Funding.
inline constexpr std::int64_t kFundingRateCapPerHour = 4 * kFractionOne / 100;  // 4% per hour
inline constexpr std::uint64_t kPremiumSampleIntervalMs = 5'000;
inline constexpr std::int64_t kCoreInterestRate8h = kFractionOne / 10'000;  // 0.01% per 8 h
inline constexpr std::int64_t kCoreClamp8h = 5 * kFractionOne / 10'000;     // 0.05% per 8 h
inline constexpr std::int64_t kCoreMultiplier = kFractionOne;               // m = 1
inline constexpr std::uint32_t kCoreFundingIntervalHours = 1;
inline constexpr std::int64_t kDeployerInterestRateMax8h = kFractionOne / 100;  // |r| <= 1%
inline constexpr std::int64_t kDeployerClampMax8h = kFractionOne / 100;         // c in [0, 1%]
inline constexpr std::int64_t kDeployerClampDefault8h = kCoreClamp8h;           // 0.05%
inline constexpr std::int64_t kDeployerMultiplierMax = 10 * kFractionOne;       // m in [0, 10]
inline constexpr std::uint32_t kDeployerFundingIntervalsHours[] = {1, 8, 24};

// Impact notional for premium sampling (a market parameter; these are the defaults).
inline constexpr std::int64_t kImpactNotionalMajor = 20'000 * kMicro;  // BTC and ETH
inline constexpr std::int64_t kImpactNotionalDefault = 6'000 * kMicro;

// Oracle and mark.
inline constexpr std::int64_t kMarkMoveClamp = kFractionOne / 100;  // 1% per oracle update
inline constexpr std::int64_t kOracleRangeFactor = 10;              // [SoD / 10, SoD * 10]
inline constexpr std::uint64_t kSetOracleMinSpacingMs = 2'500;
inline constexpr std::uint64_t kStaleOracleFallbackMs = 10'000;
inline constexpr std::uint64_t kMarkEmaWindowMs = 150'000;  // 150 s EMA of (mid - oracle)
// Validator votes count toward the oracle for this long (votes arrive about every 3 s), and the
// oracle moves only when fresh votes hold more than 2/3 of the voting power.
inline constexpr std::uint64_t kOracleVoteMaxAgeMs = 10'000;

// HIP-3 deployers, staking, slashing.
inline constexpr std::int64_t kDeployerStake = 500'000 * kMicro;
inline constexpr std::uint64_t kStakeLockAfterHaltMs = 30 * kDayMs;
inline constexpr std::uint64_t kUnstakingQueueMs = 7 * kDayMs;
inline constexpr std::uint32_t kMaxSlashBps = 10'000;
inline constexpr std::uint32_t kFreeAssetsPerDex = 3;
inline constexpr std::uint64_t kGasAuctionDurationMs = 31 * kHourMs;
inline constexpr std::int64_t kGasAuctionFloor = 500 * kMicro;
inline constexpr std::int64_t kGasAuctionStartMultiple = 2;

// Leverage and margin.
inline constexpr std::uint32_t kMinLeverage = 1;
inline constexpr std::uint32_t kMaxLeverage = 50;
inline constexpr std::size_t kMaxMarginTiers = 3;
inline constexpr std::int64_t kMinOpenInterestCap = 1'000'000 * kMicro;

// Fees (fractions of notional, 1e-8) and deployer fee scale bounds.
inline constexpr std::int64_t kTakerFee = 45 * kFractionOne / 100'000;  // 0.045%
inline constexpr std::int64_t kMakerFee = 15 * kFractionOne / 100'000;  // 0.015%
inline constexpr std::int64_t kMaxFeeScale = 3 * kFractionOne;

// Liquidation.
inline constexpr std::int64_t kPartialLiquidationThreshold = 100'000 * kMicro;
inline constexpr std::int64_t kPartialLiquidationFraction = 20 * kFractionOne / 100;  // 20%
inline constexpr std::uint64_t kLiquidationCooldownMs = 30'000;
// Backstop takes over below 2/3 of maintenance margin.
inline constexpr std::int64_t kBackstopNumerator = 2;
inline constexpr std::int64_t kBackstopDenominator = 3;
// Liquidation orders go to the book as Ioc orders at most 10% through the mark (as Hyperliquid's
// market tp/sl), and never at a price that would leave the account's cover below zero.
inline constexpr std::int64_t kLiquidationSlippage = 10 * kFractionOne / 100;
// The backstop vault: a protocol account no key controls (0x000...00ba0c57, "backst").
inline constexpr std::uint8_t kBackstopVaultAddress[20] = {0, 0, 0, 0, 0, 0, 0, 0,    0,    0,
                                                           0, 0, 0, 0, 0, 0, 0, 0xba, 0x0c, 0x57};

// Orders.
inline constexpr std::int64_t kMinOrderNotional = 10 * kMicro;
inline constexpr std::size_t kMaxOpenOrdersPerAccount = 1000;
inline constexpr unsigned kMaxPriceSignificantFigures = 5;
inline constexpr unsigned kPriceDecimals = 6;  // prices allow 6 - szDecimals decimals
inline constexpr unsigned kMaxSzDecimals = 6;

}  // namespace perps
