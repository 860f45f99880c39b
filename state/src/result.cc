#include "state/result.h"

namespace state {

std::string_view reason_name(Reason reason) {
  switch (reason) {
#define PERPD_REASON_NAME(name) \
  case Reason::name:            \
    return #name;
    PERPD_REASONS(PERPD_REASON_NAME)
#undef PERPD_REASON_NAME
  }
  return "Unknown";
}

}  // namespace state
