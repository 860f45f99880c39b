// The JSON-RPC 2.0 dispatcher: every error code and response shape as exact texts, batches
// (order, notifications, limits), methods that answer later from other threads, batch methods,
// and metrics.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "rpc/json_rpc.h"

using namespace rpc;
namespace json = boost::json;

namespace {

// Methods covering every way of answering.
MethodTable make_table(Limits limits = {}) {
  MethodTable table(limits);
  table.add("echo", "Answers its params.",
            [](const json::object& params, Respond respond) { respond(Answer::ok(params)); });
  table.add("reject", "Answers -32000 with a reason.", [](const json::object&, Respond respond) {
    respond(Answer::rejected("InsufficientMargin", "not enough margin"));
  });
  table.add("bad_params", "Answers -32602 with data.", [](const json::object&, Respond respond) {
    respond(Answer::fail(ErrorCode::InvalidParams, "user must be an address",
                         json::value{{"field", "user"}}));
  });
  table.add("throws", "A method bug: throws.",
            [](const json::object&, Respond) { throw std::runtime_error("bug"); });
  table.add("silent", "A method bug: drops respond unanswered.",
            [](const json::object&, Respond) {});
  table.add("twice", "A method bug: answers twice.", [](const json::object&, Respond respond) {
    respond(Answer::ok("first"));
    respond(Answer::ok("second"));
  });
  // Answers from another thread after params.delay_ms (the way perp_sendAction answers once its
  // block commits).
  table.add("later", "Answers params.value from another thread.",
            [](const json::object& params, Respond respond) {
              const auto delay = std::chrono::milliseconds(params.at("delay_ms").to_number<int>());
              // params die with the call: the copy that outlives it takes default storage.
              json::value value(params.at("value"), json::storage_ptr());
              std::thread([delay, value, respond] {
                std::this_thread::sleep_for(delay);
                respond(Answer::ok(value));
              }).detach();
            });
  return table;
}

// Dispatches and waits (bounded) for the answer; "<no answer>" if done was never called.
std::string call(const MethodTable& table, std::string_view request,
                 const MethodTable::SessionMethods* session = nullptr) {
  auto answer = std::make_shared<std::promise<std::string>>();
  auto called = std::make_shared<std::atomic<int>>(0);
  table.dispatch(
      request,
      [answer, called](std::string text) {
        if (called->fetch_add(1) == 0) answer->set_value(std::move(text));
      },
      session);
  auto future = answer->get_future();
  if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) return "<no answer>";
  std::string text = future.get();
  // done must be called exactly once: give a stray second call a moment to show up.
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(called->load() == 1);
  return text;
}

}  // namespace

TEST_CASE("a request gets its result with the id echoed", "[rpc][json_rpc]") {
  const MethodTable table = make_table();
  CHECK(call(table, R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":[1,"a"]}})") ==
        R"({"jsonrpc":"2.0","id":1,"result":{"x":[1,"a"]}})");
  CHECK(call(table, R"({"jsonrpc":"2.0","id":"abc","method":"echo"})") ==
        R"({"jsonrpc":"2.0","id":"abc","result":{}})");
  CHECK(call(table, R"({"method":"echo","id":null,"jsonrpc":"2.0","params":{}})") ==
        R"({"jsonrpc":"2.0","id":null,"result":{}})");
  CHECK(call(table, R"({"jsonrpc":"2.0","id":-7,"method":"echo"})") ==
        R"({"jsonrpc":"2.0","id":-7,"result":{}})");
  CHECK(call(table, R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"echo"})") ==
        R"({"jsonrpc":"2.0","id":18446744073709551615,"result":{}})");
  // Beyond 64 bits the parser keeps only a double, whose digits differ: refused, not mangled.
  CHECK(call(table, R"({"jsonrpc":"2.0","id":18446744073709551616123,"method":"echo"})") ==
        R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"a numeric id this large )"
        R"(cannot be echoed exactly: send it as a string"}})");
  // A fractional id (which JSON-RPC discourages) comes back as the same number, in Boost.JSON's
  // notation.
  CHECK(call(table, R"({"jsonrpc":"2.0","id":1.5,"method":"echo"})") ==
        R"({"jsonrpc":"2.0","id":1.5E0,"result":{}})");
  CHECK(call(table, R"({"jsonrpc":"2.0","id":"18446744073709551616123","method":"echo"})") ==
        R"({"jsonrpc":"2.0","id":"18446744073709551616123","result":{}})");
  CHECK(table.contains("echo"));
  CHECK_FALSE(table.contains("nope"));
}

