// perpd as a real process on a free 127.0.0.1 port, driven over JSON-RPC: orders rest, cross and
// fill; queries answer in SPEC section 5's shapes; a WebSocket subscriber sees the fill; bad input
// gets its named error while the node stays up; kill -9 mid-load loses no acknowledged action.
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <mutex>

#include "node/order_json.h"
#include "perpd_process.h"
#include "state/crypto.h"
#include "state/envelope.h"
#include "state/kv_store.h"

namespace json = boost::json;
using perpd_test::PerpdProcess;

namespace {

json::value ok(std::variant<json::value, node::RpcError> answer) {
  if (auto* error = std::get_if<node::RpcError>(&answer))
    FAIL("rpc error " << error->code << " " << error->message << " "
                      << json::serialize(error->data));
  return std::get<json::value>(answer);
}

node::RpcError err(std::variant<json::value, node::RpcError> answer) {
  if (auto* value = std::get_if<json::value>(&answer))
    FAIL("expected an error, got " << json::serialize(*value));
  return std::get<node::RpcError>(answer);
}

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// Signs actions for one chain with increasing nonces.
class Wallet {
 public:
  Wallet(std::uint64_t chain_id, state::SecretKey key)
      : verifier_(chain_id), key_(key), nonce_(now_ms()) {}
  state::Address address() const { return state::address_of(key_); }
  std::string checksum() const { return state::to_checksum_address(address()); }
  json::object envelope(const json::object& action) {
    auto parsed = state::action_from_json(action);
    REQUIRE(parsed.ok());
    return state::envelope_to_json(verifier_.sign(std::move(*parsed), nonce_++, key_));
  }
  json::object envelope_with_nonce(const json::object& action, std::uint64_t nonce) {
    auto parsed = state::action_from_json(action);
    REQUIRE(parsed.ok());
    return state::envelope_to_json(verifier_.sign(std::move(*parsed), nonce, key_));
  }

 private:
  state::EnvelopeVerifier verifier_;
  state::SecretKey key_;
  std::uint64_t nonce_;
};

json::object order(const std::string& market, bool buy, const std::string& px,
                   const std::string& sz, const std::string& tif = "Gtc") {
  return node::order_action_json(json::array{node::order_spec_json(market, buy, px, sz, tif)});
}

std::uint64_t chain_id(node::RpcClient& client) {
  return ok(client.call("chain_status", json::object{})).at("chainId").to_number<std::uint64_t>();
}

// A synchronous WebSocket client with a read timeout.
class WsClient {
 public:
  explicit WsClient(std::uint16_t port) : ws_(io_) {
    boost::asio::ip::tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve("127.0.0.1", std::to_string(port));
    boost::beast::get_lowest_layer(ws_).connect(endpoints);
    ws_.handshake("127.0.0.1", "/ws");
  }
  void send(const json::value& v) { ws_.write(boost::asio::buffer(json::serialize(v))); }
  // The next message, or null after timeout.
  json::value read(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    boost::beast::get_lowest_layer(ws_).expires_after(timeout);
    boost::beast::flat_buffer buffer;
    boost::beast::error_code ec;
    ws_.read(buffer, ec);
    if (ec) return nullptr;
    return json::parse(boost::beast::buffers_to_string(buffer.data()));
  }

 private:
  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
};

}  // namespace

