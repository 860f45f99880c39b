#include "rpc/json_rpc.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <mutex>
#include <utility>
#include <vector>

#include "plain_request.h"

namespace rpc {
namespace json = boost::json;

Answer Answer::ok(json::value value) {
  Answer answer;
  answer.result = std::move(value);
  return answer;
}

Answer Answer::ok_text(std::string json_text) {
  Answer answer;
  answer.result_text = std::move(json_text);
  return answer;
}

Answer Answer::fail(ErrorCode code, std::string message, std::optional<json::value> data) {
  Answer answer;
  answer.error = Error{code, std::move(message), std::move(data)};
  return answer;
}

Answer Answer::rejected(std::string_view reason, std::string message) {
  json::object data;
  data["reason"] = reason;
  data["message"] = message;
  return fail(ErrorCode::ActionRejected, std::move(message), json::value(std::move(data)));
}

namespace {

using Clock = std::chrono::steady_clock;
using Reply = std::function<void(std::string)>;

// Upper bounds of the latency histogram, in seconds: sub-millisecond queries up to actions that
// wait for a block commit.
constexpr std::array<double, 13> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                    0.1,    0.25,  0.5,    1.0,   2.5,  5.0};

struct MethodStats {
  std::uint64_t requests = 0;
  std::uint64_t answered = 0;
  double seconds_sum = 0;
  // Non-cumulative counts per bucket; the last one is +Inf. Cumulated when exposed.
  std::array<std::uint64_t, kLatencyBuckets.size() + 1> buckets{};
};

std::string response_text(const json::value& id, Answer answer) {
  if (answer.result_text) {
    const std::string id_text = json::serialize(id);
    std::string text;
    text.reserve(40 + id_text.size() + answer.result_text->size());  // one allocation
    text += R"({"jsonrpc":"2.0","id":)";
    text += id_text;
    text += R"(,"result":)";
    text += *answer.result_text;
    text += '}';
    return text;
  }
  json::object response;
  response["jsonrpc"] = "2.0";
  response["id"] = id;
  if (answer.result) {
    response["result"] = std::move(*answer.result);
  } else {
    json::object error;
    error["code"] = static_cast<int>(answer.error.code);
    error["message"] = answer.error.message;
    if (answer.error.data) error["data"] = std::move(*answer.error.data);
    response["error"] = std::move(error);
  }
  return json::serialize(response);
}

std::string error_text(const json::value& id, ErrorCode code, std::string message) {
  return response_text(id, Answer::fail(code, std::move(message)));
}

bool valid_id(const json::value& id) {
  return id.is_string() || id.is_number() || id.is_null();
}

// A number the parser could keep only as a double beyond 2^53 (past 64-bit integers, or written
// with a large exponent) would be echoed with other digits: a response must carry the request's
// id exactly. Smaller doubles (1.5, 1e2) come back as the same number.
bool id_echoes_exactly(const json::value& id) {
  return !id.is_double() || std::abs(id.get_double()) < 9007199254740992.0;  // 2^53
}

std::string format_number(double value) {
  std::array<char, 64> text{};
  auto [end, ec] =
      std::to_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (ec != std::errc()) return "0";
  return std::string(text.data(), end);
}

// Prometheus label values escape backslash, double quote and newline.
std::string label_value(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') {
      escaped += '\\';
      escaped += c;
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// Collects a batch's responses, which may arrive in any order and from any thread, and sends
// them as one array in request order once the last one is in.
struct BatchCollector {
  std::mutex mutex;
  std::vector<std::string> slots;  // empty: nothing to send for that request (notification)
  std::vector<json::value> ids;    // each request's id, for a ResponseTooLarge error in its slot
  std::size_t pending;
  std::size_t bytes = 0;  // of the answers in slots
  std::size_t max_bytes;
  Reply done;

  BatchCollector(std::size_t size, std::size_t max_bytes_, Reply done_)
      : slots(size), ids(size), pending(size), max_bytes(max_bytes_), done(std::move(done_)) {}

  void fill(std::size_t index, std::string text) {
    {
      std::lock_guard lock(mutex);
      // A notification's empty text is never answered, over the budget or not; an error put in
      // an answer's place is not counted, so the answers kept stay within the budget.
      if (!text.empty() && bytes + text.size() > max_bytes) {
        text = response_text(
            ids[index],
            Answer::rejected("ResponseTooLarge",
                             "this answer would take the batch's response past " +
                                 std::to_string(max_bytes) +
                                 " bytes; ask for it in a batch of its own or in smaller parts"));
      } else {
        bytes += text.size();
      }
      slots[index] = std::move(text);
      if (--pending != 0) return;
    }
    std::size_t size = 2;
    for (const auto& slot : slots) size += slot.size() + 1;
    std::string out;
    out.reserve(size);  // one allocation for the whole array, not a doubling series
    for (const auto& slot : slots) {
      if (slot.empty()) continue;
      out += out.empty() ? '[' : ',';
      out += slot;
    }
    if (!out.empty()) out += ']';
    done(std::move(out));
  }
};

// The table's counters, shared with calls in flight so a late answer can still be counted.
struct CallStats {
  std::mutex mutex;
  std::map<std::string, MethodStats, std::less<>> by_method;
  // Requests that never reached a method, by error code (parse errors, invalid requests, unknown
  // methods, params that are not an object). Keyed by code, not name, so a client sending random
  // method names cannot grow the exposition.
  std::map<int, std::uint64_t> rejected;

  // The method's stats entry (map nodes never move), so answering needs no lookup by name.
  MethodStats* count_request(std::string_view method) {
    std::lock_guard lock(mutex);
    auto it = by_method.find(method);
    if (it == by_method.end()) it = by_method.emplace(std::string(method), MethodStats{}).first;
    ++it->second.requests;
    return &it->second;
  }

  void count_answer(MethodStats& stats, Clock::duration elapsed) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    std::size_t bucket = 0;
    while (bucket < kLatencyBuckets.size() && seconds > kLatencyBuckets[bucket]) ++bucket;
    std::lock_guard lock(mutex);
    ++stats.answered;
    stats.seconds_sum += seconds;
    ++stats.buckets[bucket];
  }

  void count_rejected(ErrorCode code) {
    std::lock_guard lock(mutex);
    ++rejected[static_cast<int>(code)];
  }
};

// One method call in flight. The method answers through Respond, which shares this; if every
// copy of Respond is dropped unanswered (a method bug), the destructor answers -32603 so the
// client and a waiting batch are never left hanging.
struct PendingCall {
  std::atomic<bool> answered{false};
  json::value id;
  bool notification = false;
  Clock::time_point started;
  std::shared_ptr<CallStats> stats;
  MethodStats* method_stats = nullptr;  // in stats->by_method
  Reply reply;