TEST_CASE("method errors keep their code message and data", "[rpc][json_rpc]") {
  const MethodTable table = make_table();
  CHECK(call(table, R"({"jsonrpc":"2.0","id":7,"method":"reject"})") ==
        R"({"jsonrpc":"2.0","id":7,"error":{"code":-32000,"message":"not enough margin",)"
        R"("data":{"reason":"InsufficientMargin","message":"not enough margin"}}})");
  CHECK(call(table, R"({"jsonrpc":"2.0","id":8,"method":"bad_params"})") ==
        R"({"jsonrpc":"2.0","id":8,"error":{"code":-32602,"message":"user must be an address",)"
        R"("data":{"field":"user"}}})");
}

TEST_CASE("malformed input maps to -32700 and -32600 with a null id", "[rpc][json_rpc]") {
  const MethodTable table = make_table();
  auto error = [](int code, std::string_view message) {
    return R"({"jsonrpc":"2.0","id":null,"error":{"code":)" + std::to_string(code) +
           R"(,"message":")" + std::string(message) + R"("}})";
  };
  CHECK(call(table, "{not json") == error(-32700, "parse error: syntax error"));
  CHECK(call(table, "") == error(-32700, "parse error: incomplete JSON"));
  CHECK(call(table, R"({"jsonrpc":"2.0","id":1,"method":"echo"} trailing)") ==
        error(-32700, "parse error: extra data"));
  // Nesting deeper than the parser allows is a parse error, not a stack overflow.
  CHECK(call(table, std::string(100'000, '[')).find("-32700") != std::string::npos);

  const std::string not_object = error(-32600, "request must be a JSON object");
  CHECK(call(table, "1") == not_object);
  CHECK(call(table, R"("text")") == not_object);
  CHECK(call(table, "null") == not_object);

  const std::string bad_version = error(-32600, R"(jsonrpc must be \"2.0\")");
  CHECK(call(table, R"({"jsonrpc":"1.0","id":1,"method":"echo"})") == bad_version);
  CHECK(call(table, R"({"jsonrpc":2.0,"id":1,"method":"echo"})") == bad_version);
  CHECK(call(table, R"({"id":1,"method":"echo"})") == bad_version);
  // An invalid request is answered even without an id: it is not a valid notification.
  CHECK(call(table, R"({"jsonrpc":"1.0","method":"echo"})") == bad_version);

  const std::string bad_method = error(-32600, "method must be a string");
  CHECK(call(table, R"({"jsonrpc":"2.0","id":1})") == bad_method);
  CHECK(call(table, R"({"jsonrpc":"2.0","id":1,"method":5})") == bad_method);

  const std::string bad_id = error(-32600, "id must be a string, a number or null");
  CHECK(call(table, R"({"jsonrpc":"2.0","id":{},"method":"echo"})") == bad_id);
  CHECK(call(table, R"({"jsonrpc":"2.0","id":[1],"method":"echo"})") == bad_id);
  CHECK(call(table, R"({"jsonrpc":"2.0","id":true,"method":"echo"})") == bad_id);
}

TEST_CASE("unknown methods get -32601 and non-object params -32602", "[rpc][json_rpc]") {
  const MethodTable table = make_table();
  CHECK(call(table, R"({"jsonrpc":"2.0","id":3,"method":"nope"})") ==
        R"({"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"method not found: nope"}})");
  const std::string bad_params =
      R"({"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"params must be an object of named parameters"}})";
  CHECK(call(table, R"({"jsonrpc":"2.0","id":4,"method":"echo","params":[1,2]})") == bad_params);
  CHECK(call(table, R"({"jsonrpc":"2.0","id":4,"method":"echo","params":null})") == bad_params);
  CHECK(call(table, R"({"jsonrpc":"2.0","id":4,"method":"echo","params":"x"})") == bad_params);
  // The method is looked up first: an unknown one is -32601 whatever its params.
  CHECK(call(table, R"({"jsonrpc":"2.0","id":5,"method":"nope","params":[1]})") ==
        R"({"jsonrpc":"2.0","id":5,"error":{"code":-32601,"message":"method not found: nope"}})");
}

