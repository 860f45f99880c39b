// libFuzzer target: arbitrary bytes through the JSON-RPC dispatcher with a synchronous method, a
// method that answers later from the same thread, and notifications. Every input must be answered
// exactly once, with valid JSON (or nothing, for notifications only), never a crash or hang. A
// batch method with a params reader (the fast path) must answer exactly as without one.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rpc/json_rpc.h"

namespace {

// "sum": answers the sum of params.xs (plain integers, at most 8 of them), or -32602. With a
// reader, plain params are read on the fast path.
rpc::MethodTable sum_table(bool with_reader) {
  rpc::MethodTable t(rpc::Limits{.max_body_bytes = 1 << 20, .max_batch = 8});
  rpc::ParamsReader reader;
  if (with_reader)
    reader = [](state::PlainJsonReader& in) -> std::any {
      std::int64_t sum = 0;
      bool seen = false;
      const bool read = in.expect('{') && in.members([&](std::string_view key) {
        if (key != "xs" || seen || !in.expect('[')) return false;
        seen = true;
        if (in.take(']')) return true;
        int count = 0;
        do {
          const auto x = in.integer();
          if (!x || x->magnitude > 1000 || ++count > 8) return false;
          sum += x->negative ? -static_cast<std::int64_t>(x->magnitude)
                             : static_cast<std::int64_t>(x->magnitude);
        } while (in.take(','));
        return in.expect(']');
      });
      if (!read || !seen) return in.fail(), std::any();
      return sum;
    };
  t.add_batch(
      "sum", "sums params.xs",
      [](std::span<rpc::Call> calls) {
        for (rpc::Call& call : calls) {
          if (call.read) {
            call.respond(rpc::Answer::ok(std::any_cast<std::int64_t>(*call.read)));
            continue;
          }
          const boost::json::value* xs = call.params.if_contains("xs");
          std::int64_t sum = 0;
          bool ok = call.params.size() == 1 && xs && xs->is_array() && xs->get_array().size() <= 8;
          for (std::size_t i = 0; ok && i < xs->get_array().size(); ++i) {
            const auto& x = xs->get_array()[i];
            ok = x.is_int64() && x.get_int64() >= -1000 && x.get_int64() <= 1000;
            if (ok) sum += x.get_int64();
          }
          call.respond(ok ? rpc::Answer::ok(sum)
                          : rpc::Answer::fail(rpc::ErrorCode::InvalidParams, "xs"));
        }
      },
      std::move(reader));
  return t;
}

std::string dispatch(const rpc::MethodTable& table, std::string_view text) {
  std::string answer = "<none>";
  table.dispatch(text, [&](std::string a) { answer = std::move(a); });
  return answer;
}

}  // namespace

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
  static const rpc::MethodTable with_reader = sum_table(true), general = sum_table(false);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (dispatch(with_reader, text) != dispatch(general, text)) std::abort();
  return 0;
}
