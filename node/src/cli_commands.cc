#include "node/cli_commands.h"

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "node/key_file.h"
#include "node/order_json.h"
#include "node/rpc_client.h"
#include "perps/price_grid.h"
#include "state/decimal.h"
#include "state/envelope.h"

namespace node {
namespace json = boost::json;

int report_error(const state::Error& error) {
  std::cerr << "error: " << state::reason_name(error.reason) << ": " << error.message << "\n";
  return 1;
}

state::Result<std::string> read_input(const std::string& path) {
  std::stringstream content;
  if (path == "-") {
    content << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return state::make_error(state::Reason::BadJson, "cannot read " + path);
    content << in.rdbuf();
  }
  return content.str();
}

namespace {

struct Command {
  CLI::App* sub = nullptr;
  std::function<int()> run;
};

std::string text_of(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return "-";
  return json::serialize(v);
}

// Prints rows as a left-aligned table.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  auto print_row = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size(); ++i)
      std::printf("%-*s%s", static_cast<int>(width[i]), row[i].c_str(),
                  i + 1 < row.size() ? "  " : "\n");
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
}

class Session {
 public:
  explicit Session(CliOptions& options) : options_(options) {}

  // The result of a call, or nullopt after printing the error.
  std::optional<json::value> call(const std::string& method, json::value params) {
    if (!client_) {
      auto created = RpcClient::create(options_.rpc);
      if (!created) {
        std::cerr << "error: " << created.error().message << "\n";
        return std::nullopt;
      }
      client_ = std::make_unique<RpcClient>(std::move(*created));
    }
    auto answer = client_->call(method, std::move(params));
    if (auto* error = std::get_if<RpcError>(&answer)) {
      std::string reason;
      if (error->data.is_object())
        if (const json::value* r = error->data.as_object().if_contains("reason"))
          reason = text_of(*r) + ": ";
      std::cerr << "error: " << reason << error->message
                << (error->code ? " (" + std::to_string(error->code) + ")" : "") << "\n";
      return std::nullopt;
    }
    return std::get<json::value>(answer);
  }

  std::optional<state::SecretKey> key() {
    if (options_.key.empty()) {
      std::cerr << "error: this command signs: give --key FILE\n";
      return std::nullopt;
    }
    auto key = read_key_file(options_.key);
    if (!key) {
      std::cerr << "error: " << key.error().message << "\n";
      return std::nullopt;
    }
    return *key;
  }

  // method's result for {"user": given}, or for the --key's address when none is given.
  std::optional<json::value> call_for_user(const std::string& method, const std::string& given) {
    std::string user = given;
    if (user.empty()) {
      auto k = key();
      if (!k) return std::nullopt;
      user = state::to_checksum_address(state::address_of(*k));
    }
    return call(method, json::object{{"user", user}});
  }

  // Signs the action (JSON with "type") for the node's chain and sends it; prints the receipt.
  int send(json::object action) {
    auto k = key();
    if (!k) return 1;
    auto status = call("chain_status", json::object{});
    if (!status) return 1;
    const std::uint64_t chain_id = status->as_object().at("chainId").to_number<std::uint64_t>();
    auto parsed = state::action_from_json(action);
    if (!parsed) return report_error(parsed.error());
    // determinism: the wallet picks its nonce from its clock; execution never reads it.
    const auto nonce =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    const state::SignedAction envelope =
        state::EnvelopeVerifier(chain_id).sign(std::move(*parsed), nonce, *k);
    return submit(state::envelope_to_json(envelope));
  }