TEST_CASE(
    "a method that throws or never answers gets -32603 and one that answers twice counts "
    "once",
    "[rpc][json_rpc]") {
  const MethodTable table = make_table();
  CHECK(call(table, R"({"jsonrpc":"2.0","id":1,"method":"throws"})") ==
        R"({"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"internal error"}})");
  CHECK(call(table, R"({"jsonrpc":"2.0","id":2,"method":"silent"})") ==
        R"({"jsonrpc":"2.0","id":2,"error":{"code":-32603,"message":"method did not respond"}})");
  CHECK(call(table, R"({"jsonrpc":"2.0","id":3,"method":"twice"})") ==
        R"({"jsonrpc":"2.0","id":3,"result":"first"})");
}

TEST_CASE("notifications get no answer whatever happens to them", "[rpc][json_rpc]") {
  const MethodTable table = make_table();
  CHECK(call(table, R"({"jsonrpc":"2.0","method":"echo"})").empty());
  CHECK(call(table, R"({"jsonrpc":"2.0","method":"nope"})").empty());
  CHECK(call(table, R"({"jsonrpc":"2.0","method":"echo","params":[1]})").empty());
  CHECK(call(table, R"({"jsonrpc":"2.0","method":"throws"})").empty());
  CHECK(call(table, R"({"jsonrpc":"2.0","method":"later","params":{"delay_ms":1,"value":1}})")
            .empty());
}

TEST_CASE("a method may answer later from another thread", "[rpc][json_rpc]") {
  const MethodTable table = make_table();
  CHECK(
      call(
          table,
          R"({"jsonrpc":"2.0","id":"x","method":"later","params":{"delay_ms":5,"value":[true]}})") ==
      R"({"jsonrpc":"2.0","id":"x","result":[true]})");
}

TEST_CASE("a batch is answered in request order without notification entries", "[rpc][json_rpc]") {
  const MethodTable table = make_table();
  // The first request answers last (from another thread), the last one at once.
  const std::string batch =
      R"([{"jsonrpc":"2.0","id":1,"method":"later","params":{"delay_ms":30,"value":"a"}},)"
      R"({"jsonrpc":"2.0","method":"echo"},)"
      R"({"jsonrpc":"2.0","id":2,"method":"later","params":{"delay_ms":10,"value":"b"}},)"
      R"(5,)"
      R"({"jsonrpc":"2.0","id":3,"method":"nope"},)"
      R"({"jsonrpc":"2.0","id":4,"method":"echo","params":[]},)"
      R"({"jsonrpc":"2.0","method":"nope"},)"
      R"({"jsonrpc":"2.0","id":5,"method":"echo","params":{"k":"v"}}])";
  CHECK(
      call(table, batch) ==
      R"([{"jsonrpc":"2.0","id":1,"result":"a"},)"
      R"({"jsonrpc":"2.0","id":2,"result":"b"},)"
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"request must be a JSON object"}},)"
      R"({"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"method not found: nope"}},)"
      R"({"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"params must be an object of named parameters"}},)"
      R"({"jsonrpc":"2.0","id":5,"result":{"k":"v"}}])");
  // A batch of one is still answered as an array.
  CHECK(call(table, R"([{"jsonrpc":"2.0","id":1,"method":"echo"}])") ==
        R"([{"jsonrpc":"2.0","id":1,"result":{}}])");
}

TEST_CASE("a batch of only notifications answers nothing", "[rpc][json_rpc]") {
  const MethodTable table = make_table();
  CHECK(call(table, R"([{"jsonrpc":"2.0","method":"echo"},)"
                    R"({"jsonrpc":"2.0","method":"later","params":{"delay_ms":5,"value":1}}])")
            .empty());
}

TEST_CASE("answers racing from many threads fill a batch exactly once", "[rpc][json_rpc]") {
  const MethodTable table = make_table();
  std::string batch = "[";
  std::string expected = "[";
  for (int i = 0; i < 100; ++i) {
    if (i) batch += ',', expected += ',';
    batch += R"({"jsonrpc":"2.0","id":)" + std::to_string(i) +
             R"(,"method":"later","params":{"delay_ms":)" + std::to_string(i % 3) + R"(,"value":)" +
             std::to_string(i * i) + "}}";
    expected += R"({"jsonrpc":"2.0","id":)" + std::to_string(i) + R"(,"result":)" +
                std::to_string(i * i) + "}";
  }
  batch += "]";
  expected += "]";
  for (int round = 0; round < 5; ++round) CHECK(call(table, batch) == expected);
}