TEST_CASE(
    "perpd: orders rest cross and fill - queries in SPEC shapes - a websocket subscriber sees the "
    "fill",
    "[integration]") {
  PerpdProcess perpd;
  perpd.start();
  auto client = std::move(*node::RpcClient::create(perpd.url()));
  const std::uint64_t chain = chain_id(client);
  Wallet a(chain, perpd.validator_key());
  Wallet b(chain, node::generate_secret_key());

  // A funds B.
  json::value sent = ok(client.call(
      "perp_sendAction",
      a.envelope({{"type", "usdSend"}, {"destination", b.checksum()}, {"amount", "100000"}})));
  CHECK(sent.at("status") == "ok");
  CHECK(sent.at("height").to_number<std::uint64_t>() >= 1);

  WsClient ws(perpd.port());
  ws.send(json::object{{"jsonrpc", "2.0"},
                       {"id", 1},
                       {"method", "perp_subscribe"},
                       {"params", {{"type", "user"}, {"user", b.checksum()}}}});
  json::value subscribed = ws.read();
  REQUIRE(subscribed.is_object());
  REQUIRE(subscribed.as_object().contains("result"));
  // A book of no market: the -32000 UnknownMarket every query naming one answers.
  ws.send(json::object{{"jsonrpc", "2.0"},
                       {"id", 2},
                       {"method", "perp_subscribe"},
                       {"params", {{"type", "l2Book"}, {"market", "DOGE"}}}});
  json::value unknown_book = ws.read();
  CHECK(unknown_book.at("error").at("code") == -32000);
  CHECK(unknown_book.at("error").at("data").at("reason") == "UnknownMarket");

  // A rests 0.1 BTC at 65,000; the book shows it.
  json::value rested =
      ok(client.call("perp_sendAction", a.envelope(order("BTC", false, "65000", "0.1"))));
  const json::value& status = rested.at("response").at("statuses").at(0);
  REQUIRE(status.as_object().contains("resting"));
  const std::uint64_t oid = status.at("resting").at("oid").to_number<std::uint64_t>();
  json::value book = ok(client.call("perp_orderBook", json::object{{"market", "BTC"}}));
  CHECK(json::serialize(book.at("asks")) == R"([{"px":"65000","sz":"0.1","n":1}])");
  CHECK(book.at("bids").as_array().empty());
  json::value open = ok(client.call("perp_openOrders", json::object{{"user", a.checksum()}}));
  REQUIRE(open.as_array().size() == 1);
  CHECK(open.at(0).at("oid").to_number<std::uint64_t>() == oid);
  CHECK(open.at(0).at("side") == "A");

  // B takes it: filled 0.1 at 65,000; taker fee 0.045% of 6,500 = 2.925.
  json::value filled =
      ok(client.call("perp_sendAction", b.envelope(order("BTC", true, "65000", "0.1", "Ioc"))));
  const json::value& f = filled.at("response").at("statuses").at(0).at("filled");
  CHECK(f.at("totalSz") == "0.1");
  CHECK(f.at("avgPx") == "65000");
  json::value account = ok(client.call("perp_account", json::object{{"user", b.checksum()}}));
  CHECK(account.at("usd") == "99997.075");
  REQUIRE(account.at("positions").as_array().size() == 1);
  CHECK(account.at("positions").at(0).at("szi") == "0.1");
  CHECK(account.at("positions").at(0).at("entryPx") == "65000");
  json::value fills = ok(client.call("perp_fills", json::object{{"user", b.checksum()}}));
  REQUIRE(fills.as_array().size() == 1);
  CHECK(fills.at(0).at("px") == "65000");
  CHECK(fills.at(0).at("side") == "B");
  CHECK(fills.at(0).at("dir") == "Open Long");
  CHECK(fills.at(0).at("fee") == "2.925");
  CHECK(
      ok(client.call("perp_openOrders", json::object{{"user", a.checksum()}})).as_array().empty());
  json::value tx = ok(client.call("chain_getTx", json::object{{"hash", filled.at("txHash")}}));
  CHECK(tx.at("signer") == json::value(b.checksum()));
  CHECK(tx.at("action").at("type") == "order");
  CHECK(tx.at("result").at("status") == "ok");
  // Rendered from the stored record: the same response the submitter was answered with.
  CHECK(tx.at("result").at("response") == filled.at("response"));
  CHECK(tx.at("action").at("orders").at(0).at("px") == "65000");
  // Its block lists it among its transactions' hashes.
  json::value block = ok(client.call("chain_getBlock", json::object{{"height", tx.at("height")}}));
  const json::array& hashes = block.at("txs").as_array();
  CHECK(hashes.size() > tx.at("index").to_number<std::size_t>());
  CHECK(std::find(hashes.begin(), hashes.end(), filled.at("txHash")) != hashes.end());

  // The subscriber saw B's fill.
  bool seen = false;
  for (int i = 0; i < 5 && !seen; ++i) {
    json::value note = ws.read();
    if (note.is_null()) break;
    if (note.at("method") == "perp_subscription") {
      const auto& list = note.at("params").at("result").at("fills").as_array();
      seen = !list.empty() && list.at(0).at("px") == "65000";
    }
  }
  CHECK(seen);
  // Prometheus metrics: the node's gauges and the RPC layer's counters.
  auto metrics = client.post("/metrics", "", "GET");
  REQUIRE(metrics.ok());
  CHECK(metrics->first == 200);
  CHECK(metrics->second.find("perpd_height ") != std::string::npos);
  CHECK(metrics->second.find("perpd_block_execution_seconds") != std::string::npos);
  CHECK(metrics->second.find("perpd_mempool_txs") != std::string::npos);
  CHECK(metrics->second.find("rpc_requests_total{method=\"perp_sendAction\"}") !=
        std::string::npos);
  CHECK(perpd.stop(SIGTERM));  // SIGTERM stops it cleanly (exit status 0)
}

