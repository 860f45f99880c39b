// The Beast server end to end on loopback: HTTP JSON-RPC, limits, CORS, metrics, timeouts,
// connection limit, WebSocket methods and subscriptions, stop(). Clients are Beast streams run on
// their own io_context with a deadline on every operation, so a server bug fails a test instead
// of hanging it.
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "rpc/server.h"

using namespace rpc;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto kClientTimeout = 2s;

std::optional<Topic> parse_topic(const json::object& params, Error& error) {
  const json::value* type = params.if_contains("type");
  if (!type || !type->is_string() ||
      (type->get_string() != "trades" && type->get_string() != "blocks")) {
    error = Error{ErrorCode::InvalidParams, "unknown subscription type", std::nullopt};
    return std::nullopt;
  }
  const json::value* market = params.if_contains("market");
  return Topic{std::string(type->get_string()),
               market && market->is_string() ? std::string(market->get_string()) : std::string()};
}

// A server on 127.0.0.1:0 with its io_context run by one thread.
class TestServer {
 public:
  explicit TestServer(ServerConfig config = {}, int threads = 1) {
    methods_.add("echo", "Answers its params.",
                 [](const json::object& params, Respond respond) { respond(Answer::ok(params)); });
    methods_.add("big", "Answers a 1 MiB string.", [this](const json::object&, Respond respond) {
      ++big_calls_;
      respond(Answer::ok(json::value(std::string(1 << 20, 'x'))));
    });
    // Answers when release_held() is called, as perp_sendAction calls answer at their commit.
    methods_.add("held", "", [this](const json::object&, Respond respond) {
      std::lock_guard lock(held_mutex_);
      held_.push_back(std::move(respond));
    });
    // Publishes {"n":1} to "blocks", then answers 50 ms later from another thread.
    methods_.add("publish_then_answer", "", [this](const json::object&, Respond respond) {
      server_->publish(Topic{"blocks", ""}, json::object{{"n", 1}});
      std::lock_guard lock(answer_threads_mutex_);
      answer_threads_.emplace_back([respond = std::move(respond)]() mutable {
        std::this_thread::sleep_for(50ms);
        respond(Answer::ok(true));
      });
    });
    server_ = std::make_unique<Server>(io_, config, methods_, parse_topic,
                                       [] { return std::string("perpd_test_gauge 1\n"); });
    const auto error = server_->start();
    REQUIRE_FALSE(error);
    REQUIRE(server_->port() != 0);
    // The extra threads end with run() too; the first one reports it.
    for (int i = 1; i < threads; ++i) extra_threads_.emplace_back([this] { io_.run(); });
    thread_ = std::thread([this] {
      io_.run();
      run_returned_.set_value();
    });
  }

  ~TestServer() {
    for (auto& thread : answer_threads_) thread.join();  // before the io_context goes
    server_->stop();
    if (!stopped_within(2s)) {
      FAIL_CHECK("io_context::run did not return after stop()");
      io_.stop();
    }
    thread_.join();
    for (auto& thread : extra_threads_) thread.join();
  }

  // Stops the server and reports whether run() returned within the time given.
  bool stopped_within(std::chrono::milliseconds timeout) {
    server_->stop();
    if (!run_future_.valid()) return true;
    const bool returned = run_future_.wait_for(timeout) == std::future_status::ready;
    if (returned) run_future_.get();
    return returned;
  }

  Server& server() { return *server_; }
  int big_calls() const { return big_calls_; }
  std::size_t held_calls() {
    std::lock_guard lock(held_mutex_);
    return held_.size();
  }
  // Answers every held call at once, from the calling thread.
  void release_held() {
    std::vector<Respond> held;
    {
      std::lock_guard lock(held_mutex_);
      held.swap(held_);
    }
    for (auto& respond : held) respond(Answer::ok(true));
  }
  std::uint16_t port() const { return server_->port(); }

 private:
  net::io_context io_;
  MethodTable methods_;
  std::atomic<int> big_calls_{0};
  std::mutex held_mutex_;
  std::vector<Respond> held_;
  std::mutex answer_threads_mutex_;
  std::vector<std::thread> answer_threads_;
  std::unique_ptr<Server> server_;
  std::promise<void> run_returned_;
  std::future<void> run_future_ = run_returned_.get_future();
  std::thread thread_;
  std::vector<std::thread> extra_threads_;
};