TEST_CASE("batch and body limits answer one -32600 error", "[rpc][json_rpc]") {
  const MethodTable table = make_table(Limits{4096, 3});
  CHECK(call(table, "[]") ==
        R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"empty batch"}})");
  const std::string request = R"({"jsonrpc":"2.0","id":1,"method":"echo"})";
  const std::string three = "[" + request + "," + request + "," + request + "]";
  CHECK(call(table, three).starts_with(R"([{"jsonrpc":"2.0","id":1,"result":{}},)"));
  const std::string four = "[" + request + "," + request + "," + request + "," + request + "]";
  CHECK(
      call(table, four) ==
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch of 4 requests exceeds the limit of 3"}})");

  std::string padded = R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"pad":")";
  padded += std::string(4096 - padded.size() - 3, 'x') + R"("}})";
  REQUIRE(padded.size() == 4096);
  CHECK(call(table, padded).find(R"("result")") != std::string::npos);
  padded.insert(padded.size() - 3, "x");
  CHECK(
      call(table, padded) ==
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"request body larger than 4096 bytes"}})");

  const MethodTable defaults = make_table();
  CHECK(defaults.limits().max_body_bytes == 1048576);
  CHECK(defaults.limits().max_batch == 100);
}

TEST_CASE("answers past the batch response budget become ResponseTooLarge errors",
          "[rpc][json_rpc]") {
  const std::string pad(40, 'x');
  auto request = [&](std::string_view id) {
    return R"({"jsonrpc":"2.0","id":)" + std::string(id) + R"(,"method":"echo","params":{"pad":")" +
           pad + R"("}})";
  };
  auto answer = [&](std::string_view id) {
    return R"({"jsonrpc":"2.0","id":)" + std::string(id) + R"(,"result":{"pad":")" + pad + R"("}})";
  };
  // Room for the first two answers and not a byte more.
  const std::size_t budget = answer("1").size() + answer("2").size();
  const MethodTable table = make_table(Limits{4096, 10, budget});
  const std::string notification =
      R"({"jsonrpc":"2.0","method":"echo","params":{"pad":")" + pad + R"("}})";
  // The notification comes after an answer that did not fit: it still gets no answer.
  const std::string batch = "[" + request("1") + "," + request("2") + "," + request(R"("c")") +
                            "," + notification + "," + request("4") + "]";
  const std::string too_large =
      R"("error":{"code":-32000,"message":"this answer would take the batch's response past )" +
      std::to_string(budget) +
      R"( bytes; ask for it in a batch of its own or in smaller parts","data":{"reason":)"
      R"("ResponseTooLarge","message":"this answer would take the batch's response past )" +
      std::to_string(budget) +
      R"( bytes; ask for it in a batch of its own or in smaller parts"}}})";
  CHECK(call(table, batch) == "[" + answer("1") + "," + answer("2") +
                                  R"(,{"jsonrpc":"2.0","id":"c",)" + too_large +
                                  R"(,{"jsonrpc":"2.0","id":4,)" + too_large + "]");
  // A single request is not a batch: its one answer is not held to the budget.
  CHECK(call(make_table(Limits{4096, 10, 10}), request("1")) == answer("1"));
  CHECK(make_table().limits().max_batch_response_bytes == 16u << 20);
}

TEST_CASE("session methods are found before the table's", "[rpc][json_rpc]") {
  const MethodTable table = make_table();
  MethodTable::SessionMethods session;
  session["perp_subscribe"] = [](const json::object&, Respond respond) {
    respond(Answer::ok("0x1"));
  };
  session["echo"] = [](const json::object&, Respond respond) { respond(Answer::ok("session")); };
  CHECK(call(table, R"({"jsonrpc":"2.0","id":1,"method":"perp_subscribe"})", &session) ==
        R"({"jsonrpc":"2.0","id":1,"result":"0x1"})");
  CHECK(call(table, R"({"jsonrpc":"2.0","id":1,"method":"echo"})", &session) ==
        R"({"jsonrpc":"2.0","id":1,"result":"session"})");
  CHECK(
      call(table, R"({"jsonrpc":"2.0","id":1,"method":"perp_subscribe"})") ==
      R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"method not found: perp_subscribe"}})");
}

