#include "rpc/server.h"

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "rpc/prometheus.h"

namespace rpc {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = net::ip::tcp;

// A WebSocket client that stops reading while notifications keep coming would otherwise grow
// the node's memory without bound; past this many unsent notifications, or unsent bytes of any
// message, it is disconnected. Answers are not counted against the first bound: a client's
// perp_sendAction calls all answer when their block commits, so one that sent a thousand in a
// block gets a thousand answers at once however fast it reads.
constexpr std::size_t kMaxQueuedNotifications = 1000;
constexpr std::size_t kMaxQueuedBytes = 64 << 20;
// Nor may requests keep coming while their answers wait to be sent (a small request can have a
// large answer): past this many unsent bytes the connection reads no further request until
// the client has taken enough of them.
constexpr std::size_t kReadPauseBytes = 4 << 20;
// After refusing an oversized body the server keeps reading (and discarding) for a while, so
// the client is not reset mid-upload and gets to read the 413 (the lingering close of nginx).
constexpr std::size_t kMaxLingerBytes = 4 << 20;
constexpr std::chrono::milliseconds kMaxLinger{2'000};
// accept() failing (out of file descriptors) would otherwise retry in a tight loop.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};
constexpr std::size_t kHeaderLimit = 16 * 1024;

constexpr std::string_view kCorsOrigin = "*";
constexpr std::string_view kCorsHeaders = "Content-Type";
constexpr std::string_view kCorsMethods = "POST, GET, OPTIONS";

std::string error_body(ErrorCode code, std::string message) {
  json::object error;
  error["code"] = static_cast<int>(code);
  error["message"] = std::move(message);
  json::object body;
  body["jsonrpc"] = "2.0";
  body["id"] = nullptr;
  body["error"] = std::move(error);
  return json::serialize(body);
}

std::string body_too_large_message(std::size_t limit) {
  return "request body larger than " + std::to_string(limit) + " bytes";
}

// Written with one non-blocking send to a connection over the limit, which is then closed.
std::string busy_response() {
  const std::string body = error_body(ErrorCode::InternalError, "too many connections");
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: "
         "close\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Headers: "
         "Content-Type\r\nAccess-Control-Allow-Methods: POST, GET, OPTIONS\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

constexpr std::string_view kBusyMessage = "server busy: too many answers wait to be sent";

// A connection's share of the server's unsent answer bytes: what it adds it gives back when it
// removes it or is destroyed.
class UnsentBytes {
 public:
  explicit UnsentBytes(std::atomic<std::size_t>& total) : total_(total) {}
  UnsentBytes(const UnsentBytes&) = delete;
  UnsentBytes& operator=(const UnsentBytes&) = delete;
  ~UnsentBytes() { total_ -= held_; }
  void add(std::size_t bytes) {
    held_ += bytes;
    total_ += bytes;
  }
  void remove(std::size_t bytes) {
    held_ -= bytes;
    total_ -= bytes;
  }
  void set(std::size_t bytes) {
    remove(held_);
    add(bytes);
  }
  std::size_t held() const { return held_; }

 private:
  std::atomic<std::size_t>& total_;
  std::size_t held_ = 0;
};

std::string subscription_id(std::uint64_t number) {
  std::array<char, 24> text{};
  std::snprintf(text.data(), text.size(), "0x%llx", static_cast<unsigned long long>(number));
  return text.data();
}

// A connection the server can close on stop(); close() may be called from any thread.
class Session {
 public:
  virtual ~Session() = default;
  virtual void close() = 0;
};

class WsSession;

// The server's shared state. ServerCore is this; sessions keep it alive through their slots.
struct ServerCore : std::enable_shared_from_this<ServerCore> {
  net::io_context& io;
  const ServerConfig config;
  const MethodTable& methods;
  const Server::TopicParser topics;
  const Server::MetricsSource metrics;
  tcp::acceptor acceptor;          // on its own strand
  net::steady_timer accept_retry;  // on the acceptor's strand
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  std::atomic<std::uint16_t> bound_port{0};
  std::atomic<std::uint64_t> next_subscription{1};
  std::atomic<std::size_t> unsent_answer_bytes{0};    // UnsentBytes of every connection
  std::atomic<std::uint64_t> busy_refusals{0};        // requests refused past the bound on it
  std::atomic<std::uint64_t> refused_connections{0};  // over max_connections

  // Whether a new request is refused now (and then counted as refused).
  bool refuse_as_busy() {
    if (unsent_answer_bytes.load() <= config.max_unsent_answer_bytes) return false;
    ++busy_refusals;
    return true;
  }

  // The transport's own figures for GET /metrics, beside the methods'.
  std::string prometheus_metrics() {
    std::size_t open = 0;
    {
      std::lock_guard lock(mutex);
      open = connections;
    }
    std::string out;
    auto add = [&out](const char* name, const char* type, const char* help, std::uint64_t value) {
      append_metric(out, name, type, help, std::to_string(value));
    };
    add("rpc_open_connections", "gauge", "HTTP and WebSocket connections open.", open);
    add("rpc_refused_connections_total", "counter",
        "Connections refused with a 503 as over the connection limit.", refused_connections.load());
    add("rpc_unsent_answer_bytes", "gauge",
        "Bytes of answers built but not yet taken by their clients, all connections.",
        unsent_answer_bytes.load());
    add("rpc_busy_refusals_total", "counter",
        "Requests refused as busy while unsent answers were past their bound.",
        busy_refusals.load());
    return out;
  }

  std::mutex mutex;  // guards the members below
  std::size_t connections = 0;
  std::uint64_t next_session = 0;
  std::map<std::uint64_t, std::weak_ptr<Session>> sessions;
  std::map<Topic, std::map<std::string, std::weak_ptr<WsSession>>> subscribers;

  ServerCore(net::io_context& io_, ServerConfig config_, const MethodTable& methods_,
             Server::TopicParser topics_, Server::MetricsSource metrics_)
      : io(io_),
        config(std::move(config_)),
        methods(methods_),
        topics(std::move(topics_)),
        metrics(std::move(metrics_)),
        acceptor(net::make_strand(io_)),
        accept_retry(acceptor.get_executor()) {}

  std::optional<std::string> start();
  void stop();
  void do_accept();
  void on_accept(beast::error_code error, tcp::socket socket);
  void publish(const Topic& topic, const json::value& result);

  // Session bookkeeping; the slot is released when the connection's last owner is destroyed.
  void release(std::uint64_t session_id) {
    std::lock_guard lock(mutex);
    sessions.erase(session_id);
    --connections;
  }
  void replace_session(std::uint64_t session_id, std::weak_ptr<Session> session) {
    std::lock_guard lock(mutex);
    sessions[session_id] = std::move(session);
  }
  void add_subscriber(const Topic& topic, const std::string& id, std::weak_ptr<WsSession> session) {
    std::lock_guard lock(mutex);
    subscribers[topic][id] = std::move(session);
  }
  void remove_subscriber(const Topic& topic, const std::string& id) {
    std::lock_guard lock(mutex);
    auto it = subscribers.find(topic);
    if (it == subscribers.end()) return;
    it->second.erase(id);
    if (it->second.empty()) subscribers.erase(it);
  }
};

// Holds one of max_connections; moves from the HTTP session to the WebSocket session on upgrade.
class ConnectionSlot {
 public:
  ConnectionSlot(std::shared_ptr<ServerCore> server, std::uint64_t id)
      : server_(std::move(server)), id_(id) {}
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ~ConnectionSlot() { server_->release(id_); }
  std::uint64_t id() const { return id_; }
  const std::shared_ptr<ServerCore>& server() const { return server_; }

 private:
  std::shared_ptr<ServerCore> server_;
  std::uint64_t id_;
};

template <class Response>
void add_cors(Response& response) {
  response.set(http::field::access_control_allow_origin, kCorsOrigin);
  response.set(http::field::access_control_allow_headers, kCorsHeaders);
  response.set(http::field::access_control_allow_methods, kCorsMethods);
}

class WsSession : public Session, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(beast::tcp_stream&& stream, std::unique_ptr<ConnectionSlot> slot)
      : ws_(std::move(stream)),
        executor_(ws_.get_executor()),
        slot_(std::move(slot)),
        server_(slot_->server()) {}

  ~WsSession() override { drop_subscriptions(); }

  // On the connection's strand.
  void run(const http::request<http::string_body>& upgrade) {
    std::weak_ptr<WsSession> weak = weak_from_this();
    session_methods_["perp_subscribe"] = [weak](const json::object& params, Respond respond) {
      if (auto self = weak.lock()) return self->subscribe(params, std::move(respond));
      respond(Answer::fail(ErrorCode::InternalError, "connection closed"));
    };
    session_methods_["perp_unsubscribe"] = [weak](const json::object& params, Respond respond) {
      if (auto self = weak.lock()) return self->unsubscribe(params, std::move(respond));
      respond(Answer::fail(ErrorCode::InternalError, "connection closed"));
    };
    // The WebSocket keeps its own timers from here on: the handshake must finish, and a peer
    // that answers no ping within idle_timeout is dropped.
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = server_->config.idle_timeout;
    timeout.idle_timeout = server_->config.idle_timeout;
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.read_message_max(server_->methods.limits().max_body_bytes);
    ws_.async_accept(upgrade, beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
  }

  void close() override {
    net::post(executor_, [self = shared_from_this()] { self->finish(); });
  }

  // Queues a notification; any thread.
  void deliver(std::string message) {
    net::post(executor_, [self = shared_from_this(), message = std::move(message)]() mutable {
      self->send(std::move(message), Kind::Notification);
    });
  }

 private:
  void on_accept(beast::error_code error) {
    if (error) return finish();
    open_ = true;
    if (!queue_.empty()) do_write();
    do_read();
  }

  void do_read() {
    reading_ = true;
    ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code error, std::size_t) {
    reading_ = false;
    if (error) return finish();
    std::string request = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (server_->refuse_as_busy())
      send(error_body(ErrorCode::InternalError, std::string(kBusyMessage)), Kind::Answer);
    else
      dispatch_request(request);
    if (unsent_.held() < kReadPauseBytes) do_read();  // else on_write reads again
  }

  void dispatch_request(const std::string& request) {
    // Subscriptions this message makes start receiving once its answer is queued: a batch is
    // answered when its last call is, and a notification must not come before the client has
    // the subscription's id (as geth activates eth_subscribe).
    auto made = std::make_shared<std::vector<std::string>>();
    subscriptions_made_ = made.get();
    // Answers may come from any thread; dispatch runs them inline when already on the strand.
    server_->methods.dispatch(
        request,
        [self = shared_from_this(), made](std::string response) {
          net::dispatch(self->executor_, [self, made, response = std::move(response)]() mutable {
            // Both in one turn of the strand: a notification of a subscription made active here
            // is posted to the strand, so it is queued after the answer. Activated first, as the
            // write may reach the client before this returns.
            self->activate(*made);
            if (!response.empty()) self->send(std::move(response), Kind::Answer);
          });
        },
        &session_methods_);
    subscriptions_made_ = nullptr;
  }

  // On the strand: the subscriptions still held (not dropped by an unsubscribe or the close).
  void activate(const std::vector<std::string>& ids) {
    if (closed_) return;
    for (const std::string& id : ids)
      if (auto it = subscriptions_.find(id); it != subscriptions_.end())
        server_->add_subscriber(it->second, id, weak_from_this());
  }

  enum class Kind { Answer, Notification };
  void send(std::string message, Kind kind) {
    if (closed_) return;
    const bool notification = kind == Kind::Notification;
    if ((notification && queued_notifications_ >= kMaxQueuedNotifications) ||
        unsent_.held() + message.size() > kMaxQueuedBytes)
      return finish();
    unsent_.add(message.size());
    queued_notifications_ += notification;
    queue_.push_back({std::move(message), notification});
    if (queue_.size() == 1 && open_) do_write();
  }

  void do_write() {
    ws_.text(true);
    ws_.async_write(net::buffer(queue_.front().text),
                    beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code error, std::size_t) {
    if (error) return finish();
    unsent_.remove(queue_.front().text.size());
    queued_notifications_ -= queue_.front().notification;
    queue_.pop_front();
    if (closed_) return;
    if (!queue_.empty()) do_write();
    if (!reading_ && unsent_.held() < kReadPauseBytes) do_read();
  }

  // Closes the socket, which aborts the pending read and write; on the strand.
  void finish() {
    if (closed_) return;
    closed_ = true;
    drop_subscriptions();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  void drop_subscriptions() {
    for (const auto& [id, topic] : subscriptions_) server_->remove_subscriber(topic, id);
    subscriptions_.clear();
  }

  void subscribe(const json::object& params, Respond respond) {
    if (closed_) return respond(Answer::fail(ErrorCode::InternalError, "connection closed"));
    if (!server_->topics)
      return respond(Answer::fail(ErrorCode::MethodNotFound, "subscriptions are not available"));
    if (subscriptions_.size() >= server_->config.max_subscriptions_per_connection)
      return respond(Answer::rejected(
          "TooManySubscriptions",
          "at most " + std::to_string(server_->config.max_subscriptions_per_connection) +
              " subscriptions per connection"));
    Error error{ErrorCode::InvalidParams, "invalid subscription parameters", std::nullopt};
    std::optional<Topic> topic = server_->topics(params, error);
    if (!topic) return respond(Answer::fail(error.code, error.message, error.data));
    std::string id = subscription_id(server_->next_subscription++);
    subscriptions_.emplace(id, *topic);
    if (subscriptions_made_)
      subscriptions_made_->push_back(id);  // activated once the answer is queued (on_read)
    else
      server_->add_subscriber(*topic, id, weak_from_this());
    respond(Answer::ok(json::value(id)));
  }

  void unsubscribe(const json::object& params, Respond respond) {
    const json::value* id = params.if_contains("subscription");
    if (!id || !id->is_string())
      return respond(Answer::fail(ErrorCode::InvalidParams, "subscription must be a string"));
    auto it = subscriptions_.find(std::string_view(id->get_string()));
    if (it == subscriptions_.end()) return respond(Answer::ok(false));
    server_->remove_subscriber(it->second, it->first);
    subscriptions_.erase(it);
    respond(Answer::ok(true));
  }

  websocket::stream<beast::tcp_stream> ws_;
  net::any_io_executor executor_;
  std::unique_ptr<ConnectionSlot> slot_;
  std::shared_ptr<ServerCore> server_;
  beast::flat_buffer buffer_;
  struct Queued {
    std::string text;
    bool notification;
  };
  std::deque<Queued> queue_;  // front() is being written while a write is pending
  UnsentBytes unsent_{server_->unsent_answer_bytes};  // of the messages in queue_
  std::size_t queued_notifications_ = 0;              // of the messages in queue_
  bool reading_ = false;                              // a read is pending
  std::map<std::string, Topic, std::less<>> subscriptions_;
  // While a message is dispatched: where perp_subscribe notes the ids it makes.
  std::vector<std::string>* subscriptions_made_ = nullptr;
  MethodTable::SessionMethods session_methods_;
  bool open_ = false;
  bool closed_ = false;
};

class HttpSession : public Session, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, std::unique_ptr<ConnectionSlot> slot)
      : stream_(std::move(socket)),
        executor_(stream_.get_executor()),
        slot_(std::move(slot)),
        server_(slot_->server()) {}

  void run() {
    net::dispatch(executor_, beast::bind_front_handler(&HttpSession::do_read, shared_from_this()));
  }

  void close() override {
    net::post(executor_, [self = shared_from_this()] {
      if (self->closed_) return;
      self->closed_ = true;
      if (self->upgraded_) return;
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.close();
    });
  }

 private:
  using Response = http::response<http::string_body>;

  void do_read() {
    if (closed_) return;
    parser_.emplace();
    parser_->body_limit(server_->methods.limits().max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    // One deadline for the whole request, so a client trickling a header byte by byte (slow
    // loris) is dropped as surely as a silent one.
    stream_.expires_after(server_->config.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
  }

  void on_header(beast::error_code error, std::size_t) {
    if (error) return on_read_error(error);
    // curl and others wait for 100 Continue before sending a large body.
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      return net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                              [self = shared_from_this()](beast::error_code error, std::size_t) {
                                if (error) return self->stream_.close();
                                self->read_body();
                              });
    }
    read_body();
  }

  void read_body() {
    // Beast reads max(512, spare capacity) bytes per call, and the body leaves the buffer as it
    // is parsed, so a 40 KB batch took ~80 reads; room for the body makes it a few. Only a
    // connection that sends a large request gets it (64 KiB at most), kept until it closes.
    if (const auto length = parser_->content_length(); length && *length > 4096)
      buffer_.reserve(std::min<std::size_t>(buffer_.size() + *length, 64 * 1024));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read_error(beast::error_code error) {
    if (error == http::error::body_limit)
      return write(make_error(http::status::payload_too_large, ErrorCode::InvalidRequest,
                              body_too_large_message(server_->methods.limits().max_body_bytes)),
                   Close::Lingering);
    if (error == http::error::end_of_stream || error == http::error::partial_message ||
        error.category() != http::make_error_code(http::error::bad_method).category())
      return stream_.close();  // peer gone, timed out or closed by stop()
    write(make_error(http::status::bad_request, ErrorCode::InvalidRequest,
                     "malformed HTTP request: " + error.message()),
          Close::Lingering);
  }

  void on_read(beast::error_code error, std::size_t) {
    if (error) return on_read_error(error);
    handle(parser_->release());
  }

  void handle(http::request<http::string_body> request) {
    keep_alive_ = request.keep_alive();
    version_ = request.version();
    std::string_view target = request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    const http::verb method = request.method();

    if (websocket::is_upgrade(request)) {
      if (path == "/ws") return upgrade(request);
      return write(not_found(), Close::No);
    }
    if (method == http::verb::options) {
      Response response{http::status::no_content, version_};
      add_cors(response);
      response.set(http::field::access_control_max_age, "86400");
      return write(std::move(response), Close::No);
    }
    if (path == "/") {
      if (method != http::verb::post) return write(method_not_allowed("POST, OPTIONS"), Close::No);
      if (server_->refuse_as_busy())
        return write(make_error(http::status::service_unavailable, ErrorCode::InternalError,
                                std::string(kBusyMessage)),
                     Close::No);
      return dispatch(std::move(request.body()));
    }
    if (path == "/metrics" || path == "/health") {
      if (method != http::verb::get) return write(method_not_allowed("GET, OPTIONS"), Close::No);
      if (path == "/health")
        return write(make_text(http::status::ok, "text/plain", "ok"), Close::No);
      std::string text = server_->methods.prometheus_metrics() + server_->prometheus_metrics();
      // The node's callback runs on an io thread, where an exception would end run().
      if (server_->metrics) {
        try {
          text += server_->metrics();
        } catch (...) {
          return write(make_error(http::status::internal_server_error, ErrorCode::InternalError,
                                  "metrics unavailable"),
                       Close::No);
        }
      }
      return write(make_text(http::status::ok, "text/plain; version=0.0.4", std::move(text)),
                   Close::No);
    }
    if (path == "/ws") {
      Response response = make_error(http::status::upgrade_required, ErrorCode::InvalidRequest,
                                     "GET /ws needs a WebSocket upgrade");
      response.set(http::field::upgrade, "websocket");
      return write(std::move(response), Close::No);
    }
    write(not_found(), Close::No);
  }

  void dispatch(std::string body) {
    // A method may take as long as a block commit; the deadline applies to reads and writes.
    stream_.expires_never();
    server_->methods.dispatch(body, [self = shared_from_this()](std::string response) {
      net::post(self->executor_, [self, response = std::move(response)]() mutable {
        if (response.empty())  // only notifications: nothing to answer
          return self->write(Response{http::status::no_content, self->version_}, Close::No);
        self->write(
            make_text(http::status::ok, "application/json", std::move(response), self->version_),
            Close::No);
      });
    });
  }

  void upgrade(const http::request<http::string_body>& request) {
    if (closed_) return;
    upgraded_ = true;
    const std::uint64_t id = slot_->id();
    auto session = std::make_shared<WsSession>(std::move(stream_), std::move(slot_));
    server_->replace_session(id, session);
    // stop() may have listed the sessions before the line above, and this one's close() returns
    // once upgraded: the new session must not outlive the server's stop.
    if (server_->stopped) return session->close();
    session->run(request);
  }

  enum class Close { No, Lingering };

  Response make_text(http::status status, std::string_view content_type, std::string body) const {
    return make_text(status, content_type, std::move(body), version_);
  }
  static Response make_text(http::status status, std::string_view content_type, std::string body,
                            unsigned version) {
    Response response{status, version};
    response.set(http::field::content_type, content_type);
    response.body() = std::move(body);
    return response;
  }
  Response make_error(http::status status, ErrorCode code, std::string message) const {
    return make_text(status, "application/json", error_body(code, std::move(message)));
  }
  Response not_found() const {
    return make_error(http::status::not_found, ErrorCode::InvalidRequest,
                      "no such endpoint: use POST / or GET /ws");
  }
  Response method_not_allowed(std::string_view allow) const {
    Response response = make_error(http::status::method_not_allowed, ErrorCode::InvalidRequest,
                                   "method not allowed");
    response.set(http::field::allow, allow);
    return response;
  }

  void write(Response response, Close close) {
    if (closed_) return;
    add_cors(response);
    response.keep_alive(keep_alive_ && close == Close::No);
    response.prepare_payload();
    response_ = std::move(response);
    unsent_.set(response_.body().size());
    stream_.expires_after(server_->config.idle_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this(), close](beast::error_code error, std::size_t) {
                        self->on_write(error, close);
                      });
  }

  void on_write(beast::error_code error, Close close) {
    // Written or failed, the answer is no longer held for its client (nor its memory).
    unsent_.set(0);
    response_.body() = std::string();
    if (error) return stream_.close();
    if (close == Close::Lingering) return linger();
    if (!response_.keep_alive()) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;  // the socket closes with the session
    }
    do_read();
  }

  // Reads and discards what the client still sends after a refusal, so closing does not reset
  // the connection before the client has read the response.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    lingered_bytes_ = 0;
    stream_.expires_after(
        std::min<std::chrono::milliseconds>(server_->config.idle_timeout, kMaxLinger));
    do_drain();
  }

  void do_drain() {
    stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](
                                                     beast::error_code error, std::size_t bytes) {
      self->lingered_bytes_ += bytes;
      if (error || self->closed_ || self->lingered_bytes_ > kMaxLingerBytes)
        return self->stream_.close();
      self->do_drain();
    });
  }

  beast::tcp_stream stream_;
  net::any_io_executor executor_;
  std::unique_ptr<ConnectionSlot> slot_;
  std::shared_ptr<ServerCore> server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;
  UnsentBytes unsent_{server_->unsent_answer_bytes};  // response_'s body until written
  bool keep_alive_ = false;
  unsigned version_ = 11;
  bool closed_ = false;
  bool upgraded_ = false;
  std::size_t lingered_bytes_ = 0;
  std::array<char, 16 * 1024> drain_{};
};

