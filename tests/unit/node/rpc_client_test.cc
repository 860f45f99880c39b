// The JSON-RPC client's deadline holds for a node that accepts a connection and never answers.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <chrono>

#include "node/rpc_client.h"

TEST_CASE("rpc client: a node that accepts and never answers times out", "[node][rpc_client]") {
  namespace net = boost::asio;
  net::io_context io;
  // Listening, never accepting: the kernel completes the handshake, nothing ever reads or writes.
  net::ip::tcp::acceptor silent(io, {net::ip::make_address("127.0.0.1"), 0});
  const auto port = silent.local_endpoint().port();
  auto client = node::RpcClient::create("http://127.0.0.1:" + std::to_string(port),
                                        std::chrono::milliseconds(300));
  REQUIRE(client.ok());
  const auto started = std::chrono::steady_clock::now();
  auto answer = client->call("chain_status", boost::json::object{});
  const auto waited = std::chrono::steady_clock::now() - started;
  REQUIRE(std::holds_alternative<node::RpcError>(answer));
  CHECK(std::get<node::RpcError>(answer).code == 0);  // a transport failure
  CHECK(waited < std::chrono::seconds(5));            // not the hang it was
}
