// libFuzzer target: arbitrary bytes through the genesis loader. Any input must give a genesis or
// a BadGenesis error (no crash, hang, leak or sanitizer report), and an accepted genesis must
// round-trip through its canonical text unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "genesis/genesis_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = genesis::parse_genesis(text);
  if (!parsed.ok()) {
    if (parsed.error().reason != state::Reason::BadGenesis) std::abort();
    return 0;
  }
  const std::string canonical = genesis::genesis_to_json(*parsed);
  auto again = genesis::parse_genesis(canonical);
  if (!again.ok() || genesis::genesis_to_json(*again) != canonical) std::abort();
  return 0;
}
