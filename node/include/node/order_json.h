// The JSON of an `order` action (SPEC section 3) for clients of the node: perp-cli, the demo
// bots, the load generator and the integration tests all build plain limit orders the same way.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string_view>

namespace node {

// One OrderSpec: a plain limit order (no cloid, no trigger); px and sz are decimal strings.
boost::json::object order_spec_json(std::string_view market, bool is_buy, std::string_view px,
                                    std::string_view sz, std::string_view tif = "Gtc",
                                    bool reduce_only = false);

// {"type": "order", "orders": specs}
boost::json::object order_action_json(boost::json::array specs);

}  // namespace node
