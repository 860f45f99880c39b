// What a committed block publishes to WebSocket subscribers, and that topics nobody follows are
// not built: a Node over a scratch LevelDB, one empty block driven through the Application calls
// the single-validator engine makes.
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "commit_one_block.h"
#include "node/node.h"
#include "node_scratch.h"

namespace {

std::multiset<std::string> topics_of_one_block(std::function<bool(const rpc::Topic&)> subscribed) {
  const perps::GenesisState genesis = test_support::local_genesis();
  const auto dir = test_support::scratch_dir("perpd-publish");
  std::multiset<std::string> published;
  {
    node::NodeOptions options = test_support::node_options();
    auto opened = node::Node::open(genesis, dir.string(), options);
    REQUIRE(opened.ok());
    node::Node& node = **opened;
    node.set_publisher([&](const rpc::Topic& topic,
                           boost::json::value) { published.insert(topic.type + "/" + topic.key); },
                       std::move(subscribed));
    commit_one_block(node);
  }
  std::filesystem::remove_all(dir);
  return published;
}

}  // namespace

TEST_CASE("a block publishes only the topics someone follows", "[node][publish]") {
  // Followed: the block stream and the ETH book (its first publication: no book was sent yet).
  auto published = topics_of_one_block([](const rpc::Topic& topic) {
    return topic.type == "blocks" || (topic.type == "l2Book" && topic.key == "ETH");
  });
  CHECK(published == std::multiset<std::string>{"blocks/", "l2Book/ETH"});
  // Nobody follows anything: nothing is built or sent.
  CHECK(topics_of_one_block([](const rpc::Topic&) { return false; }).empty());
}

TEST_CASE("without a subscription check every topic is published", "[node][publish]") {
  auto published = topics_of_one_block(nullptr);
  CHECK(published.count("blocks/") == 1);
  CHECK(published.count("l2Book/ETH") == 1);
  CHECK(published.count("l2Book/BTC") == 1);
}