// Runs one asynchronous client operation to completion on the client's own io_context.
template <class Start>
beast::error_code run_op(net::io_context& io, Start start) {
  beast::error_code result = net::error::would_block;
  start([&result](beast::error_code error, auto&&...) { result = error; });
  io.restart();
  io.run();
  return result;
}

using Response = http::response<http::string_body>;

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port) : stream_(io_) {
    stream_.expires_after(kClientTimeout);
    connect_error_ = run_op(io_, [&](auto handler) {
      stream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), handler);
    });
    REQUIRE_FALSE(connect_error_);
  }

  beast::error_code send(http::request<http::string_body> request) {
    request.prepare_payload();
    stream_.expires_after(kClientTimeout);
    return run_op(io_, [&](auto handler) { http::async_write(stream_, request, handler); });
  }

  beast::error_code send_raw(std::string_view bytes) {
    stream_.expires_after(kClientTimeout);
    return run_op(io_, [&](auto handler) {
      net::async_write(stream_, net::buffer(bytes.data(), bytes.size()), handler);
    });
  }

  beast::error_code receive(Response& response) {
    stream_.expires_after(kClientTimeout);
    return run_op(io_,
                  [&](auto handler) { http::async_read(stream_, buffer_, response, handler); });
  }

  // Past Beast's default 8 MiB body limit for responses.
  beast::error_code receive_large(Response& response) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    stream_.expires_after(kClientTimeout);
    const auto error =
        run_op(io_, [&](auto handler) { http::async_read(stream_, buffer_, parser, handler); });
    if (!error) response = parser.release();
    return error;
  }

  Response request(http::verb method, std::string target, std::string body = "") {
    http::request<http::string_body> request{method, target, 11};
    request.set(http::field::host, "127.0.0.1");
    if (!body.empty()) request.set(http::field::content_type, "application/json");
    request.body() = std::move(body);
    REQUIRE_FALSE(send(std::move(request)));
    Response response;
    const auto error = receive(response);
    REQUIRE_FALSE(error);
    return response;
  }

  Response post(std::string body) { return request(http::verb::post, "/", std::move(body)); }

  // Waits for the server to close the connection; the error says how (eof, reset, or timeout
  // when the server never closed it).
  beast::error_code wait_closed() {
    stream_.expires_after(kClientTimeout);
    std::array<char, 4096> scratch{};
    for (;;) {
      const auto error = run_op(
          io_, [&](auto handler) { stream_.async_read_some(net::buffer(scratch), handler); });
      if (error) return error;
    }
  }

 private:
  net::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  beast::error_code connect_error_;
};

bool closed_by_peer(const beast::error_code& error) {
  return error == net::error::eof || error == net::error::connection_reset ||
         error == http::error::end_of_stream || error == http::error::partial_message;
}

class WsClient {
 public:
  explicit WsClient(std::uint16_t port) : ws_(io_) {
    beast::get_lowest_layer(ws_).expires_after(kClientTimeout);
    REQUIRE_FALSE(run_op(io_, [&](auto handler) {
      beast::get_lowest_layer(ws_).async_connect(
          tcp::endpoint(net::ip::make_address("127.0.0.1"), port), handler);
    }));
    REQUIRE_FALSE(
        run_op(io_, [&](auto handler) { ws_.async_handshake("127.0.0.1", "/ws", handler); }));
  }

  beast::error_code try_send(const std::string& text) {
    beast::get_lowest_layer(ws_).expires_after(kClientTimeout);
    return run_op(io_, [&](auto handler) { ws_.async_write(net::buffer(text), handler); });
  }

  void send(const std::string& text) { REQUIRE_FALSE(try_send(text)); }

  beast::error_code receive(std::string& text) {
    beast::flat_buffer buffer;
    beast::get_lowest_layer(ws_).expires_after(kClientTimeout);
    const auto error = run_op(io_, [&](auto handler) { ws_.async_read(buffer, handler); });
    text = beast::buffers_to_string(buffer.data());
    return error;
  }