TEST_CASE("perpd: a damaged or missing database is a clear error - never a crash",
          "[integration]") {
  PerpdProcess perpd;
  perpd.start();
  perpd.stop(SIGTERM);
  const auto db = perpd.home() / "data" / "chain";
  // Garbage in LevelDB's CURRENT file (which names the live manifest).
  std::ofstream(db / "CURRENT", std::ios::trunc) << "MANIFEST-999999\n";
  auto [code, log] = perpd.start_expecting_exit();
  CHECK(code == 1);
  CHECK(log.find("error: ") != std::string::npos);
  CHECK(log.find("StorageError") ==
        std::string::npos);  // the message names the path and LevelDB's reason
  CHECK(log.find("chain") != std::string::npos);
  // A home whose config is damaged names the field.
  std::ofstream(perpd.home() / "config.json", std::ios::trunc) << R"({"blockIntervalMs": "fast"})";
  auto [config_code, config_log] = perpd.start_expecting_exit();
  CHECK(config_code == 1);
  CHECK(config_log.find("blockIntervalMs") != std::string::npos);
}

TEST_CASE("perpd: a damaged tx record is a named error on chain_getTx - the node stays up",
          "[integration]") {
  PerpdProcess perpd;
  perpd.start();
  std::string hash;
  {
    auto client = std::move(*node::RpcClient::create(perpd.url()));
    Wallet a(chain_id(client), perpd.validator_key());
    json::value placed =
        ok(client.call("perp_sendAction", a.envelope(order("BTC", true, "60000", "0.01"))));
    hash = std::string(placed.at("txHash").as_string());
  }
  perpd.stop(SIGTERM);
  // The tx record: height (8) + index (4) + signer (20) + outcome record.
  auto rewrite_record = [&](auto change) {
    auto kv = state::open_leveldb((perpd.home() / "data" / "chain").string(), false);
    REQUIRE(kv.ok());
    const auto bytes = state::parse_fixed_hex<32>(hash);
    REQUIRE(bytes.ok());
    const std::string key = "c/t/" + std::string(reinterpret_cast<const char*>(bytes->data()), 32);
    auto value = (*kv)->get(key);
    REQUIRE(value.ok());
    REQUIRE(value->has_value());
    std::string record = **value;
    change(record);
    state::WriteBatch batch;
    batch.put(key, record);
    REQUIRE((*kv)->write(batch).ok());
  };
  auto get_tx_error = [&] {
    perpd.start();
    auto client = std::move(*node::RpcClient::create(perpd.url()));
    node::RpcError e = err(client.call("chain_getTx", json::object{{"hash", hash}}));
    ok(client.call("chain_status", json::object{}));  // still up
    perpd.stop(SIGTERM);
    return e;
  };
  char index = 0;
  rewrite_record([&](std::string& record) {
    index = record[11];
    record[11] = 99;  // an index past the block's transactions
  });
  node::RpcError moved = get_tx_error();
  CHECK(moved.code == -32603);
  CHECK(moved.message.find("is not in its block") != std::string::npos);
  rewrite_record([&](std::string& record) {
    record[11] = index;
    record.resize(8 + 4 + 20);
    record += '\x09';  // no outcome record starts so
  });
  node::RpcError garbled = get_tx_error();
  CHECK(garbled.code == -32603);
  CHECK(garbled.message.find("damaged transaction outcome record") != std::string::npos);
}

