// EIP-712 typed structured data hashing, general form: any types map (nested structs, arrays of
// structs, string, bytes, bytesN, address, bool, uintN/intN) over a Boost.JSON message, as
// eth_signTypedData_v4 and ethers' TypedDataEncoder take it.
//
// The typed action structs (state/actions.h) hash through the word primitives below and share
// encode_type, so there is one definition of each encoding rule.
#pragma once

#include <array>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "state/bytes.h"
#include "state/keccak.h"

namespace state {

struct Eip712Member {
  std::string name;
  std::string type;
  bool operator==(const Eip712Member&) const = default;
};

// Struct name -> members in declaration order. A std::map so every walk over it is sorted.
using Eip712Types = std::map<std::string, std::vector<Eip712Member>, std::less<>>;

using Word = Hash256;  // one 32-byte slot of encodeData

Word word_from_u64(std::uint64_t value);
Word word_from_bool(bool value);
Word word_from_address(const Address& address);
// bytesN: left-aligned, zero-padded on the right.
Word word_from_fixed_bytes(std::span<const std::uint8_t> bytes);

// encodeType: "Primary(type name,...)" followed by every referenced struct type sorted by name.
// BadEip712 when a referenced type is missing.
Result<std::string> encode_type(const Eip712Types& types, std::string_view primary);

// hashStruct(primary, message) = keccak256(typeHash || encodeData(message)).
// BadEip712 for a value that does not fit its type (missing member, wrong kind, out of range).
Result<Hash256> hash_struct(const Eip712Types& types, std::string_view primary,
                            const boost::json::value& message);

// keccak256(0x19 0x01 || domainSeparator || structHash).
// What typed_data_digest hashes: 0x19 0x01 || domainSeparator || structHash.
std::array<std::uint8_t, 66> typed_data_digest_input(const Hash256& domain_separator,
                                                     const Hash256& struct_hash);
Hash256 typed_data_digest(const Hash256& domain_separator, const Hash256& struct_hash);

// The whole eth_signTypedData_v4 object {types, primaryType, domain, message} -> digest.
// types must hold EIP712Domain.
Result<Hash256> typed_data_digest(const boost::json::value& typed_data);

// perpd's domain {name: "perpd", version: "1", chainId} (SPEC section 2) and its separator.
inline constexpr std::string_view kDomainName = "perpd";
inline constexpr std::string_view kDomainVersion = "1";
std::vector<Eip712Member> perpd_domain_members();
Hash256 perpd_domain_separator(std::uint64_t chain_id);

}  // namespace state