  std::string receive() {
    std::string text;
    const auto error = receive(text);
    REQUIRE_FALSE(error);
    return text;
  }

  std::string call(std::string request) {
    send(std::move(request));
    return receive();
  }

 private:
  net::io_context io_;
  websocket::stream<beast::tcp_stream> ws_;
};

std::string subscribe(WsClient& client, std::string_view params) {
  const json::value response =
      json::parse(client.call(R"({"jsonrpc":"2.0","id":9,"method":"perp_subscribe","params":)" +
                              std::string(params) + "}"));
  REQUIRE(response.as_object().contains("result"));
  return std::string(response.at("result").as_string());
}

std::string notification(std::string_view id, std::string_view result) {
  return R"({"jsonrpc":"2.0","method":"perp_subscription","params":{"subscription":")" +
         std::string(id) + R"(","result":)" + std::string(result) + "}}";
}

void publish_from_another_thread(Server& server, Topic topic, json::value result) {
  std::thread([&server, topic, result] { server.publish(topic, result); }).join();
}

const std::string kTooLarge =
    R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"request body larger than 1048576 bytes"}})";

}  // namespace

TEST_CASE("HTTP POST answers a single request and a batch on one keep-alive connection",
          "[rpc][server]") {
  TestServer server;
  HttpClient client(server.port());
  Response single = client.post(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"a":1}})");
  CHECK(single.result() == http::status::ok);
  CHECK(single[http::field::content_type] == "application/json");
  CHECK(single.body() == R"({"jsonrpc":"2.0","id":1,"result":{"a":1}})");
  CHECK(single.keep_alive());
  Response batch = client.post(
      R"([{"jsonrpc":"2.0","id":"b","method":"echo"},{"jsonrpc":"2.0","method":"echo"},)"
      R"({"jsonrpc":"2.0","id":2,"method":"echo","params":{"c":true}}])");
  CHECK(batch.body() ==
        R"([{"jsonrpc":"2.0","id":"b","result":{}},{"jsonrpc":"2.0","id":2,"result":{"c":true}}])");
  // Only notifications: nothing to answer.
  Response none = client.post(R"({"jsonrpc":"2.0","method":"echo"})");
  CHECK(none.result() == http::status::no_content);
  CHECK(none.body().empty());
}

TEST_CASE("HTTP POST maps bad requests to JSON-RPC errors with status 200", "[rpc][server]") {
  TestServer server;
  HttpClient client(server.port());
  Response invalid_json = client.post("{oops");
  CHECK(invalid_json.result() == http::status::ok);
  CHECK(
      invalid_json.body() ==
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error: syntax error"}})");
  CHECK(
      client.post(R"({"jsonrpc":"1.0","id":1,"method":"echo"})").body() ==
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"jsonrpc must be \"2.0\""}})");
  CHECK(client.post(R"({"jsonrpc":"2.0","id":1,"method":"nope"})").body() ==
        R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"method not found: nope"}})");
  CHECK(
      client.post(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":[1]})").body() ==
      R"({"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"params must be an object of named parameters"}})");
  // Whatever the content type says, the body is JSON-RPC.
  http::request<http::string_body> text_plain{http::verb::post, "/", 11};
  text_plain.set(http::field::content_type, "text/plain");
  text_plain.body() = R"({"jsonrpc":"2.0","id":5,"method":"echo"})";
  REQUIRE_FALSE(client.send(text_plain));
  Response response;
  REQUIRE_FALSE(client.receive(response));
  CHECK(response.body() == R"({"jsonrpc":"2.0","id":5,"result":{}})");
}

TEST_CASE("a batch of 1000 requests is refused with one -32600 error", "[rpc][server]") {
  TestServer server;
  HttpClient client(server.port());
  std::string batch = "[";
  for (int i = 0; i < 1000; ++i)
    batch += std::string(i ? "," : "") + R"({"jsonrpc":"2.0","id":)" + std::to_string(i) +
             R"(,"method":"echo"})";
  batch += "]";
  CHECK(
      client.post(batch).body() ==
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch of 1000 requests exceeds the limit of 100"}})");
}

