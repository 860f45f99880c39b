// The dispatcher's fast path (a batch method with a params reader): a plain request is read in
// one pass without a JSON tree, and every request, plain or not, gets the very answer the general
// path gives.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>
#include <random>
#include <span>
#include <string>

#include "rpc/json_rpc.h"
#include "text_mutation.h"

using namespace rpc;
namespace json = boost::json;

namespace {

// "double": answers 2a for params {"a": <integer>}, -32602 for anything else. With a reader,
// fast counts the calls that came read.
MethodTable make_table(bool with_reader, std::shared_ptr<int> fast = std::make_shared<int>(0)) {
  MethodTable table(Limits{.max_body_bytes = 1 << 20, .max_batch = 4});
  table.add("echo", "Answers its params.",
            [](const json::object& params, Respond respond) { respond(Answer::ok(params)); });
  ParamsReader reader;
  if (with_reader)
    reader = [](state::PlainJsonReader& in) -> std::any {
      std::int64_t a = 0;
      bool seen = false;
      const bool read = in.expect('{') && in.members([&](std::string_view key) {
        if (key != "a" || seen) return false;
        seen = true;
        const auto value = in.integer();
        if (!value || value->magnitude > 1'000'000) return false;
        a = value->negative ? -static_cast<std::int64_t>(value->magnitude)
                            : static_cast<std::int64_t>(value->magnitude);
        return true;
      });
      if (!read || !seen) return in.fail(), std::any();
      return a;
    };
  table.add_batch(
      "double", "Answers 2a.",
      [fast](std::span<Call> calls) {
        for (Call& call : calls) {
          if (call.read) {
            ++*fast;
            call.respond(Answer::ok(2 * std::any_cast<std::int64_t>(*call.read)));
            continue;
          }
          const json::value* a = call.params.if_contains("a");
          if (call.params.size() != 1 || !a || !a->is_int64() || a->get_int64() > 1'000'000 ||
              a->get_int64() < -1'000'000) {
            call.respond(Answer::fail(ErrorCode::InvalidParams, "a must be a small integer"));
            continue;
          }
          call.respond(Answer::ok(2 * a->get_int64()));
        }
      },
      std::move(reader));
  return table;
}

std::string dispatch(const MethodTable& table, std::string_view request) {
  std::string answer = "<no answer>";
  table.dispatch(request, [&](std::string text) { answer = std::move(text); });
  return answer;
}

}  // namespace

TEST_CASE("a plain request to a method with a params reader is read in one pass",
          "[rpc][json_rpc][plain]") {
  auto fast = std::make_shared<int>(0);
  const MethodTable table = make_table(true, fast);
  CHECK(dispatch(table,
                 R"([{"jsonrpc":"2.0","id":1,"method":"double","params":{"a":21}},)"
                 R"( {"id":"x" , "jsonrpc":"2.0","method":"double","params":{ "a" : -3 }}])") ==
        R"([{"jsonrpc":"2.0","id":1,"result":42},{"jsonrpc":"2.0","id":"x","result":-6}])");
  CHECK(*fast == 2);
  CHECK(dispatch(
            table,
            R"({"jsonrpc":"2.0","id":9223372036854775808,"method":"double","params":{"a":1}})") ==
        R"({"jsonrpc":"2.0","id":9223372036854775808,"result":2})");
  CHECK(*fast == 3);
  // Counted as any call is.
  CHECK(table.prometheus_metrics().find("rpc_requests_total{method=\"double\"} 3\n") !=
        std::string::npos);
}

TEST_CASE("every request gets the answer the general path gives, read in one pass or not",
          "[rpc][json_rpc][plain]") {
  auto fast = std::make_shared<int>(0);
  const MethodTable with_reader = make_table(true, fast);
  const MethodTable general = make_table(false);
  const std::string ok = R"({"jsonrpc":"2.0","id":1,"method":"double","params":{"a":2}})";
  struct Case {
    std::string request;
    bool read;  // taken on the fast path
  };
  const std::vector<Case> cases = {
      {ok, true},
      {"[" + ok + "," + ok + "]", true},
      {"[" + ok + "," + ok + "," + ok + "," + ok + "]", true},
      // Over the batch limit, empty, not JSON, not JSON inside params: the general path's errors.
      {"[" + ok + "," + ok + "," + ok + "," + ok + "," + ok + "]", false},
      {"[]", false},
      {"[" + ok + ",", false},
      {R"({"jsonrpc":"2.0","id":1,"method":"double","params":{"a":2,}})", false},
      {R"({"jsonrpc":"2.0","id":1,"method":"double","params":{"a":02}})", false},
      // Not plain, or not for the reader: the general path reads them, errors or answers.
      {R"({"jsonrpc":"2.0","id":1,"method":"double","params":{"\u0061":2}})", false},
      {R"({"jsonrpc":"2.0","id":1.5,"method":"double","params":{"a":2}})", false},
      {R"({"jsonrpc":"2.0","id":null,"method":"double","params":{"a":2}})", false},
      {R"({"jsonrpc":"2.0","method":"double","params":{"a":2}})", false},
      {R"({"jsonrpc":"2.0","id":1,"params":{"a":2},"method":"double"})", false},
      {R"({"jsonrpc":"2.0","id":1,"method":"double","params":{"a":2},"extra":0})", false},
      {R"({"jsonrpc":"2.0","id":1,"method":"double","params":{"a":2.5}})", false},
      {R"({"jsonrpc":"2.0","id":1,"method":"double","params":{"a":2000000}})", false},
      {R"({"jsonrpc":"2.0","id":1,"method":"double","params":{"b":2}})", false},
      {R"({"jsonrpc":"2.0","id":1,"method":"double","params":[2]})", false},
      {R"({"jsonrpc":"2.0","id":1,"method":"double"})", false},
      {R"({"jsonrpc":"1.0","id":1,"method":"double","params":{"a":2}})", false},
      {R"({"jsonrpc":"2.0","id":-9223372036854775809,"method":"double","params":{"a":2}})", false},
      {"[" + ok + R"(,{"jsonrpc":"2.0","id":2,"method":"echo","params":{"a":2}}])", false},
      {R"({"jsonrpc":"2.0","id":1,"method":"nope","params":{"a":2}})", false},
  };
  for (const Case& c : cases) {
    const int before = *fast;
    INFO(c.request);
    CHECK(dispatch(with_reader, c.request) == dispatch(general, c.request));
    CHECK((*fast > before) == c.read);
  }
}

TEST_CASE("damaged requests get the general path's answer on both tables",
          "[rpc][json_rpc][plain]") {
  const std::uint32_t seed = std::random_device{}();
  std::printf("plain request mutations: seed %u\n", seed);
  std::mt19937 random(seed);
  auto fast = std::make_shared<int>(0);
  const MethodTable with_reader = make_table(true, fast);
  const MethodTable general = make_table(false);
  const std::string base = R"([{"jsonrpc":"2.0","id":1,"method":"double","params":{"a":21}},)"
                           R"({"jsonrpc":"2.0","id":"b","method":"double","params":{"a":-7}}])";
  const std::string alphabet = "{}[]:,\"\\ 0123456789-.eEtrufalsn\t\nad";
  for (int i = 0; i < 20000; ++i) {
    const std::string text = test_support::mutated(base, random, alphabet);
    INFO(text);
    REQUIRE(dispatch(with_reader, text) == dispatch(general, text));
  }
  std::printf("plain request mutations: %d calls of 20000 requests read in one pass\n", *fast);
  CHECK(*fast > 0);
}