  // Sends a signed envelope as it is (perp_sendAction) and prints the receipt; the exit code
  // follows send's rules.
  int submit(json::object envelope) {
    auto receipt = call("perp_sendAction", std::move(envelope));
    if (!receipt) return 1;
    // Exit 0 only when the action committed and none of its orders failed: "err" (executed and
    // refused), "pending" (the node's wait ran out) or an order status {"error": ...} is not
    // success for a script.
    const json::object& r = receipt->as_object();
    const json::value* outcome = r.if_contains("status");
    bool succeeded = outcome && outcome->is_string() && outcome->get_string() == "ok";
    const json::value* response = r.if_contains("response");
    const json::array* order_statuses = nullptr;
    if (response && response->is_object())
      if (const json::value* list = response->as_object().if_contains("statuses");
          list && list->is_array())
        order_statuses = &list->get_array();
    if (order_statuses)
      for (const auto& s : *order_statuses)
        if (s.is_object() && s.as_object().contains("error")) succeeded = false;
    if (options_.json) {
      std::cout << json::serialize(*receipt) << "\n";
      return succeeded ? 0 : 1;
    }
    std::printf("tx %s  height %s  %s\n", text_of(r.at("txHash")).c_str(),
                text_of(r.at("height")).c_str(), outcome ? text_of(*outcome).c_str() : "?");
    if (order_statuses)
      for (const auto& s : *order_statuses) std::printf("  %s\n", text_of(s).c_str());
    if (outcome && outcome->is_string() && outcome->get_string() == "pending")
      std::printf("  not committed yet: chain_getTx {\"hash\": \"%s\"} tells when it is\n",
                  text_of(r.at("txHash")).c_str());
    // Executed and refused: named as a refusal at entry is (call() above).
    if (outcome && outcome->is_string() && outcome->get_string() == "err" && response &&
        response->is_object()) {
      const json::object& why = response->as_object();
      const json::value* reason = why.if_contains("reason");
      const json::value* message = why.if_contains("message");
      std::cerr << "error: " << (reason ? text_of(*reason) + ": " : std::string())
                << (message ? text_of(*message) : std::string()) << "\n";
    }
    return succeeded ? 0 : 1;
  }

  bool json_output() const { return options_.json; }

 private:
  CliOptions& options_;
  std::unique_ptr<RpcClient> client_;
};

}  // namespace