TEST_CASE("a 2 MiB body gets 413 and the server keeps serving", "[rpc][server]") {
  TestServer server;
  {
    HttpClient client(server.port());
    http::request<http::string_body> request{http::verb::post, "/", 11};
    request.set(http::field::content_type, "application/json");
    request.body() = R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"pad":")" +
                     std::string(2 << 20, 'x') + R"("}})";
    // The server may answer before the upload ends; the response is what counts.
    const auto write_error = client.send(std::move(request));
    CHECK((!write_error || closed_by_peer(write_error) || write_error == net::error::broken_pipe));
    Response response;
    REQUIRE_FALSE(client.receive(response));
    CHECK(response.result() == http::status::payload_too_large);
    CHECK(response.body() == kTooLarge);
    CHECK_FALSE(response.keep_alive());
    CHECK(response[http::field::access_control_allow_origin] == "*");
  }
  {
    // Announced with Expect: 100-continue, the body is refused before it is sent.
    HttpClient client(server.port());
    REQUIRE_FALSE(
        client.send_raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n"
                        "Expect: 100-continue\r\n\r\n"));
    Response response;
    REQUIRE_FALSE(client.receive(response));
    CHECK(response.result() == http::status::payload_too_large);
    CHECK(response.body() == kTooLarge);
  }
  HttpClient next(server.port());
  CHECK(next.post(R"({"jsonrpc":"2.0","id":2,"method":"echo"})").body() ==
        R"({"jsonrpc":"2.0","id":2,"result":{}})");
}

TEST_CASE("a body announced with Expect 100-continue is read after the interim response",
          "[rpc][server]") {
  TestServer server;
  HttpClient client(server.port());
  const std::string body = R"({"jsonrpc":"2.0","id":3,"method":"echo"})";
  REQUIRE_FALSE(client.send_raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n\r\n"));
  Response interim;
  // Beast reads the 100 Continue as a complete response of its own.
  REQUIRE_FALSE(client.receive(interim));
  CHECK(interim.result() == http::status::continue_);
  REQUIRE_FALSE(client.send_raw(body));
  Response response;
  REQUIRE_FALSE(client.receive(response));
  CHECK(response.body() == R"({"jsonrpc":"2.0","id":3,"result":{}})");
}

TEST_CASE("every response carries CORS headers and OPTIONS is a preflight", "[rpc][server]") {
  TestServer server;
  HttpClient client(server.port());
  auto check_cors = [](const Response& response) {
    CHECK(response[http::field::access_control_allow_origin] == "*");
    CHECK(response[http::field::access_control_allow_headers] == "Content-Type");
    CHECK(response[http::field::access_control_allow_methods] == "POST, GET, OPTIONS");
  };
  Response preflight = client.request(http::verb::options, "/");
  CHECK(preflight.result() == http::status::no_content);
  check_cors(preflight);
  check_cors(client.request(http::verb::options, "/anything"));
  check_cors(client.post(R"({"jsonrpc":"2.0","id":1,"method":"echo"})"));
  check_cors(client.post("{"));
  check_cors(client.request(http::verb::get, "/health"));
  Response missing = client.request(http::verb::get, "/nowhere");
  check_cors(missing);
}

TEST_CASE("GET serves metrics and health and unknown paths get 404", "[rpc][server]") {
  TestServer server;
  HttpClient client(server.port());
  client.post(R"({"jsonrpc":"2.0","id":1,"method":"echo"})");
  Response metrics = client.request(http::verb::get, "/metrics");
  CHECK(metrics.result() == http::status::ok);
  CHECK(metrics[http::field::content_type] == "text/plain; version=0.0.4");
  CHECK(metrics.body().find("rpc_requests_total{method=\"echo\"} 1\n") != std::string::npos);
  CHECK(metrics.body().find("perpd_test_gauge 1\n") != std::string::npos);
  // The transport's own: this connection, nothing refused or waiting.
  CHECK(metrics.body().find("\nrpc_open_connections 1\n") != std::string::npos);
  CHECK(metrics.body().find("\nrpc_refused_connections_total 0\n") != std::string::npos);
  CHECK(metrics.body().find("\nrpc_unsent_answer_bytes 0\n") != std::string::npos);
  CHECK(metrics.body().find("\nrpc_busy_refusals_total 0\n") != std::string::npos);

  Response health = client.request(http::verb::get, "/health");
  CHECK(health.result() == http::status::ok);
  CHECK(health.body() == "ok");

  Response missing = client.request(http::verb::get, "/nowhere");
  CHECK(missing.result() == http::status::not_found);
  CHECK(
      missing.body() ==
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"no such endpoint: use POST / or GET /ws"}})");
  CHECK(client.request(http::verb::post, "/other", "{}").result() == http::status::not_found);
  CHECK(client.request(http::verb::get, "/").result() == http::status::method_not_allowed);
  CHECK(client.request(http::verb::get, "/ws").result() == http::status::upgrade_required);
}

