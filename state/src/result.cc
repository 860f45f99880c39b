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

std::optional<Reason> reason_from_name(std::string_view name) {
#define PERPD_REASON_MATCH(reason_id) \
  if (name == #reason_id) return Reason::reason_id;
  PERPD_REASONS(PERPD_REASON_MATCH)
#undef PERPD_REASON_MATCH
  return std::nullopt;
}

}  // namespace state