std::optional<std::string> ServerCore::start() {
  if (started.exchange(true)) return "server already started";
  beast::error_code error;
  tcp::endpoint endpoint;
  const auto address = net::ip::make_address(config.host, error);
  if (!error) {
    endpoint = tcp::endpoint(address, config.port);
  } else {
    tcp::resolver resolver(io);
    auto results =
        resolver.resolve(config.host, std::to_string(config.port), tcp::resolver::passive, error);
    if (error || results.empty())
      return "cannot resolve RPC host " + config.host + ": " + error.message();
    endpoint = results.begin()->endpoint();
  }
  const std::string where = config.host + ":" + std::to_string(config.port);
  if (acceptor.open(endpoint.protocol(), error); error)
    return "cannot open RPC socket " + where + ": " + error.message();
  if (acceptor.set_option(net::socket_base::reuse_address(true), error); error)
    return "cannot set SO_REUSEADDR on " + where + ": " + error.message();
  if (acceptor.bind(endpoint, error); error)
    return "cannot bind RPC port " + where + ": " + error.message();
  if (acceptor.listen(net::socket_base::max_listen_connections, error); error)
    return "cannot listen on " + where + ": " + error.message();
  const auto local = acceptor.local_endpoint(error);
  if (error) return "cannot read the RPC port: " + error.message();
  bound_port = local.port();
  net::post(acceptor.get_executor(), [self = shared_from_this()] { self->do_accept(); });
  return std::nullopt;
}

