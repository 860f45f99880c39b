// perp_sendAction's admission through Node::submit_batch: each envelope of a batch is answered as
// a lone submission would be (decode, signature and nonce-window errors at once, a repeat within
// the batch DuplicateTx), and the admitted ones exactly once when their block commits. A Node over
// a scratch LevelDB, blocks driven through the Application calls the single-validator engine makes.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>

#include "commit_one_block.h"
#include "node/node.h"
#include "node_scratch.h"

namespace json = boost::json;

namespace {

const state::SecretKey kKey =
    *state::parse_secret_key("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");

// 0xf39F...2266 (the well-known first Hardhat key), funded in genesis/local.json.
const state::SecretKey kFundedKey =
    *state::parse_secret_key("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");

json::object signed_order(std::uint64_t chain_id, std::uint64_t nonce, const char* px,
                          const state::SecretKey& key = kKey) {
  const std::string order =
      R"({"type":"order","orders":[{"market":"BTC","isBuy":true,"px":")" + std::string(px) +
      R"(","sz":"0.001","reduceOnly":false,"tif":"Gtc","cloid":"0x00000000000000000000000000000000","triggerPx":"","tpsl":""}]})";
  state::EnvelopeVerifier verifier(chain_id);
  return state::envelope_to_json(
      verifier.sign(*state::action_from_json(json::parse(order)), nonce, key));
}

// The answers one call got, in order.
struct Answers {
  std::vector<rpc::Answer> got;
  rpc::Respond respond() {
    return [this](rpc::Answer answer) { got.push_back(std::move(answer)); };
  }
};

std::string rejection_reason(const rpc::Answer& answer) {
  if (answer.result || answer.result_text || answer.error.code != rpc::ErrorCode::ActionRejected ||
      !answer.error.data)
    return "<not a rejection>";
  return std::string(answer.error.data->at("reason").as_string());
}

// Answered with its receipt at height: status "ok", or "err" when execution refused it.
bool is_receipt_at(const rpc::Answer& answer, std::uint64_t height) {
  return answer.result_text && answer.result_text->find(R"(,"height":)" + std::to_string(height) +
                                                        ",") != std::string::npos;
}

// A node over a scratch database with its RPC methods; the database is removed at the end.
struct NodeWithMethods {
  explicit NodeWithMethods(const std::string& name) : dir(test_support::scratch_dir(name)) {
    auto opened = node::Node::open(genesis, dir.string(), test_support::node_options());
    REQUIRE(opened.ok());
    node = std::move(*opened);
    node->register_methods(methods);
  }
  ~NodeWithMethods() {
    node.reset();
    std::filesystem::remove_all(dir);
  }
  const perps::GenesisState genesis = test_support::local_genesis();
  const std::filesystem::path dir;
  std::unique_ptr<node::Node> node;
  rpc::MethodTable methods;
};

// Dispatches one JSON-RPC request through methods and parses its answer.
json::object query(rpc::MethodTable& methods, const std::string& request) {
  std::string answer;
  methods.dispatch(request, [&answer](std::string text) { answer = std::move(text); });
  return json::parse(answer).as_object();
}

}  // namespace