TEST_CASE("silent and slow-loris connections are closed after idle_timeout", "[rpc][server]") {
  ServerConfig config;
  config.idle_timeout = 200ms;
  TestServer server(config);
  const auto started = std::chrono::steady_clock::now();
  HttpClient partial(server.port());
  HttpClient silent(server.port());
  REQUIRE_FALSE(partial.send_raw("POST / HTTP/1.1\r\nHost: x\r\n"));
  std::this_thread::sleep_for(150ms);
  // Trickling more header bytes does not extend the deadline of the request.
  REQUIRE_FALSE(partial.send_raw("X-Slow: 1\r\n"));
  CHECK(closed_by_peer(partial.wait_closed()));
  const auto partial_elapsed = std::chrono::steady_clock::now() - started;
  CHECK(closed_by_peer(silent.wait_closed()));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(partial_elapsed >= 150ms);
  CHECK(partial_elapsed < 340ms);  // 350 ms and more if the trickle had extended it
  CHECK(elapsed < 1000ms);
}

TEST_CASE("connections beyond max_connections are refused at once", "[rpc][server]") {
  ServerConfig config;
  config.max_connections = 2;
  TestServer server(config);
  const std::string request = R"({"jsonrpc":"2.0","id":1,"method":"echo"})";
  auto first = std::make_unique<HttpClient>(server.port());
  HttpClient second(server.port());
  // Answered requests prove both connections hold a slot.
  CHECK(first->post(request).result() == http::status::ok);
  CHECK(second.post(request).result() == http::status::ok);
  {
    HttpClient third(server.port());
    Response response;
    const auto error = third.receive(response);
    if (!error)
      CHECK(response.result() == http::status::service_unavailable);
    else
      CHECK(closed_by_peer(error));
  }
  // A slot frees once the server sees a connection close.
  first.reset();
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    HttpClient again(server.port());
    http::request<http::string_body> post{http::verb::post, "/", 11};
    post.body() = request;
    Response response;
    served = !again.send(post) && !again.receive(response) && response.result() == http::status::ok;
    if (!served) std::this_thread::sleep_for(10ms);
  }
  CHECK(served);
  // The third (and any retry refused above) counted.
  const std::string metrics = second.request(http::verb::get, "/metrics").body();
  CHECK(metrics.find("\nrpc_refused_connections_total ") != std::string::npos);
  CHECK(metrics.find("\nrpc_refused_connections_total 0\n") == std::string::npos);
}

TEST_CASE("WebSocket carries methods and batches", "[rpc][server]") {
  TestServer server;
  WsClient client(server.port());
  CHECK(client.call(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"w":1}})") ==
        R"({"jsonrpc":"2.0","id":1,"result":{"w":1}})");
  CHECK(
      client.call(
          R"([{"jsonrpc":"2.0","id":1,"method":"echo"},{"jsonrpc":"2.0","id":2,"method":"nope"}])") ==
      R"([{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"method not found: nope"}}])");
  CHECK(
      client.call("[") ==
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error: incomplete JSON"}})");
  // perp_subscribe exists only on WebSocket connections.
  HttpClient http_client(server.port());
  CHECK(
      http_client
          .post(R"({"jsonrpc":"2.0","id":1,"method":"perp_subscribe","params":{"type":"blocks"}})")
          .body() ==
      R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"method not found: perp_subscribe"}})");
}

