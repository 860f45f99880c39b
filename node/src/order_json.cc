#include "node/order_json.h"

namespace node {

boost::json::object order_spec_json(std::string_view market, bool is_buy, std::string_view px,
                                    std::string_view sz, std::string_view tif, bool reduce_only) {
  return {{"market", market},
          {"isBuy", is_buy},
          {"px", px},
          {"sz", sz},
          {"reduceOnly", reduce_only},
          {"tif", tif},
          {"cloid", "0x00000000000000000000000000000000"},  // zero: no client order id
          {"triggerPx", ""},
          {"tpsl", ""}};
}

boost::json::object order_action_json(boost::json::array specs) {
  return {{"type", "order"}, {"orders", std::move(specs)}};
}

}  // namespace node
