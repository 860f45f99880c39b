// Errors as values: every boundary returns Result<T> or Status carrying a stable CamelCase reason.
// Reasons are part of the RPC contract (SPEC section 5: data.reason), so names never change once
// released; new reasons are appended.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace state {

#define PERPD_REASONS(X)                                                                  \
  X(BadJson)            /* not JSON, or JSON nested too deep */                           \
  X(EnvelopeTooLarge)   /* envelope text above the size limit */                          \
  X(UnknownActionType)  /* action.type names no action of SPEC section 3 */               \
  X(MissingField)       /* a required field is absent */                                  \
  X(UnknownField)       /* a field the type does not have */                              \
  X(BadFieldType)       /* JSON kind differs from the field's (string for number, ...) */ \
  X(BadFieldValue)      /* right kind, value outside the field's set (tif, tpsl, ...) */  \
  X(BadHex)             /* not 0x-prefixed hex, or wrong length for address/bytesN */     \
  X(BadSignatureLength) /* signature is not 65 bytes */                                   \
  X(HighS)              /* s above half the curve order (malleable form) */               \
  X(BadRecoveryId)      /* v not in {0, 1, 27, 28} */                                     \
  X(BadSignature)       /* r/s out of range, or no public key recovers */                 \
  X(BadDecimal)         /* not a decimal string as SPEC section 1 writes them */          \
  X(NegativeAmount)     /* a minus sign where the field has no sign */                    \
  X(TooManyDecimals)    /* more decimals than the unit allows (never rounded) */          \
  X(Overflow)           /* value does not fit the field's integer type */                 \
  X(TooManyItems)       /* list longer than the field allows */                           \
  X(StringTooLong)      /* string longer than the field allows */                         \
  X(NonceAlreadyUsed)   /* nonce among the signer's kept nonces */                        \
  X(NonceTooLow)        /* nonce not above the smallest kept nonce */                     \
  X(NonceOutsideWindow) /* nonce not within (T - 2 days, T + 1 day) of block time */      \
  X(BadKey)             /* a private key that is not a valid secp256k1 scalar */          \
  X(BadEip712)          /* typed data that does not fit its EIP-712 types */              \
  X(BadEncoding)        /* binary (protobuf) encoding that does not decode */                  \
  X(StorageError)       /* the key-value store failed or holds damaged data */                  \
  /* Stateful (exchange) reasons. */                                                            \
  X(UnknownMarket)      /* no market of that name */                                           \
  X(MarketHalted)       /* trading halted on the market */                                     \
  X(InvalidPrice)       /* zero, off the tick (6 - szDecimals decimals), or > 5 sig. figures */ \
  X(InvalidSize)        /* zero, or not a whole number of lots */                              \
  X(OrderTooSmall)      /* notional below the 10 USD minimum */                                \
  X(InsufficientMargin) /* the account cannot carry the order or change */                     \
  X(ReduceOnlyWouldIncrease) /* reduce-only with no opposite position left to reduce */        \
  X(DuplicateCloid)     /* the cloid is used by another open order of the account */           \
  X(TooManyOpenOrders)  /* the account already has 1000 open orders */                         \
  X(UnknownOrder)       /* no open order with that oid / cloid for the account */              \
  X(AloWouldCross)      /* post-only order would have taken liquidity */                       \
  X(IocNotFilled)       /* Ioc order found nothing to match */                                 \
  X(LeverageOutOfRange) /* leverage outside 1..max for the market */                           \
  X(CrossNotAllowed)    /* cross margin on an isolated-only market */                          \
  X(OpenPosition)       /* margin mode cannot change while a position is open */               \
  X(NotIsolated)        /* isolated margin change on a cross position */                       \
  X(InsufficientBalance) /* not enough free USD for the transfer */                            \
  X(AgentNotAllowed)    /* agents may only trade, not move funds or approve agents */          \
  X(BadAgent)           /* approving self, another's agent or an account; USD to an agent */   \
  X(InvalidAmount)      /* zero amount where a positive one is required */                     \
  X(BadGenesis)         /* a genesis file field that is missing, unknown or out of range */   \
  X(BadConfig)          /* a node config or command-line value that cannot be used */         \
  X(MempoolFull)        /* the mempool (or the signer's share of it) is at its bound */        \
  X(DuplicateTx)        /* an envelope with this tx hash is already pending or committed */    \
  X(NotValidator)       /* oracleVote (or slashVote) signed by an address outside the set */    \
  X(UnsupportedAction)  /* the action type is not handled by this version of the node */

enum class Reason : std::uint16_t {
#define PERPD_REASON_ENUM(name) name,
  PERPD_REASONS(PERPD_REASON_ENUM)
#undef PERPD_REASON_ENUM
};

// The reason's stable CamelCase name, as sent in RPC errors.
std::string_view reason_name(Reason reason);
// The reason with that name; nullopt for a name no reason has.
std::optional<Reason> reason_from_name(std::string_view name);

struct Error {
  Reason reason;
  std::string message;  // human text; may name the field, never part of the contract
};

inline Error make_error(Reason reason, std::string message) {
  return Error{reason, std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like std::expected
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const Error& error() const { return std::get<1>(v_); }
  Reason reason() const { return error().reason; }

 private:
  std::variant<T, Error> v_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), failed_(true) {}
  static Status Ok() { return {}; }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }
  Reason reason() const { return error_.reason; }

 private:
  Error error_{};
  bool failed_ = false;
};

}  // namespace state

// Propagates the error of a Result/Status expression; binds nothing.
#define PERPD_TRY(expr)                                            \
  do {                                                             \
    auto&& perpd_try_result_ = (expr);                             \
    if (!perpd_try_result_.ok()) return perpd_try_result_.error(); \
  } while (0)