TEST_CASE("metrics count requests and latency per method in Prometheus text", "[rpc][json_rpc]") {
  const MethodTable table = make_table();
  call(table, R"({"jsonrpc":"2.0","id":1,"method":"echo"})");
  call(table, R"([{"jsonrpc":"2.0","id":1,"method":"echo"},{"jsonrpc":"2.0","method":"echo"}])");
  call(table, R"({"jsonrpc":"2.0","id":1,"method":"nope"})");
  call(table, "{");
  const std::string text = table.prometheus_metrics();
  CHECK(text.find("# TYPE rpc_requests_total counter\n") != std::string::npos);
  CHECK(text.find("rpc_requests_total{method=\"echo\"} 3\n") != std::string::npos);
  CHECK(text.find("rpc_requests_total{method=\"nope\"}") == std::string::npos);
  CHECK(text.find("rpc_rejected_requests_total{code=\"-32601\"} 1\n") != std::string::npos);
  CHECK(text.find("rpc_rejected_requests_total{code=\"-32700\"} 1\n") != std::string::npos);
  CHECK(text.find("# TYPE rpc_request_duration_seconds histogram\n") != std::string::npos);
  CHECK(text.find("rpc_request_duration_seconds_bucket{method=\"echo\",le=\"0.0005\"}") !=
        std::string::npos);
  CHECK(text.find("rpc_request_duration_seconds_bucket{method=\"echo\",le=\"5\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("rpc_request_duration_seconds_bucket{method=\"echo\",le=\"+Inf\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("rpc_request_duration_seconds_count{method=\"echo\"} 3\n") != std::string::npos);
  CHECK(text.find("rpc_request_duration_seconds_sum{method=\"echo\"} ") != std::string::npos);
}

namespace {

// A batch method that records each invocation's params and answers each call with its params.x.
struct RecordingBatchMethod {
  std::shared_ptr<std::vector<std::vector<std::string>>> invocations =
      std::make_shared<std::vector<std::vector<std::string>>>();

  BatchMethod method() const {
    return [invocations = invocations](std::span<Call> calls) {
      std::vector<std::string> params;
      for (Call& call : calls) {
        params.push_back(json::serialize(call.params));
        call.respond(Answer::ok(call.params.at("x")));
      }
      invocations->push_back(std::move(params));
    };
  }
};

}  // namespace

TEST_CASE("a batch method gets all its calls of a batch in one invocation in request order",
          "[rpc][json_rpc]") {
  MethodTable table = make_table();
  RecordingBatchMethod recorder;
  table.add_batch("many", "Answers params.x for each call.", recorder.method());
  CHECK(table.contains("many"));
  const std::string batch =
      R"([{"jsonrpc":"2.0","id":1,"method":"many","params":{"x":"a"}},)"
      R"({"jsonrpc":"2.0","id":2,"method":"echo","params":{"k":1}},)"
      R"({"jsonrpc":"2.0","id":3,"method":"many","params":[]},)"
      R"({"jsonrpc":"1.0","id":4,"method":"many","params":{"x":"bad"}},)"
      R"({"jsonrpc":"2.0","method":"many","params":{"x":"note"}},)"
      R"({"jsonrpc":"2.0","id":5,"method":"later","params":{"delay_ms":5,"value":"l"}},)"
      R"({"jsonrpc":"2.0","id":6,"method":"many","params":{"x":"b"}}])";
  CHECK(
      call(table, batch) ==
      R"([{"jsonrpc":"2.0","id":1,"result":"a"},)"
      R"({"jsonrpc":"2.0","id":2,"result":{"k":1}},)"
      R"({"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"params must be an object of named parameters"}},)"
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"jsonrpc must be \"2.0\""}},)"
      R"({"jsonrpc":"2.0","id":5,"result":"l"},)"
      R"({"jsonrpc":"2.0","id":6,"result":"b"}])");
  REQUIRE(recorder.invocations->size() == 1);
  CHECK((*recorder.invocations)[0] ==
        std::vector<std::string>{R"({"x":"a"})", R"({"x":"note"})", R"({"x":"b"})"});

  // A single request is an invocation with one call.
  CHECK(call(table, R"({"jsonrpc":"2.0","id":"s","method":"many","params":{"x":[true]}})") ==
        R"({"jsonrpc":"2.0","id":"s","result":[true]})");
  REQUIRE(recorder.invocations->size() == 2);
  CHECK((*recorder.invocations)[1] == std::vector<std::string>{R"({"x":[true]})"});

  // Calls are counted per call, as a plain method's are.
  const std::string text = table.prometheus_metrics();
  CHECK(text.find("rpc_requests_total{method=\"many\"} 4\n") != std::string::npos);
  CHECK(text.find("rpc_request_duration_seconds_count{method=\"many\"} 4\n") != std::string::npos);
}