TEST_CASE("perpd: bad input gets its named error and the node stays up", "[integration]") {
  PerpdProcess perpd;
  perpd.start();
  auto client = std::move(*node::RpcClient::create(perpd.url()));
  const std::uint64_t chain = chain_id(client);
  Wallet a(chain, perpd.validator_key());
  auto code_of = [&](const std::string& body) {
    auto reply = client.post("/", body);
    REQUIRE(reply.ok());
    return json::parse(reply->second);
  };
  CHECK(code_of("{not json").at("error").at("code") == -32700);
  CHECK(code_of(R"({"jsonrpc":"1.0","id":1,"method":"chain_status"})").at("error").at("code") ==
        -32600);
  CHECK(code_of(R"({"jsonrpc":"2.0","id":1,"method":"no_such"})").at("error").at("code") == -32601);
  CHECK(code_of(R"({"jsonrpc":"2.0","id":1,"method":"perp_orderBook","params":["BTC"]})")
            .at("error")
            .at("code") == -32602);
  CHECK(code_of(R"({"jsonrpc":"2.0","id":1,"method":"perp_account","params":{"user":"0x12"}})")
            .at("error")
            .at("code") == -32602);
  // 2 MiB body: refused without reading it all.
  auto big = client.post("/", std::string(2 << 20, ' '));
  CHECK((!big.ok() || big->first == 413));
  // 1,000 requests in a batch.
  json::array batch;
  for (int i = 0; i < 1000; ++i)
    batch.push_back(json::object{{"jsonrpc", "2.0"}, {"id", i}, {"method", "chain_status"}});
  CHECK(code_of(json::serialize(batch)).at("error").at("code") == -32600);
  // A bad signature: a valid envelope with one signature byte changed.
  json::object envelope = a.envelope(order("BTC", true, "60000", "0.01"));
  std::string sig(envelope["signature"].as_string());
  sig[10] = sig[10] == 'a' ? 'b' : 'a';
  envelope["signature"] = sig;
  // Recovery of a tampered signature yields no key at all (refused at entry, -32000) or some
  // other address, whose order execution refuses for want of funds.
  auto bad_sig = client.call("perp_sendAction", envelope);
  if (auto* refused = std::get_if<node::RpcError>(&bad_sig)) {
    CHECK(refused->code == -32000);
    CHECK(refused->data.at("reason") == "BadSignature");
  } else {
    const json::value& receipt = std::get<json::value>(bad_sig);
    CHECK(receipt.at("status") == "err");
    CHECK(receipt.at("response").at("reason") == "InsufficientMargin");
  }
  // A replayed nonce.
  json::object once = a.envelope(order("BTC", true, "60000", "0.01"));
  ok(client.call("perp_sendAction", once));
  node::RpcError replay = err(client.call("perp_sendAction", once));
  CHECK(replay.code == -32000);
  CHECK(replay.data.at("reason") == "DuplicateTx");
  // A replayed nonce in a different action: execution refuses it by the nonce rule, so it is
  // in a block, and its answer is its receipt with status "err".
  json::object reused = a.envelope_with_nonce(order("BTC", true, "60001", "0.01"),
                                              once["nonce"].to_number<std::uint64_t>());
  json::value nonce_used = ok(client.call("perp_sendAction", reused));
  CHECK(nonce_used.at("status") == "err");
  CHECK(nonce_used.at("height").to_number<std::uint64_t>() >= 1);
  CHECK(nonce_used.at("response").at("reason") == "NonceAlreadyUsed");
  CHECK(ok(client.call("chain_getTx", json::object{{"hash", nonce_used.at("txHash")}}))
            .at("result")
            .at("status") == "err");
  // An unknown market: rejected by execution with its reason.
  json::value unknown =
      ok(client.call("perp_sendAction", a.envelope(order("DOGE", true, "1", "10"))));
  CHECK(unknown.at("response").at("statuses").at(0).at("error") == "UnknownMarket");
  CHECK(err(client.call("perp_orderBook", json::object{{"market", "DOGE"}})).data.at("reason") ==
        "UnknownMarket");
  // A half-open connection that never sends: the node keeps serving others.
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket silent(io);
  silent.connect({boost::asio::ip::make_address("127.0.0.1"), perpd.port()});
  CHECK(ok(client.call("chain_status", json::object{})).at("height").to_number<std::uint64_t>() >=
        1);
  CHECK(perpd.running());
}