void ServerCore::do_accept() {
  if (stopped) return;
  acceptor.async_accept(net::make_strand(io),
                        beast::bind_front_handler(&ServerCore::on_accept, shared_from_this()));
}

void ServerCore::on_accept(beast::error_code error, tcp::socket socket) {
  if (stopped || error == net::error::operation_aborted) return;
  if (error) {
    accept_retry.expires_after(kAcceptRetryDelay);
    accept_retry.async_wait([self = shared_from_this()](beast::error_code wait_error) {
      if (!wait_error) self->do_accept();
    });
    return;
  }
  std::uint64_t id = 0;
  bool admitted = false;
  {
    std::lock_guard lock(mutex);
    if (connections < config.max_connections) {
      admitted = true;
      ++connections;
      id = next_session++;
    }
  }
  if (!admitted) {
    ++refused_connections;
    // Refused without keeping the descriptor: one non-blocking attempt at a 503, then close.
    static const std::string busy = busy_response();
    beast::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(net::buffer(busy), ignored);
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    return do_accept();
  }
  // Responses are written whole; Nagle would only hold small ones back for the peer's ACK.
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto slot = std::make_unique<ConnectionSlot>(shared_from_this(), id);
  auto session = std::make_shared<HttpSession>(std::move(socket), std::move(slot));
  {
    std::lock_guard lock(mutex);
    sessions[id] = session;
  }
  // stop() sets the flag before it collects the sessions, so a session registered after that
  // collection sees the flag here.
  if (stopped)
    session->close();
  else
    session->run();
  do_accept();
}