TEST_CASE("a batch method may answer later and each batch method gets its own invocation",
          "[rpc][json_rpc]") {
  MethodTable table = make_table();
  RecordingBatchMethod first;
  table.add_batch("first", "Answers params.x.", first.method());
  // Keeps the answers of its calls and gives them from another thread, last call first.
  table.add_batch("deferred", "Answers params.x later.", [](std::span<Call> calls) {
    std::vector<std::pair<Respond, json::value>> answers;
    for (Call& call : calls)
      answers.emplace_back(std::move(call.respond),
                           json::value(call.params.at("x"), json::storage_ptr()));
    std::thread([answers = std::move(answers)]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      for (auto it = answers.rbegin(); it != answers.rend(); ++it)
        it->first(Answer::ok(std::move(it->second)));
    }).detach();
  });
  CHECK(call(table, R"([{"jsonrpc":"2.0","id":1,"method":"deferred","params":{"x":1}},)"
                    R"({"jsonrpc":"2.0","id":2,"method":"first","params":{"x":2}},)"
                    R"({"jsonrpc":"2.0","id":3,"method":"deferred","params":{"x":3}}])") ==
        R"([{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":2,"result":2},)"
        R"({"jsonrpc":"2.0","id":3,"result":3}])");
  CHECK(first.invocations->size() == 1);
}

TEST_CASE("a batch method that throws gets -32603 for each call it left unanswered",
          "[rpc][json_rpc]") {
  MethodTable table = make_table();
  // Answers its first call, moves the second's respond away and drops it, then throws.
  table.add_batch("half", "A method bug: throws midway.", [](std::span<Call> calls) {
    calls[0].respond(Answer::ok("answered"));
    if (calls.size() > 1) {
      Respond dropped = std::move(calls[1].respond);
    }
    throw std::runtime_error("bug");
  });
  const std::string internal_error = R"("error":{"code":-32603,"message":"internal error"}})";
  CHECK(call(table, R"([{"jsonrpc":"2.0","id":1,"method":"half"},)"
                    R"({"jsonrpc":"2.0","id":2,"method":"half"},)"
                    R"({"jsonrpc":"2.0","id":3,"method":"echo"},)"
                    R"({"jsonrpc":"2.0","id":4,"method":"half"}])") ==
        R"([{"jsonrpc":"2.0","id":1,"result":"answered"},)"
        R"({"jsonrpc":"2.0","id":2,)" +
            internal_error +
            R"(,{"jsonrpc":"2.0","id":3,"result":{}},)"
            R"({"jsonrpc":"2.0","id":4,)" +
            internal_error + "]");
  table.add_batch("throws_at_once", "A method bug: throws before answering.",
                  [](std::span<Call>) { throw std::runtime_error("bug"); });
  CHECK(call(table, R"({"jsonrpc":"2.0","id":9,"method":"throws_at_once"})") ==
        R"({"jsonrpc":"2.0","id":9,)" + internal_error);
}

TEST_CASE("session methods stay plain and shadow a batch method of the same name",
          "[rpc][json_rpc]") {
  MethodTable table = make_table();
  RecordingBatchMethod recorder;
  table.add_batch("many", "Answers params.x.", recorder.method());
  MethodTable::SessionMethods session;
  session["many"] = [](const json::object&, Respond respond) { respond(Answer::ok("session")); };
  CHECK(
      call(table,
           R"([{"jsonrpc":"2.0","id":1,"method":"many"},{"jsonrpc":"2.0","id":2,"method":"many"}])",
           &session) ==
      R"([{"jsonrpc":"2.0","id":1,"result":"session"},{"jsonrpc":"2.0","id":2,"result":"session"}])");
  CHECK(recorder.invocations->empty());
}