  void answer(Answer answer) {
    if (answered.exchange(true)) return;  // a second respond is a method bug; the first counts
    stats->count_answer(*method_stats, Clock::now() - started);
    reply(notification ? std::string() : response_text(id, std::move(answer)));
  }

  ~PendingCall() {
    if (answered.load()) return;
    try {
      answer(Answer::fail(ErrorCode::InternalError, "method did not respond"));
    } catch (...) {
      // Destructors must not throw; the reply is lost only on allocation failure.
    }
  }
};

}  // namespace

struct MethodTable::Stats : CallStats {};

MethodTable::MethodTable(Limits limits) : limits_(limits), stats_(std::make_shared<Stats>()) {}

void MethodTable::add(std::string name, std::string help, Method method) {
  methods_[std::move(name)] = Entry{std::move(help), std::move(method), {}, {}};
}

void MethodTable::add_batch(std::string name, std::string help, BatchMethod method,
                            ParamsReader params_reader) {
  any_params_reader_ = any_params_reader_ || params_reader;
  methods_[std::move(name)] =
      Entry{std::move(help), {}, std::move(method), std::move(params_reader)};
}

bool MethodTable::contains(std::string_view name) const {
  return methods_.find(name) != methods_.end();
}

void MethodTable::dispatch(std::string_view request_text,
                           std::function<void(std::string)> done) const {
  dispatch(request_text, std::move(done), nullptr);
}