TEST_CASE("WebSocket subscriptions deliver each publish once until unsubscribed", "[rpc][server]") {
  TestServer server;
  WsClient client(server.port());
  CHECK(
      client.call(
          R"({"jsonrpc":"2.0","id":1,"method":"perp_subscribe","params":{"type":"candles"}})") ==
      R"({"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"unknown subscription type"}})");
  CHECK(
      client.call(R"({"jsonrpc":"2.0","id":1,"method":"perp_subscribe","params":[]})") ==
      R"({"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"params must be an object of named parameters"}})");

  const std::string trades = subscribe(client, R"({"type":"trades","market":"BTC"})");
  const std::string blocks = subscribe(client, R"({"type":"blocks"})");
  CHECK(trades.starts_with("0x"));
  CHECK(trades != blocks);

  publish_from_another_thread(server.server(), Topic{"trades", "BTC"}, json::value{{"px", "1"}});
  CHECK(client.receive() == notification(trades, R"({"px":"1"})"));
  // Another market's trades go nowhere; the next message is the block, so the trade above came
  // exactly once and ETH's not at all.
  publish_from_another_thread(server.server(), Topic{"trades", "ETH"}, json::value{{"px", "2"}});
  publish_from_another_thread(server.server(), Topic{"blocks", ""}, json::value(7));
  CHECK(client.receive() == notification(blocks, "7"));

  CHECK(client.call(
            R"({"jsonrpc":"2.0","id":2,"method":"perp_unsubscribe","params":{"subscription":")" +
            trades + R"("}})") == R"({"jsonrpc":"2.0","id":2,"result":true})");
  CHECK(client.call(
            R"({"jsonrpc":"2.0","id":3,"method":"perp_unsubscribe","params":{"subscription":")" +
            trades + R"("}})") == R"({"jsonrpc":"2.0","id":3,"result":false})");
  CHECK(
      client.call(
          R"({"jsonrpc":"2.0","id":4,"method":"perp_unsubscribe","params":{"subscription":1}})") ==
      R"({"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"subscription must be a string"}})");
  publish_from_another_thread(server.server(), Topic{"trades", "BTC"}, json::value{{"px", "3"}});
  publish_from_another_thread(server.server(), Topic{"blocks", ""}, json::value(8));
  CHECK(client.receive() == notification(blocks, "8"));

  // A subscription belongs to its connection.
  WsClient other(server.port());
  CHECK(other.call(
            R"({"jsonrpc":"2.0","id":5,"method":"perp_unsubscribe","params":{"subscription":")" +
            blocks + R"("}})") == R"({"jsonrpc":"2.0","id":5,"result":false})");
}

TEST_CASE("a subscription made in a batch notifies only after the batch's answer",
          "[rpc][server]") {
  TestServer server;
  WsClient client(server.port());
  // The batch answers only when its second call does, after a publish on the new topic.
  client.send(R"([{"jsonrpc":"2.0","id":1,"method":"perp_subscribe","params":{"type":"blocks"}},)"
              R"({"jsonrpc":"2.0","id":2,"method":"publish_then_answer"}])");
  const json::value first = json::parse(client.receive());
  REQUIRE(first.is_array());
  const std::string id(first.as_array()[0].at("result").as_string());
  CHECK(first.as_array()[1].at("result") == true);
  // The publish made before the client had the id is not delivered; the next one is.
  publish_from_another_thread(server.server(), Topic{"blocks", ""}, json::object{{"n", 2}});
  CHECK(client.receive() == notification(id, R"({"n":2})"));
}

TEST_CASE("a WebSocket client that stops reading is dropped", "[rpc][server]") {
  TestServer server;
  WsClient client(server.port());
  const std::string id = subscribe(client, R"({"type":"blocks"})");
  // Far more than the socket buffers hold: the server's queue passes its bound.
  const json::value big(std::string(16 * 1024, 'x'));
  std::thread([&] {
    for (int i = 0; i < 3000; ++i) server.server().publish(Topic{"blocks", ""}, big);
  }).join();
  int received = 0;
  std::string text;
  while (!client.receive(text)) ++received;
  CHECK(received < 3000);
}

