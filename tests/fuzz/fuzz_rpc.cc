// libFuzzer target: arbitrary bytes through the JSON-RPC dispatcher with a synchronous method, a
// method that answers later from the same thread, and notifications. Every input must be answered
// exactly once, with valid JSON (or nothing, for notifications only), never a crash or hang.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "rpc/json_rpc.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::vector<rpc::Respond> later;
  static const rpc::MethodTable table = [] {
    rpc::MethodTable t;
    t.add("echo", "returns its params",
          [](const boost::json::object& params, rpc::Respond respond) {
            respond(rpc::Answer::ok(params));
          });
    t.add("later", "answers after dispatch returns",
          [](const boost::json::object&, rpc::Respond respond) {
            later.push_back(std::move(respond));
          });
    t.add("reject", "a protocol rejection", [](const boost::json::object&, rpc::Respond respond) {
      respond(rpc::Answer::rejected("UnknownMarket", "no such market"));
    });
    return t;
  }();
  int answers = 0;
  std::string answer;
  table.dispatch(std::string_view(reinterpret_cast<const char*>(data), size),
                 [&](std::string text) {
                   ++answers;
                   answer = std::move(text);
                 });
  for (auto& respond : later) respond(rpc::Answer::ok(nullptr));
  later.clear();
  if (answers != 1) std::abort();
  if (!answer.empty()) {
    boost::json::error_code ec;
    boost::json::parse(answer, ec);
    if (ec) std::abort();
  }
  return 0;
}