void MethodTable::dispatch(std::string_view request_text, std::function<void(std::string)> done,
                           const SessionMethods* session_methods) const {
  const json::value null_id;
  auto reject = [&](ErrorCode code, std::string message) {
    stats_->count_rejected(code);
    done(error_text(null_id, code, std::move(message)));
  };
  if (request_text.size() > limits_.max_body_bytes) {
    reject(ErrorCode::InvalidRequest,
           "request body larger than " + std::to_string(limits_.max_body_bytes) + " bytes");
    return;
  }
  // The fast path: a plain request whose every call goes to a method with a params reader
  // builds no tree (for perp_sendAction batches, ~0.5 us of CPU less per order than building the
  // tree and decoding from it: docs/benchmarks.md). A session's own methods come first by name,
  // so a name they take has no reader here.
  std::optional<PlainRequest> plain;
  if (any_params_reader_)
    plain = read_plain_request(
        request_text, limits_.max_batch, [&](std::string_view name) -> const ParamsReader* {
          if (session_methods && session_methods->contains(name)) return nullptr;
          const auto it = methods_.find(name);
          return it == methods_.end() || !it->second.params_reader ? nullptr
                                                                   : &it->second.params_reader;
        });
  // Methods read their params during the call only (json_rpc.h), so the whole request tree can
  // live in one arena, freed at once instead of node by node.
  std::optional<json::monotonic_resource> arena;
  json::value request;
  if (!plain) {
    arena.emplace(request_text.size() * 2 + 1024);
    json::error_code parse_error;
    request = json::parse(request_text, parse_error, &*arena);
    if (parse_error) {
      reject(ErrorCode::ParseError, "parse error: " + parse_error.message());
      return;
    }
  }

  // Calls to batch methods, gathered per method in order of first appearance: a batch mixes few
  // methods, so a linear search beats a map.
  struct BatchCalls {
    const BatchMethod* method;
    std::vector<Call> calls;
    std::vector<std::shared_ptr<PendingCall>> pending;  // calls[i]'s, to answer if it throws
  };
  std::vector<BatchCalls> batch_calls;
  // Requests in the text: what a batch method's call lists reserve.
  const std::size_t requests = plain                ? plain->calls.size()
                               : request.is_array() ? request.get_array().size()
                                                    : 1;

  // Runs one request whose id (null for a notification), method name and params (null when
  // absent, or read on the fast path) are known; reply gets the response text.
  auto route = [&](const json::value* id, std::string_view name, const json::value* params,
                   std::any* read, Reply reply) {
    const bool notification = id == nullptr;
    // Errors after this point are the caller's to see only when it asked for an answer.
    auto fail = [&](ErrorCode code, std::string message) {
      stats_->count_rejected(code);
      reply(notification ? std::string() : error_text(*id, code, std::move(message)));
    };

    const Method* method = nullptr;
    const BatchMethod* batch_method = nullptr;
    if (session_methods) {
      if (auto it = session_methods->find(name); it != session_methods->end()) method = &it->second;
    }
    if (!method) {
      if (auto it = methods_.find(name); it != methods_.end()) {
        if (it->second.method) method = &it->second.method;
        if (it->second.batch_method) batch_method = &it->second.batch_method;
      }
    }
    if ((!method || !*method) && !batch_method)
      return fail(ErrorCode::MethodNotFound, "method not found: " + std::string(name));
    // After the method: an unknown method is -32601 whatever its params.
    if (params && !params->is_object())
      return fail(ErrorCode::InvalidParams, "params must be an object of named parameters");

    auto call = std::make_shared<PendingCall>();
    if (id) call->id = *id;
    call->notification = notification;
    call->started = Clock::now();
    call->stats = stats_;
    call->reply = std::move(reply);
    call->method_stats = stats_->count_request(name);
    static const json::object no_params;
    const json::object& call_params = params ? params->get_object() : no_params;
    Respond respond = [call](Answer answer) { call->answer(std::move(answer)); };
    if (batch_method) {
      auto group = std::find_if(batch_calls.begin(), batch_calls.end(),
                                [&](const BatchCalls& g) { return g.method == batch_method; });
      if (group == batch_calls.end()) {
        group = batch_calls.insert(batch_calls.end(), BatchCalls{batch_method, {}, {}});
        group->calls.reserve(requests);
        group->pending.reserve(requests);
      }
      group->calls.push_back(Call{call_params, std::move(respond), read});
      group->pending.push_back(std::move(call));
      return;
    }
    try {
      (*method)(call_params, std::move(respond));
    } catch (...) {
      call->answer(Answer::fail(ErrorCode::InternalError, "internal error"));
    }
  };

  // Handles one request of a single call or a batch; reply gets the response text, or an empty
  // string for a notification. Calls to a batch method wait in batch_calls.
  auto handle = [&](const json::value& value, Reply reply) {
    auto invalid = [&](std::string message) {
      stats_->count_rejected(ErrorCode::InvalidRequest);
      reply(error_text(null_id, ErrorCode::InvalidRequest, std::move(message)));
    };
    if (!value.is_object()) return invalid("request must be a JSON object");
    const json::object& object = value.get_object();
    const json::value* id = object.if_contains("id");
    if (id && !valid_id(*id)) return invalid("id must be a string, a number or null");
    if (id && !id_echoes_exactly(*id))
      return invalid("a numeric id this large cannot be echoed exactly: send it as a string");
    const json::value* version = object.if_contains("jsonrpc");
    if (!version || !version->is_string() || version->get_string() != "2.0")
      return invalid("jsonrpc must be \"2.0\"");
    const json::value* method_name = object.if_contains("method");
    if (!method_name || !method_name->is_string()) return invalid("method must be a string");
    route(id, method_name->get_string(), object.if_contains("params"), nullptr, std::move(reply));
  };

  // Runs once every request has been handled, while the arena (and so every params) lives.
  auto call_batch_methods = [&] {
    for (BatchCalls& group : batch_calls) {
      try {
        (*group.method)(std::span<Call>(group.calls));
      } catch (...) {
        // The method may have moved respond out of its calls: answer through the calls
        // themselves; those already answered ignore this.
        for (const auto& call : group.pending)
          call->answer(Answer::fail(ErrorCode::InternalError, "internal error"));
      }
    }
  };

  if (plain) {
    if (!plain->batch) {
      PlainCall& call = plain->calls.front();
      route(&call.id, call.method, nullptr, &call.read, std::move(done));
      call_batch_methods();
      return;
    }
    auto collector = std::make_shared<BatchCollector>(
        plain->calls.size(), limits_.max_batch_response_bytes, std::move(done));
    for (std::size_t index = 0; index < plain->calls.size(); ++index) {
      PlainCall& call = plain->calls[index];
      collector->ids[index] = call.id;
      route(&call.id, call.method, nullptr, &call.read,
            [collector, index](std::string text) { collector->fill(index, std::move(text)); });
    }
    call_batch_methods();
    return;
  }
  if (!request.is_array()) {
    handle(request, std::move(done));
    call_batch_methods();
    return;
  }
  const json::array& batch = request.get_array();
  if (batch.empty()) {
    reject(ErrorCode::InvalidRequest, "empty batch");
    return;
  }
  if (batch.size() > limits_.max_batch) {
    reject(ErrorCode::InvalidRequest, "batch of " + std::to_string(batch.size()) +
                                          " requests exceeds the limit of " +
                                          std::to_string(limits_.max_batch));
    return;
  }
  auto collector = std::make_shared<BatchCollector>(batch.size(), limits_.max_batch_response_bytes,
                                                    std::move(done));
  for (std::size_t index = 0; index < batch.size(); ++index) {
    // Before the call, which may answer at once; copied out of the arena, as an answer may also
    // come after this call returns.
    if (const json::object* object = batch[index].if_object())
      if (const json::value* id = object->if_contains("id");
          id && valid_id(*id) && id_echoes_exactly(*id))
        collector->ids[index] = json::value(*id, json::storage_ptr());
    handle(batch[index],
           [collector, index](std::string text) { collector->fill(index, std::move(text)); });
  }
  call_batch_methods();
}