std::function<int()> add_node_commands(CLI::App& app, CliOptions& options) {
  app.add_option("--rpc", options.rpc, "node URL (http://HOST:PORT)");
  app.add_option("--key", options.key, "key file that signs actions (and the default account)");
  app.add_flag("--json", options.json, "print JSON instead of tables");
  app.fallthrough();  // "perp-cli order ... --key K": options may follow the command
  auto session = std::make_shared<Session>(options);
  auto commands = std::make_shared<std::vector<Command>>();

  auto* markets = app.add_subcommand("markets", "markets with prices, funding and open interest");
  commands->push_back(
      {markets, [session] {
         auto r = session->call("perp_markets", json::object{});
         if (!r) return 1;
         if (session->json_output()) return std::printf("%s\n", json::serialize(*r).c_str()), 0;
         std::vector<std::vector<std::string>> rows;
         for (const auto& m : r->as_array()) {
           const auto& o = m.as_object();
           rows.push_back({text_of(o.at("name")), text_of(o.at("markPx")),
                           text_of(o.at("oraclePx")), text_of(o.at("midPx")),
                           text_of(o.at("funding")), text_of(o.at("openInterest")),
                           text_of(o.at("dayNtlVlm"))});
         }
         print_table(
             {"MARKET", "MARK", "ORACLE", "MID", "FUNDING/H", "OPEN INTEREST", "24H VOLUME"}, rows);
         return 0;
       }});

  auto* book = app.add_subcommand("book", "order book of a market");
  auto book_market = std::make_shared<std::string>();
  auto book_depth = std::make_shared<unsigned>(10);
  book->add_option("market", *book_market, "market name")->required();
  book->add_option("--depth", *book_depth, "levels per side");
  commands->push_back(
      {book, [session, book_market, book_depth] {
         auto r = session->call("perp_orderBook",
                                json::object{{"market", *book_market}, {"depth", *book_depth}});
         if (!r) return 1;
         if (session->json_output()) return std::printf("%s\n", json::serialize(*r).c_str()), 0;
         const auto& o = r->as_object();
         std::vector<std::vector<std::string>> rows;
         const auto& asks = o.at("asks").as_array();
         for (auto it = asks.rbegin(); it != asks.rend(); ++it)
           rows.push_back(
               {"ask", text_of(it->at("px")), text_of(it->at("sz")), text_of(it->at("n"))});
         for (const auto& b : o.at("bids").as_array())
           rows.push_back({"bid", text_of(b.at("px")), text_of(b.at("sz")), text_of(b.at("n"))});
         std::printf("%s at height %s\n", book_market->c_str(), text_of(o.at("height")).c_str());
         print_table({"SIDE", "PRICE", "SIZE", "ORDERS"}, rows);
         return 0;
       }});

  auto* account = app.add_subcommand("account", "balances, margin and positions");
  auto account_user = std::make_shared<std::string>();
  account->add_option("address", *account_user, "account (default: the --key's address)");
  commands->push_back(
      {account, [session, account_user] {
         auto r = session->call_for_user("perp_account", *account_user);
         if (!r) return 1;
         if (session->json_output()) return std::printf("%s\n", json::serialize(*r).c_str()), 0;
         const auto& o = r->as_object();
         std::printf(
             "%s\n  usd %s  account value %s  margin used %s  maintenance %s  withdrawable %s\n",
             text_of(o.at("user")).c_str(), text_of(o.at("usd")).c_str(),
             text_of(o.at("accountValue")).c_str(), text_of(o.at("marginUsed")).c_str(),
             text_of(o.at("maintenanceMargin")).c_str(), text_of(o.at("withdrawable")).c_str());
         std::vector<std::vector<std::string>> rows;
         for (const auto& p : o.at("positions").as_array()) {
           const auto& q = p.as_object();
           const auto& lev = q.at("leverage").as_object();
           rows.push_back({text_of(q.at("market")), text_of(q.at("szi")), text_of(q.at("entryPx")),
                           text_of(q.at("positionValue")), text_of(q.at("unrealizedPnl")),
                           text_of(lev.at("value")) + "x " + text_of(lev.at("type")),
                           text_of(q.at("liquidationPx")), text_of(q.at("cumFunding"))});
         }
         if (!rows.empty())
           print_table(
               {"MARKET", "SIZE", "ENTRY", "VALUE", "UPNL", "LEVERAGE", "LIQ PX", "FUNDING"}, rows);
         return 0;
       }});

  auto* orders = app.add_subcommand("orders", "open orders");
  auto orders_user = std::make_shared<std::string>();
  orders->add_option("address", *orders_user, "account (default: the --key's address)");
  commands->push_back(
      {orders, [session, orders_user] {
         auto r = session->call_for_user("perp_openOrders", *orders_user);
         if (!r) return 1;
         if (session->json_output()) return std::printf("%s\n", json::serialize(*r).c_str()), 0;
         std::vector<std::vector<std::string>> rows;
         for (const auto& v : r->as_array()) {
           const json::object& o = v.as_object();
           // A waiting trigger order: "sl at 3100" (perp_openOrders adds these).
           std::string trigger = "-";
           if (o.contains("triggerPx"))
             trigger = text_of(o.at("tpsl")) + " at " + text_of(o.at("triggerPx"));
           rows.push_back({text_of(o.at("market")), text_of(o.at("oid")), text_of(o.at("side")),
                           text_of(o.at("px")), text_of(o.at("sz")), text_of(o.at("origSz")),
                           trigger});
         }
         print_table({"MARKET", "OID", "SIDE", "PRICE", "SIZE", "ORIG SIZE", "TRIGGER"}, rows);
         return 0;
       }});

  struct OrderArgs {
    std::string market, side, size, price, tif = "Gtc";
    bool reduce_only = false;
  };
  auto order_args = std::make_shared<OrderArgs>();
  auto* order = app.add_subcommand("order", "place a limit order");
  order->add_option("market", order_args->market)->required();
  order->add_option("side", order_args->side, "buy or sell")
      ->required()
      ->check(CLI::IsMember({"buy", "sell"}));
  order->add_option("size", order_args->size, "size in units of the asset")->required();
  order->add_option("price", order_args->price, "limit price in USD")->required();
  order->add_option("--tif", order_args->tif, "Gtc, Ioc or Alo")
      ->check(CLI::IsMember({"Gtc", "Ioc", "Alo"}));
  order->add_flag("--reduce-only", order_args->reduce_only);
  auto order_json = [](const OrderArgs& a, const std::string& px, const std::string& tif) {
    return order_action_json(
        json::array{order_spec_json(a.market, a.side == "buy", px, a.size, tif, a.reduce_only)});
  };
  commands->push_back({order, [session, order_args, order_json] {
                         return session->send(
                             order_json(*order_args, order_args->price, order_args->tif));
                       }});

  auto* market_order = app.add_subcommand(
      "market-order", "an Ioc order priced through the book by a slippage bound");
  market_order->add_option("market", order_args->market)->required();
  market_order->add_option("side", order_args->side, "buy or sell")
      ->required()
      ->check(CLI::IsMember({"buy", "sell"}));
  market_order->add_option("size", order_args->size, "size in units of the asset")->required();
  auto slippage_bp = std::make_shared<unsigned>(500);
  market_order
      ->add_option("--slippage-bp", *slippage_bp,
                   "price bound in basis points through the best price (default 500 = 5%)")
      ->check(CLI::Range(0u, 9'999u));  // a sell's bound stays above zero
  market_order->add_flag("--reduce-only", order_args->reduce_only);
  commands->push_back(
      {market_order, [session, order_args, order_json, slippage_bp] {
         auto markets = session->call("perp_markets", json::object{});
         auto book = session->call("perp_orderBook",
                                   json::object{{"market", order_args->market}, {"depth", 1}});
         if (!markets || !book) return 1;
         unsigned sz_decimals = 0;
         for (const auto& m : markets->as_array())
           if (text_of(m.at("name")) == order_args->market)
             sz_decimals = static_cast<unsigned>(m.at("szDecimals").to_number<std::uint64_t>());
         const bool buy = order_args->side == "buy";
         const auto& side = book->as_object().at(buy ? "asks" : "bids").as_array();
         if (side.empty()) {
           std::cerr << "error: no " << (buy ? "asks" : "bids") << " to trade against\n";
           return 1;
         }
         auto best = state::parse_decimal(text_of(side[0].at("px")), 6, state::Sign::Unsigned);
         if (!best) {
           std::cerr << "error: the book's best price " << text_of(side[0].at("px"))
                     << " does not parse: " << best.error().message << "\n";
           return 1;
         }
         const std::int64_t bound =
             *best + (buy ? 1 : -1) * *best * static_cast<std::int64_t>(*slippage_bp) / 10'000;
         const auto grid = perps::PriceGrid::significant_figures(sz_decimals);
         const std::string px =
             state::format_decimal(buy ? grid.ceil_price(bound) : grid.floor_price(bound), 6);
         return session->send(order_json(*order_args, px, "Ioc"));
       }});

  auto cancel_market = std::make_shared<std::string>();
  auto cancel_oid = std::make_shared<std::uint64_t>(0);
  auto* cancel = app.add_subcommand("cancel", "cancel an open order");
  cancel->add_option("market", *cancel_market)->required();
  cancel->add_option("oid", *cancel_oid)->required();
  commands->push_back({cancel, [session, cancel_market, cancel_oid] {
                         return session->send(json::object{
                             {"type", "cancel"},
                             {"cancels", json::array{json::object{{"market", *cancel_market},
                                                                  {"oid", *cancel_oid}}}}});
                       }});

  auto send_to = std::make_shared<std::string>();
  auto send_amount = std::make_shared<std::string>();
  auto* send = app.add_subcommand("send", "send USD to another account");
  send->add_option("destination", *send_to)->required();
  send->add_option("amount", *send_amount, "USD")->required();
  commands->push_back({send, [session, send_to, send_amount] {
                         return session->send(json::object{{"type", "usdSend"},
                                                           {"destination", *send_to},
                                                           {"amount", *send_amount}});
                       }});

  auto lev_market = std::make_shared<std::string>();
  auto lev_value = std::make_shared<std::uint32_t>(1);
  auto lev_isolated = std::make_shared<bool>(false);
  auto* leverage =
      app.add_subcommand("leverage", "set leverage (and cross or isolated) for a market");
  leverage->add_option("market", *lev_market)->required();
  leverage->add_option("leverage", *lev_value)->required();
  leverage->add_flag("--isolated", *lev_isolated);
  commands->push_back({leverage, [session, lev_market, lev_value, lev_isolated] {
                         return session->send(json::object{{"type", "updateLeverage"},
                                                           {"market", *lev_market},
                                                           {"isCross", !*lev_isolated},
                                                           {"leverage", *lev_value}});
                       }});

  auto envelope_path = std::make_shared<std::string>();
  auto* submit = app.add_subcommand(
      "submit", "send an envelope signed elsewhere (perp-cli sign, a wallet) to the node");
  submit->add_option("envelope", *envelope_path, "ENVELOPE.json, or - for standard input")
      ->required();
  commands->push_back({submit, [session, envelope_path] {
                         auto text = read_input(*envelope_path);
                         if (!text) return report_error(text.error());
                         // Checked here first, so a malformed file is named without a node;
                         // sent as its parsed JSON, not re-encoded from the decoded action (which
                         // could change what was signed).
                         std::error_code ec;
                         json::value value = json::parse(*text, ec);
                         if (ec)
                           return report_error(state::make_error(state::Reason::BadJson,
                                                                 "invalid JSON: " + ec.message()));
                         if (auto envelope = state::envelope_from_json(value); !envelope)
                           return report_error(envelope.error());
                         return session->submit(std::move(value.as_object()));
                       }});

  return [commands] {
    for (const auto& c : *commands)
      if (*c.sub) return c.run();
    return -1;
  };
}

}  // namespace node
