#include "node/rpc_client.h"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cerrno>

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

namespace node {
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;

namespace {

// The connected socket as a synchronous stream whose every wait for the peer is bounded by the
// socket's own SO_RCVTIMEO / SO_SNDTIMEO (set at connect): a node that accepts and then stalls,
// or never answers, ends in beast::error::timeout instead of hanging the caller. Blocking Beast
// calls have no deadline; asynchronous ones doubled the load generator's CPU per call, and
// poll() before each read cost it ~10% of perp_orderBook's rate. This is one system call per
// read or write, as a plain blocking socket.
struct TimedSocket {
  int fd;

  static beast::error_code failure() {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return beast::error::timeout;
    return beast::error_code(errno, boost::system::system_category());
  }
  template <class Buffers>
  std::size_t read_some(const Buffers& buffers, beast::error_code& ec) {
    const boost::asio::mutable_buffer buffer = beast::buffers_front(buffers);
    for (;;) {
      const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n > 0) {
        ec = {};
        return static_cast<std::size_t>(n);
      }
      if (n == 0) {
        ec = boost::asio::error::eof;
        return 0;
      }
      if (errno == EINTR) continue;
      ec = failure();
      return 0;
    }
  }
  template <class Buffers>
  std::size_t write_some(const Buffers& buffers, beast::error_code& ec) {
    // All the pieces (a request's header and body) in one system call: sent one by one, the
    // second waited for the first's delayed acknowledgement (Nagle), 40 ms a request.
    std::array<iovec, 16> pieces;
    msghdr message{};
    message.msg_iov = pieces.data();
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && message.msg_iovlen < pieces.size();
         ++it) {
      const boost::asio::const_buffer piece(*it);
      if (piece.size() == 0) continue;
      pieces[message.msg_iovlen++] = {const_cast<void*>(piece.data()), piece.size()};
    }
    for (;;) {
      const ssize_t n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
      if (n >= 0) {
        ec = {};
        return static_cast<std::size_t>(n);
      }
      if (errno == EINTR) continue;
      ec = failure();
      return 0;
    }
  }
  template <class Buffers>
  std::size_t read_some(const Buffers& buffers) {
    beast::error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }
  template <class Buffers>
  std::size_t write_some(const Buffers& buffers) {
    beast::error_code ec;
    const std::size_t n = write_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }
};

}  // namespace

struct RpcClient::Impl {
  boost::asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  std::string host, port;
  std::chrono::milliseconds timeout{30'000};
  std::uint64_t next_id = 1;

  beast::error_code connect() {
    beast::error_code ec;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return ec;
    stream.emplace(io);
    // The stream's deadline holds for asynchronous operations only: the connect is one.
    stream->expires_after(timeout);
    ec = boost::asio::error::would_block;
    stream->async_connect(endpoints, [&ec](beast::error_code result, auto&&) { ec = result; });
    io.restart();
    io.run();
    if (!ec) {  // every later wait on the socket is bounded by the kernel (TimedSocket)
      const timeval limit{static_cast<time_t>(timeout.count() / 1000),
                          static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
      // The asynchronous connect left the descriptor non-blocking: TimedSocket wants it blocking.
      stream->socket().native_non_blocking(false, ec);
      const int fd = stream->socket().native_handle();
      if (!ec && (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
                  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0))
        ec = beast::error_code(errno, boost::system::system_category());
    }
    if (ec) stream.reset();
    return ec;
  }

  // One request/response; reconnects once if the kept-alive connection was closed (not after a
  // timeout: the node may still be working on the request).
  beast::error_code exchange(http::verb verb, const std::string& target, const std::string& body,
                             http::response<http::string_body>& response) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      beast::error_code ec;
      if (!stream && (ec = connect())) return ec;
      http::request<http::string_body> request{verb, target, 11};
      request.set(http::field::host, host);
      request.set(http::field::content_type, "application/json");
      request.keep_alive(true);
      request.body() = body;
      request.prepare_payload();
      TimedSocket socket{stream->socket().native_handle()};
      http::write(socket, request, ec);
      if (!ec) {
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 << 20);
        http::read(socket, buffer, parser, ec);
        if (!ec) {
          response = parser.release();
          if (!response.keep_alive()) stream.reset();
          return ec;
        }
      }
      stream.reset();
      if (attempt == 1 || ec == beast::error::timeout) return ec;
    }
    return {};
  }
};

RpcClient::RpcClient() : impl_(std::make_unique<Impl>()) {}
RpcClient::RpcClient(RpcClient&&) noexcept = default;
RpcClient& RpcClient::operator=(RpcClient&&) noexcept = default;
RpcClient::~RpcClient() = default;

state::Result<RpcClient> RpcClient::create(const std::string& url,
                                           std::chrono::milliseconds timeout) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size())
    return state::make_error(state::Reason::BadConfig,
                             "rpc url must be http://HOST:PORT, got " + url);
  RpcClient client;
  client.impl_->host = rest.substr(0, colon);
  client.impl_->port = rest.substr(colon + 1);
  client.impl_->timeout = timeout;
  return client;
}

std::variant<json::value, RpcError> RpcClient::call(const std::string& method, json::value params) {
  const std::uint64_t id = impl_->next_id++;
  json::object request{
      {"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  http::response<http::string_body> response;
  if (auto ec = impl_->exchange(http::verb::post, "/", json::serialize(request), response))
    return RpcError{0, "cannot reach the node: " + ec.message(), nullptr};
  json::error_code ec;
  json::value reply = json::parse(response.body(), ec);
  if (ec || !reply.is_object())
    return RpcError{
        0, "the node answered HTTP " + std::to_string(response.result_int()) + " without JSON-RPC",
        nullptr};
  const json::object& o = reply.as_object();
  if (const json::value* error = o.if_contains("error"); error && error->is_object()) {
    const json::object& e = error->as_object();
    RpcError out;
    if (const json::value* code = e.if_contains("code"); code && code->is_int64())
      out.code = static_cast<int>(code->get_int64());
    if (const json::value* message = e.if_contains("message"); message && message->is_string())
      out.message = std::string(message->get_string());
    if (const json::value* data = e.if_contains("data")) out.data = *data;
    return out;
  }
  if (const json::value* result = o.if_contains("result")) return *result;
  return RpcError{0, "the node's answer has neither result nor error", nullptr};
}

state::Result<std::pair<int, std::string>> RpcClient::post(const std::string& path,
                                                           const std::string& body,
                                                           const std::string& method) {
  http::response<http::string_body> response;
  const http::verb verb = http::string_to_verb(method);
  if (auto ec = impl_->exchange(verb == http::verb::unknown ? http::verb::post : verb, path, body,
                                response))
    return state::make_error(state::Reason::StorageError, "transport: " + ec.message());
  return std::pair{static_cast<int>(response.result_int()), response.body()};
}

}  // namespace node