TEST_CASE("a WebSocket client gets thousands of answers that come at once", "[rpc][server]") {
  TestServer server;
  WsClient client(server.port());
  // As a client's perp_sendAction calls in one block all answer at its commit: more answers at
  // once than the bound on unsent notifications, which must not count them.
  constexpr int kCalls = 3000;
  for (int i = 0; i < kCalls; ++i)
    client.send(R"({"jsonrpc":"2.0","id":)" + std::to_string(i) + R"(,"method":"held"})");
  for (int waited = 0; server.held_calls() < kCalls && waited < 500; ++waited)
    std::this_thread::sleep_for(10ms);
  REQUIRE(server.held_calls() == kCalls);
  server.release_held();
  int answered = 0;
  std::string text;
  while (answered < kCalls && !client.receive(text)) {
    CHECK(json::parse(text).at("result") == true);
    ++answered;
  }
  CHECK(answered == kCalls);
}

TEST_CASE("a WebSocket client that sends but does not read makes the server stop reading",
          "[rpc][server]") {
  TestServer server;
  WsClient client(server.port());
  // 100 small requests whose answers are 1 MiB each: the server reads no further once ~4 MiB
  // of answers wait, instead of queueing all 100 MiB.
  for (int i = 0; i < 100; ++i)
    client.send(R"({"jsonrpc":"2.0","id":)" + std::to_string(i) + R"(,"method":"big"})");
  std::this_thread::sleep_for(500ms);
  // Those queued, those in the loopback socket buffers (a few MiB), and no more.
  CHECK(server.big_calls() < 30);
  // Nothing is lost: once the client reads, every answer comes, in order.
  for (int i = 0; i < 100; ++i) {
    const json::value answer = json::parse(client.receive());
    CHECK(answer.at("id") == i);
    CHECK(answer.at("result").as_string().size() == (1u << 20));
  }
}

TEST_CASE("past the bound on unsent answers new requests are refused as busy until they are read",
          "[rpc][server]") {
  ServerConfig config;
  config.max_unsent_answer_bytes = 2 << 20;
  TestServer server(config);
  // A batch with a 15 MiB answer that its client does not read: more than the loopback socket
  // buffers take, so several MiB stay with the server.
  HttpClient greedy(server.port());
  std::string batch = "[";
  for (int i = 0; i < 15; ++i)
    batch += (i ? "," : "") + std::string(R"({"jsonrpc":"2.0","id":)") + std::to_string(i) +
             R"(,"method":"big"})";
  batch += "]";
  http::request<http::string_body> request{http::verb::post, "/", 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::content_type, "application/json");
  request.body() = batch;
  REQUIRE_FALSE(greedy.send(std::move(request)));
  // Another client is refused once the answer is built, over HTTP and over a WebSocket.
  HttpClient other(server.port());
  const std::string echo = R"({"jsonrpc":"2.0","id":1,"method":"echo"})";
  Response refused;
  for (int tries = 0; tries < 200; ++tries) {
    refused = other.post(echo);
    if (refused.result() == http::status::service_unavailable) break;
    std::this_thread::sleep_for(10ms);
  }
  CHECK(refused.result() == http::status::service_unavailable);
  CHECK(json::parse(refused.body()).at("error").at("code") == -32603);
  CHECK(json::parse(refused.body()).at("error").at("message") ==
        "server busy: too many answers wait to be sent");
  WsClient ws(server.port());
  CHECK(json::parse(ws.call(echo)).at("error").at("code") == -32603);
  const std::string metrics = other.request(http::verb::get, "/metrics").body();
  CHECK(metrics.find("\nrpc_busy_refusals_total 0\n") == std::string::npos);
  CHECK(metrics.find("\nrpc_unsent_answer_bytes 0\n") == std::string::npos);
  // Once the greedy client reads its answer, whole, the others are served again.
  Response big;
  REQUIRE_FALSE(greedy.receive_large(big));
  CHECK(json::parse(big.body()).as_array().size() == 15);
  Response served;
  for (int tries = 0; tries < 200; ++tries) {
    served = other.post(echo);
    if (served.result() == http::status::ok) break;
    std::this_thread::sleep_for(10ms);
  }
  CHECK(served.body() == R"({"jsonrpc":"2.0","id":1,"result":{}})");
  CHECK(ws.call(echo) == R"({"jsonrpc":"2.0","id":1,"result":{}})");
}

