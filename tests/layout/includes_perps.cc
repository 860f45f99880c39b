// Compiled with the include path of a library that DESIGN.md forbids from using perps/ (state,
// consensus, rpc). The layout tests pass only when this include fails to resolve.
#include "perps/protocol_constants.h"

int layout_probe() {
  return static_cast<int>(perps::kMaxLeverage);
}