std::string MethodTable::prometheus_metrics() const {
  std::map<std::string, MethodStats, std::less<>> by_method;
  std::map<int, std::uint64_t> rejected;
  {
    std::lock_guard lock(stats_->mutex);
    by_method = stats_->by_method;
    rejected = stats_->rejected;
  }
  std::string out;
  out += "# HELP rpc_requests_total JSON-RPC requests dispatched to a method.\n";
  out += "# TYPE rpc_requests_total counter\n";
  for (const auto& [method, stats] : by_method)
    out += "rpc_requests_total{method=\"" + label_value(method) + "\"} " +
           std::to_string(stats.requests) + "\n";
  out +=
      "# HELP rpc_rejected_requests_total JSON-RPC requests answered with an error before "
      "reaching a method, by error code.\n";
  out += "# TYPE rpc_rejected_requests_total counter\n";
  for (const auto& [code, count] : rejected)
    out += "rpc_rejected_requests_total{code=\"" + std::to_string(code) + "\"} " +
           std::to_string(count) + "\n";
  out += "# HELP rpc_request_duration_seconds Time from dispatch to the method's answer.\n";
  out += "# TYPE rpc_request_duration_seconds histogram\n";
  for (const auto& [method, stats] : by_method) {
    const std::string label = "method=\"" + label_value(method) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t bucket = 0; bucket < stats.buckets.size(); ++bucket) {
      cumulative += stats.buckets[bucket];
      const std::string le =
          bucket < kLatencyBuckets.size() ? format_number(kLatencyBuckets[bucket]) : "+Inf";
      out += "rpc_request_duration_seconds_bucket{" + label + ",le=\"" + le + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "rpc_request_duration_seconds_sum{" + label + "} " + format_number(stats.seconds_sum) +
           "\n";
    out += "rpc_request_duration_seconds_count{" + label + "} " + std::to_string(stats.answered) +
           "\n";
  }
  return out;
}

}  // namespace rpc