TEST_CASE("submit_batch answers each envelope as a lone submit would", "[node][submit]") {
  const perps::GenesisState genesis = test_support::local_genesis();
  const auto dir = test_support::scratch_dir("perpd-submit");
  {
    node::NodeOptions options = test_support::node_options();
    auto opened = node::Node::open(genesis, dir.string(), options);
    REQUIRE(opened.ok());
    node::Node& node = **opened;
    const std::uint64_t now = node.last_commit().time_ms;
    const std::uint64_t chain_id = node.chain_id();

    std::vector<json::object> params = {
        signed_order(chain_id, now + 1, "65000"),
        signed_order(chain_id, now + 1, "65000"),  // the same envelope again
        json::object{{"action", 1}},
        signed_order(chain_id, now - state::kNonceWindowPastMs, "65001"),
        signed_order(chain_id, now + 2, "65002"),
    };
    params[2]["nonce"] = now;
    std::vector<Answers> answers(params.size());
    std::vector<rpc::Call> calls;
    for (std::size_t i = 0; i < params.size(); ++i)
      calls.push_back(rpc::Call{params[i], answers[i].respond()});
    node.submit_batch(calls);

    CHECK(answers[0].got.empty());
    REQUIRE(answers[1].got.size() == 1);
    CHECK(rejection_reason(answers[1].got[0]) == "DuplicateTx");
    CHECK(answers[1].got[0].error.message == "transaction already pending");
    REQUIRE(answers[2].got.size() == 1);
    CHECK(answers[2].got[0].error.code == rpc::ErrorCode::ActionRejected);
    REQUIRE(answers[3].got.size() == 1);
    CHECK(rejection_reason(answers[3].got[0]) == "NonceOutsideWindow");
    CHECK(answers[4].got.empty());
    const std::string metrics = node.metrics_text();
    CHECK(metrics.find("perpd_mempool_txs 2.0") != std::string::npos);
    // The four that decoded were recovered (the repeat and the stale nonce too: both are
    // refused after recovery); the one that did not decode was not.
    CHECK(metrics.find("\nperpd_signature_recoveries_total 4.0") != std::string::npos);
    const auto cpu_at = metrics.find("\nperpd_signature_recovery_cpu_seconds_total ");
    REQUIRE(cpu_at != std::string::npos);
    const double recovery_cpu = std::stod(metrics.substr(cpu_at + 44));
    CHECK(recovery_cpu > 0);
    CHECK(recovery_cpu < 1);

    // The admitted two are answered once by their block; the refused repeat's waiter is gone.
    commit_one_block(node);
    REQUIRE(answers[0].got.size() == 1);
    CHECK(is_receipt_at(answers[0].got[0], 1));
    REQUIRE(answers[4].got.size() == 1);
    CHECK(is_receipt_at(answers[4].got[0], 1));
    CHECK(answers[1].got.size() == 1);

    // Submitted again after its block: refused, and its waiter gone with the refusal.
    Answers again;
    rpc::Call resubmitted{params[0], again.respond()};
    node.submit_batch({&resubmitted, 1});
    REQUIRE(again.got.size() == 1);
    CHECK(rejection_reason(again.got[0]) == "DuplicateTx");
    CHECK(again.got[0].error.message == "transaction already taken into a block");
    commit_one_block(node);
    CHECK(again.got.size() == 1);
    CHECK(answers[0].got.size() == 1);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("another proposer's block is verified whole - a bad envelope refuses it",
          "[node][submit]") {
  const perps::GenesisState genesis = test_support::local_genesis();
  const auto base = test_support::scratch_dir("perpd-proposal");
  {
    std::filesystem::create_directories(base);
    node::NodeOptions options = test_support::node_options();
    auto proposer = node::Node::open(genesis, (base / "a").string(), options);
    auto follower = node::Node::open(genesis, (base / "b").string(), options);
    REQUIRE(proposer.ok());
    REQUIRE(follower.ok());
    const std::uint64_t now = (*proposer)->last_commit().time_ms;
    std::vector<json::object> params;
    for (int i = 0; i < 11; ++i)
      params.push_back(
          signed_order((*proposer)->chain_id(), now + 1 + i, std::to_string(65000 + i).c_str()));
    std::vector<Answers> answers(params.size());
    std::vector<rpc::Call> calls;
    for (std::size_t i = 0; i < params.size(); ++i)
      calls.push_back(rpc::Call{params[i], answers[i].respond()});
    (*proposer)->submit_batch(calls);

    const consensus::CommitInfo last = (*proposer)->last_commit();
    consensus::BlockHeader header;
    header.height = last.height + 1;
    header.time_ms = last.time_ms + 1000;
    header.parent_hash = last.block_hash;
    header.last_app_hash = last.app_hash;
    auto txs = (*proposer)->prepare_proposal(header.height, header.time_ms, 1 << 20);
    REQUIRE(txs.size() == params.size());
    header.payload_hash = consensus::payload_hash(txs);

    // An envelope no key recovers from (r with no curve point at x = r) refuses the block.
    state::EnvelopeVerifier verifier((*proposer)->chain_id());
    auto unrecoverable = state::decode_envelope_binary(txs[5]);
    REQUIRE(unrecoverable.ok());
    for (std::uint8_t r = 1;; ++r) {
      unrecoverable->signature.r = state::Hash256{};
      unrecoverable->signature.r.bytes[31] = r;
      if (!verifier.verify(*unrecoverable)) break;
    }
    std::vector<std::string> tampered = txs;
    tampered[5] = state::encode_envelope_binary(*unrecoverable);
    CHECK_FALSE((*follower)->process_proposal(header, tampered));

    // The proposer's own block verifies on the follower and executes to the same app hash.
    REQUIRE((*follower)->process_proposal(header, txs));
    REQUIRE((*proposer)->process_proposal(header, txs));
    CHECK((*follower)->finalize_block(header, txs) == (*proposer)->finalize_block(header, txs));
  }
  std::filesystem::remove_all(base);
}

TEST_CASE("a waiter past its timeout is answered pending with its hash and only once",
          "[node][submit]") {
  const perps::GenesisState genesis = test_support::local_genesis();
  const auto dir = test_support::scratch_dir("perpd-timeout");
  {
    node::NodeOptions options = test_support::node_options();
    options.send_action_timeout = std::chrono::milliseconds(0);
    auto opened = node::Node::open(genesis, dir.string(), options);
    REQUIRE(opened.ok());
    node::Node& node = **opened;
    const std::uint64_t now = node.last_commit().time_ms;
    const json::object params = signed_order(node.chain_id(), now + 1, "65000");
    Answers answers;
    rpc::Call call{params, answers.respond()};
    node.submit_batch({&call, 1});
    REQUIRE(answers.got.empty());

    // A block that takes nothing (no room): the waiter's time is up before its tx commits.
    commit_one_block(node, 0);
    CHECK(node.last_commit().height == 1);
    CHECK(node.metrics_text().find("perpd_mempool_txs 1.0") != std::string::npos);
    REQUIRE(answers.got.size() == 1);
    REQUIRE(answers.got[0].result);
    const json::object& pending = answers.got[0].result->as_object();
    CHECK(pending.at("status") == "pending");
    CHECK(pending.at("height").is_null());
    const std::string hash(pending.at("txHash").as_string());
    CHECK(hash.size() == 66);

    // The transaction still commits; its expired waiter is not answered again.
    commit_one_block(node);
    CHECK(answers.got.size() == 1);
    CHECK(node.last_commit().height == 2);
    CHECK(node.metrics_text().find("perpd_mempool_txs 0.0") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("chain_getTx answers pending while the transaction's block is being executed",
          "[node][submit]") {
  NodeWithMethods scratch("perpd-gettx");
  node::Node& node = *scratch.node;
  rpc::MethodTable& methods = scratch.methods;
  Answers answers;
  const json::object params =
      signed_order(node.chain_id(), node.last_commit().time_ms + 1, "65000");
  auto verified =
      state::EnvelopeVerifier(node.chain_id()).verify(*state::envelope_from_json(params));
  REQUIRE(verified.ok());
  const std::string hash = state::to_hex(verified->tx_hash);
  rpc::Call call{params, answers.respond()};
  node.submit_batch({&call, 1});
  auto get_tx = [&] {
    return query(methods, R"({"jsonrpc":"2.0","id":1,"method":"chain_getTx","params":{"hash":")" +
                              hash + "\"}}");
  };
  // A query between taking the block and storing it.
  const FinalizedBlock block = finalize_next_block(node);
  REQUIRE(block.txs == 1);
  const consensus::BlockHeader& header = block.header;
  const json::object executing = get_tx();
  REQUIRE(executing.contains("result"));
  const json::object& in_block = executing.at("result").as_object();
  CHECK(in_block.at("status") == "pending");
  for (const char* field : {"height", "index", "signer", "action", "result"})
    CHECK(in_block.at(field).is_null());
  node.commit();
  const json::object committed = get_tx();
  REQUIRE(committed.contains("result"));
  CHECK(committed.at("result").at("height") == header.height);
  REQUIRE(answers.got.size() == 1);
}

TEST_CASE("perp_orderBook between a block's execution and its commit is labelled with that block",
          "[node][submit]") {
  NodeWithMethods scratch("perpd-book-label");
  node::Node& node = *scratch.node;
  rpc::MethodTable& methods = scratch.methods;
  Answers answers;
  rpc::Call call{signed_order(node.chain_id(), node.last_commit().time_ms + 1, "65000", kFundedKey),
                 answers.respond()};
  node.submit_batch({&call, 1});
  auto book = [&] {
    return query(methods,
                 R"({"jsonrpc":"2.0","id":1,"method":"perp_orderBook","params":{"market":"BTC"}})")
        .at("result")
        .as_object();
  };
  const std::uint64_t before = node.last_commit().height;
  CHECK(book().at("height") == before);
  CHECK(book().at("bids").as_array().empty());
  // A query between executing the block and storing it.
  const FinalizedBlock block = finalize_next_block(node);
  REQUIRE(block.txs == 1);
  const consensus::BlockHeader& header = block.header;
  // The bid rests in the executed state, which the answer labels with its block, not the one
  // before it that is still the last committed.
  const json::object executed = book();
  CHECK(node.last_commit().height == before);
  CHECK(executed.at("height") == header.height);
  CHECK(executed.at("time") == header.time_ms);
  REQUIRE(executed.at("bids").as_array().size() == 1);
  CHECK(executed.at("bids").at(0).at("px") == "65000");
  node.commit();
  CHECK(book() == executed);
  REQUIRE(answers.got.size() == 1);
}