void ServerCore::stop() {
  if (stopped.exchange(true)) return;
  net::post(acceptor.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor.close(ignored);
    self->accept_retry.cancel();
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(mutex);
    for (const auto& [id, weak] : sessions)
      if (auto session = weak.lock()) live.push_back(std::move(session));
    subscribers.clear();
  }
  for (const auto& session : live) session->close();
}

void ServerCore::publish(const Topic& topic, const json::value& result) {
  if (stopped) return;
  std::vector<std::pair<std::shared_ptr<WsSession>, std::string>> targets;
  {
    std::lock_guard lock(mutex);
    auto it = subscribers.find(topic);
    if (it == subscribers.end()) return;
    for (const auto& [id, weak] : it->second)
      if (auto session = weak.lock()) targets.emplace_back(std::move(session), id);
  }
  if (targets.empty()) return;
  // The result is serialized once; only the subscription id differs between subscribers.
  const std::string result_text = json::serialize(result);
  for (auto& [session, id] : targets)
    session->deliver(R"({"jsonrpc":"2.0","method":"perp_subscription","params":{"subscription":")" +
                     id + R"(","result":)" + result_text + "}}");
}

}  // namespace

struct Server::Impl : ServerCore {
  using ServerCore::ServerCore;
};

Server::Server(net::io_context& io, ServerConfig config, const MethodTable& methods,
               TopicParser topics, MetricsSource metrics)
    : impl_(std::make_shared<Impl>(io, std::move(config), methods, std::move(topics),
                                   std::move(metrics))) {}

Server::~Server() {
  impl_->stop();
}

std::optional<std::string> Server::start() {
  return impl_->start();
}

std::uint16_t Server::port() const {
  return impl_->bound_port;
}

void Server::stop() {
  impl_->stop();
}

void Server::publish(const Topic& topic, json::value result) {
  impl_->publish(topic, result);
}

bool Server::has_subscribers(const Topic& topic) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->subscribers.contains(topic);
}

}  // namespace rpc
