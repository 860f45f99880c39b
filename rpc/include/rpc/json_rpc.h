// JSON-RPC 2.0 (SPEC section 5) as a transport-free dispatcher: a table of named methods, each
// taking its params object and answering through a callback (so a method may answer later, as
// perp_sendAction does once its block commits). A batch method takes all of a batch's calls to it
// at once, so per-call work it can share (locks, signature hashing) is paid once per batch. HTTP
// and WebSocket sessions (rpc/server.h) feed request texts in and write response texts out.
#pragma once

#include <any>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "state/plain_json.h"

namespace rpc {

// The JSON-RPC error codes SPEC section 5 names.
enum class ErrorCode : int {
  ParseError = -32700,
  InvalidRequest = -32600,
  MethodNotFound = -32601,
  InvalidParams = -32602,
  InternalError = -32603,
  ActionRejected = -32000,  // data: {"reason": "<CamelCaseReason>", "message": "<human text>"}
};

struct Error {
  ErrorCode code = ErrorCode::InternalError;
  std::string message;
  std::optional<boost::json::value> data;
};

// A method's answer: a result value or an error.
struct Answer {
  std::optional<boost::json::value> result;  // set on success
  std::optional<std::string> result_text;    // or this: the result already serialized
  Error error;                               // used when neither is set

  static Answer ok(boost::json::value value);
  // A result the caller serialized itself (one JSON value): answers built from text stored once
  // per block skip building and destroying a JSON tree per call.
  static Answer ok_text(std::string json_text);
  static Answer fail(ErrorCode code, std::string message,
                     std::optional<boost::json::value> data = std::nullopt);
  // -32000 with data {"reason", "message"}: an action or query the protocol rejects.
  static Answer rejected(std::string_view reason, std::string message);
};

using Respond = std::function<void(Answer)>;
// params is the request's params object ({} when absent), valid only during the call: a method
// that needs a part of it later copies it into storage of its own. A method must call respond
// exactly once, on any thread, now or later.
using Method = std::function<void(const boost::json::object& params, Respond respond)>;

// One call to a batch method: its params and its answer, with the same rules as a Method's (params
// valid only during the call, respond called exactly once; a method may move respond out).
struct Call {
  const boost::json::object& params;
  Respond respond;
  // For a method with a params reader (add_batch), when dispatch took the request on its fast
  // path: what the reader made of the call's params (params is then empty). The method may move
  // it out.
  std::any* read = nullptr;
};
// A batch method's reader of a call's params on the fast path: reads the params value at in's
// position, in the plain subset of JSON (state/plain_json.h), into the method's own form. An
// empty answer (with in failed) leaves the whole request to the general path, which then reads
// it as if no reader existed: so a reader takes only what the method would read alike from the
// tree, and leaves the rest, errors included, to it.
using ParamsReader = std::function<std::any(state::PlainJsonReader& in)>;
// Gets every call a request text makes to it, in request order (one for a single request).
using BatchMethod = std::function<void(std::span<Call> calls)>;

// Limits of SPEC section 5 / the node issue.
struct Limits {
  std::size_t max_body_bytes = 1 << 20;  // 1 MiB
  std::size_t max_batch = 100;
  // A batch's response, summed over its answers in the order they come: an answer that would
  // take it past this is replaced by a -32000 ResponseTooLarge error for its call. Without it a
  // batch of 100 large queries (perp_fills at its limit, chain_getBlock of busy blocks) built a
  // response of ~30-60 MB on one connection. geth bounds its batches the same way (25 MB).
  std::size_t max_batch_response_bytes = 16 << 20;  // 16 MiB
};

class MethodTable {
 public:
  explicit MethodTable(Limits limits = {});

  // Registers a method; the help text is served by no one yet but keeps the table
  // self-describing (Bitcoin Core habit).
  void add(std::string name, std::string help, Method method);
  // Registers a batch method: each call in a batch is validated and counted as with add, and the
  // method is then called once, after the batch's other requests, with all of its calls. If it
  // throws, every call it has not answered gets -32603.
  // With a params reader, a request whose calls all go to this method, in plain JSON with
  // "method" before "params" (rpc/src/plain_request.h), is read in one pass without a JSON tree:
  // each call comes with Call::read set instead of params. Every other request takes the general
  // path.
  void add_batch(std::string name, std::string help, BatchMethod method,
                 ParamsReader params_reader = {});
  bool contains(std::string_view name) const;

  // Dispatches one request text (a single request or a batch) and calls done with the response
  // text exactly once; done gets an empty string when nothing is to be sent (only
  // notifications). Never throws; every malformed input gets its JSON-RPC error:
  // not JSON -> -32700; not an object/array, wrong "jsonrpc", bad id, empty batch, batch over
  // max_batch, method not a string -> -32600; unknown method -> -32601; params present and not
  // an object -> -32602.
  void dispatch(std::string_view request_text, std::function<void(std::string)> done) const;

  // Methods one transport session adds on top of the table (the WebSocket's perp_subscribe and
  // perp_unsubscribe, bound to that connection), looked up before the table. They are called
  // synchronously from dispatch, on the caller's thread, one call at a time.
  using SessionMethods = std::map<std::string, Method, std::less<>>;
  void dispatch(std::string_view request_text, std::function<void(std::string)> done,
                const SessionMethods* session_methods) const;

  // Per-method request counts and latency (time from dispatch to respond), for GET /metrics.
  std::string prometheus_metrics() const;

  const Limits& limits() const { return limits_; }

 private:
  struct Entry {
    std::string help;
    Method method;  // one of the two is set
    BatchMethod batch_method;
    ParamsReader params_reader;
  };
  Limits limits_;
  std::map<std::string, Entry, std::less<>> methods_;
  bool any_params_reader_ = false;  // so other tables never try the fast path
  struct Stats;
  std::shared_ptr<Stats> stats_;
};

}  // namespace rpc