TEST_CASE("a WebSocket message over 1 MiB closes the connection", "[rpc][server]") {
  TestServer server;
  WsClient client(server.port());
  // The server may refuse the frame from its header and close before the upload ends.
  (void)client.try_send(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"pad":")" +
                        std::string((1 << 20) + 16, 'x') + R"("}})");
  std::string text;
  CHECK(client.receive(text));
}

TEST_CASE("stop closes every connection and run returns", "[rpc][server]") {
  TestServer server;
  HttpClient idle_http(server.port());
  WsClient ws(server.port());
  CHECK(ws.call(R"({"jsonrpc":"2.0","id":1,"method":"echo"})") ==
        R"({"jsonrpc":"2.0","id":1,"result":{}})");
  CHECK(server.stopped_within(1s));
  CHECK(closed_by_peer(idle_http.wait_closed()));
  std::string text;
  CHECK(ws.receive(text));
}

TEST_CASE("a WebSocket connection holds at most max_subscriptions_per_connection",
          "[rpc][server]") {
  ServerConfig config;
  config.max_subscriptions_per_connection = 2;
  TestServer server(config);
  WsClient client(server.port());
  subscribe(client, R"({"type":"blocks"})");
  const std::string second = subscribe(client, R"({"type":"trades","market":"BTC"})");
  CHECK(
      client.call(
          R"({"jsonrpc":"2.0","id":1,"method":"perp_subscribe","params":{"type":"blocks"}})") ==
      R"({"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"at most 2 subscriptions per connection",)"
      R"("data":{"reason":"TooManySubscriptions","message":"at most 2 subscriptions per connection"}}})");
  client.call(R"({"jsonrpc":"2.0","id":2,"method":"perp_unsubscribe","params":{"subscription":")" +
              second + R"("}})");
  subscribe(client, R"({"type":"blocks"})");
}

TEST_CASE("publishes racing from many threads reach every subscriber once", "[rpc][server]") {
  TestServer server(ServerConfig{}, 2);
  WsClient first(server.port());
  WsClient second(server.port());
  const std::string first_id = subscribe(first, R"({"type":"trades","market":"BTC"})");
  const std::string second_id = subscribe(second, R"({"type":"trades","market":"BTC"})");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> publishers;
  for (int t = 0; t < kThreads; ++t)
    publishers.emplace_back([&server, t] {
      for (int i = 0; i < kPerThread; ++i)
        server.server().publish(Topic{"trades", "BTC"}, json::value(t * kPerThread + i));
    });
  // A request on the same connection meanwhile: its answer interleaves with notifications.
  first.send(R"({"jsonrpc":"2.0","id":1,"method":"echo"})");
  for (auto& publisher : publishers) publisher.join();
  for (auto* client : {&first, &second}) {
    const std::string& id = client == &first ? first_id : second_id;
    const int answers_expected = client == &first ? 1 : 0;
    std::vector<int> seen(kThreads * kPerThread, 0);
    int notifications = 0;
    int answers = 0;
    while (notifications < kThreads * kPerThread || answers < answers_expected) {
      const json::value message = json::parse(client->receive());
      if (!message.as_object().contains("method")) {
        CHECK(json::serialize(message) == R"({"jsonrpc":"2.0","id":1,"result":{}})");
        ++answers;
        continue;
      }
      CHECK(message.at("params").at("subscription").as_string() == id);
      ++seen.at(message.at("params").at("result").to_number<std::size_t>());
      ++notifications;
    }
    CHECK(answers == answers_expected);
    CHECK(std::count(seen.begin(), seen.end(), 1) == kThreads * kPerThread);
  }
}