TEST_CASE(
    "perpd: kill -9 mid-load loses no acknowledged action - restart keeps app hash and open orders",
    "[integration]") {
  PerpdProcess perpd;
  perpd.start();
  std::uint64_t chain = 0;
  {
    auto client = std::move(*node::RpcClient::create(perpd.url()));
    chain = chain_id(client);
  }
  // Four submitters rest orders until the node is killed; each remembers what was acknowledged.
  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  Wallet a(chain, perpd.validator_key());
  std::mutex wallet_mutex;
  std::vector<std::thread> submitters;
  for (int t = 0; t < 4; ++t)
    submitters.emplace_back([&, t] {
      auto client = std::move(*node::RpcClient::create(perpd.url(), std::chrono::seconds(5)));
      for (int i = 0; !stop; ++i) {
        json::object envelope;
        {
          std::lock_guard lock(wallet_mutex);
          envelope =
              a.envelope(order("ETH", true, std::to_string(2000 + (t * 100 + i) % 400), "0.01"));
        }
        auto answer = client.call("perp_sendAction", envelope);
        if (auto* v = std::get_if<json::value>(&answer); v && v->at("status") == "ok") {
          std::lock_guard lock(mutex);
          acknowledged.push_back(std::string(v->at("txHash").as_string()));
        }
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  perpd.stop(SIGKILL);
  stop = true;
  for (auto& s : submitters) s.join();
  REQUIRE(acknowledged.size() > 10);

  perpd.start();
  auto client = std::move(*node::RpcClient::create(perpd.url()));
  for (const auto& hash : acknowledged) {
    json::value tx = ok(client.call("chain_getTx", json::object{{"hash", hash}}));
    CHECK(tx.at("result").at("status") == "ok");
  }
  // Quiet now: note height, app hash and open orders, kill again, restart, compare.
  json::value before = ok(client.call("chain_status", json::object{}));
  json::value orders_before =
      ok(client.call("perp_openOrders", json::object{{"user", a.checksum()}}));
  const std::uint64_t height = before.at("height").to_number<std::uint64_t>();
  perpd.stop(SIGKILL);
  perpd.start();
  auto again = std::move(*node::RpcClient::create(perpd.url()));
  json::value block = ok(again.call("chain_getBlock", json::object{{"height", height}}));
  CHECK(block.at("appHash") == before.at("appHash"));
  CHECK(json::serialize(ok(again.call("perp_openOrders", json::object{{"user", a.checksum()}}))) ==
        json::serialize(orders_before));
  // Acknowledged orders all rest (bids far below the market); an order committed just before the
  // kill may have lost its answer, so there can be more.
  CHECK(orders_before.as_array().size() >= acknowledged.size());
}

TEST_CASE("perpd: SIGTERM while calls wait for their block stops cleanly", "[integration]") {
  // Each waiting perp_sendAction holds its connection's session: they must be let go while the
  // RPC event loop still exists (the ASan build reports it otherwise).
  PerpdProcess perpd;
  {
    const auto path = perpd.home() / "config.json";
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    json::object config = json::parse(text).as_object();
    config["blockIntervalMs"] = 4000;  // the calls wait for the next block that long
    config["maxIdleMs"] = 4000;
    std::ofstream(path, std::ios::trunc) << json::serialize(config);
  }
  perpd.start();
  std::uint64_t chain = 0;
  {
    auto client = std::move(*node::RpcClient::create(perpd.url()));
    chain = chain_id(client);
  }
  Wallet wallet(chain, perpd.validator_key());
  std::vector<json::object> envelopes;
  for (int i = 0; i < 4; ++i)
    envelopes.push_back(wallet.envelope(order("ETH", true, "2000", "0.01")));
  std::atomic<int> sent{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 4; ++i)
    callers.emplace_back([&, i] {
      auto client = std::move(*node::RpcClient::create(perpd.url(), std::chrono::seconds(10)));
      ++sent;
      (void)client.call("perp_sendAction", envelopes[static_cast<std::size_t>(i)]);
    });
  while (sent < 4) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the calls reach the node
  CHECK(perpd.stop(SIGTERM));
  for (auto& c : callers) c.join();
  std::ifstream in(perpd.home().parent_path() / "node.log");
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(log.find("stopped at height") != std::string::npos);
  CHECK(log.find("AddressSanitizer") == std::string::npos);
  CHECK(log.find("runtime error") == std::string::npos);
}

TEST_CASE("perpd: a removed database - another genesis - an open key file: start refuses by name",
          "[integration]") {
  namespace fs = std::filesystem;
  PerpdProcess perpd;
  perpd.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));  // an empty block a second
  REQUIRE(perpd.stop(SIGTERM));
  const fs::path home = perpd.home();
  auto read_text = [](const fs::path& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };

  // The validator key readable by others.
  fs::permissions(home / "validator.key", fs::perms::group_read | fs::perms::others_read,
                  fs::perm_options::add);
  auto [key_code, key_log] = perpd.start_expecting_exit();
  CHECK(key_code == 1);
  CHECK(key_log.find("validator.key is open to other users (mode 0644)") != std::string::npos);
  fs::permissions(home / "validator.key", fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);

  // Another genesis than the chain's: the exchange would be rebuilt under other rules.
  const std::string genesis = read_text(home / "genesis.json");
  json::object other = json::parse(genesis).as_object();
  other["chainId"] = 4242;
  std::ofstream(home / "genesis.json", std::ios::trunc) << json::serialize(other);
  auto [genesis_code, genesis_log] = perpd.start_expecting_exit();
  CHECK(genesis_code == 1);
  CHECK(genesis_log.find("the genesis does not match") != std::string::npos);
  std::ofstream(home / "genesis.json", std::ios::trunc) << genesis;

  // A database that went missing is not replaced by a new chain.
  fs::rename(home / "data" / "chain", home / "data" / "moved");
  auto [missing_code, missing_log] = perpd.start_expecting_exit();
  CHECK(missing_code == 1);
  CHECK(missing_log.find("no database at") != std::string::npos);
  CHECK_FALSE(fs::exists(home / "data" / "chain"));

  // Nor does init run over a chain whose config.json is gone.
  fs::rename(home / "data" / "moved", home / "data" / "chain");
  fs::rename(home / "config.json", home / "config.moved");
  const std::string init_log = (home.parent_path() / "reinit.log").string();
  int status = 0;
  ::waitpid(perpd_test::run({PERPD_BINARY, "init", "--home", home.string()}, init_log), &status, 0);
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(read_text(init_log).find("holds a chain at height") != std::string::npos);
  fs::rename(home / "config.moved", home / "config.json");
  perpd.start();  // everything back: the chain goes on
  REQUIRE(perpd.stop(SIGTERM));
}

TEST_CASE("perpd init checks its inputs before writing and can be run again after a failure",
          "[integration]") {
  namespace fs = std::filesystem;
  const fs::path base = fs::temp_directory_path() / ("perpd-init-" + std::to_string(::getpid()));
  fs::remove_all(base);
  fs::create_directories(base);
  const fs::path home = base / "node";
  std::ofstream(base / "bad-genesis.json") << R"({"chainId": "x"})";
  auto init = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{PERPD_BINARY, "init", "--home", home.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    int status = 0;
    ::waitpid(perpd_test::run(args, (base / "init.log").string()), &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  CHECK(init({"--genesis", (base / "bad-genesis.json").string()}) == 1);
  CHECK_FALSE(fs::exists(home / "validator.key"));  // nothing written for a bad genesis
  // A key left by an init that stopped part way is kept and used.
  fs::create_directories(home);
  const state::SecretKey key = node::generate_secret_key();
  REQUIRE(node::write_key_file((home / "validator.key").string(), key).ok());
  CHECK(init({}) == 0);
  CHECK(*node::read_key_file((home / "validator.key").string()) == key);
  CHECK(fs::exists(home / "data" / "chain" / "CURRENT"));  // init makes the database
  CHECK(init({}) == 1);                                    // once
  // A genesis this build cannot start (four validators, and a new key among none of them):
  // initialized, with a note naming why start will refuse it.
  fs::remove_all(home);
  CHECK(init({"--genesis", PERPD_SOURCE_DIR "/genesis/testnet-4.json"}) == 0);
  std::ifstream log(base / "init.log");
  const std::string said((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK(said.find("note: perpd start will refuse this home: this build runs single-validator "
                  "networks") != std::string::npos);
  fs::remove_all(base);
}
