// perp-load: the node's load generator and RPC read benchmark (scripts/loadtest.sh runs it).
//   perp-load recovery [--seconds S]: the machine's secp256k1 recovery rate on all cores (the
//     ceiling for verified orders per second).
//   perp-load orders --rpc URL --key VALIDATOR.key [--accounts A --orders N --connections C
//     --batch B --cross-every K]: funds A traders from the validator, signs N resting orders in
//     advance (with K > 0, every K-th is instead an IOC that crosses the book and fills), sends
//     them over C keep-alive connections as JSON-RPC batches of B perp_sendAction calls (each
//     connection taking the next batch from one queue), and
//     reports committed orders per second and submit-to-commit latency p50/p99.
//   perp-load book --rpc URL [--connections C --seconds S]: perp_orderBook requests per second.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include <sys/resource.h>

#include "node/key_file.h"
#include "node/order_json.h"
#include "node/rpc_client.h"
#include "state/decimal.h"
#include "state/envelope.h"
#include "state/keccak.h"

namespace {
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

state::SecretKey trader_key(int i) {
  state::Hash256 h = state::keccak256("perp-load trader " + std::to_string(i));
  state::SecretKey key;
  std::memcpy(key.data(), h.data(), 32);
  return key;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// The machine's CPU time split (Linux /proc/stat, clock ticks) and this process's own CPU time:
// where the cores went while orders were in flight, beside the node's share.
struct CpuSample {
  bool read = false;                            // /proc/stat parsed
  std::uint64_t busy = 0, idle = 0, steal = 0;  // all cores; busy includes steal
  double self_seconds = 0;
};
CpuSample cpu_sample() {
  CpuSample out;
  if (std::FILE* f = std::fopen("/proc/stat", "r")) {
    unsigned long long v[8] = {};  // user nice system idle iowait irq softirq steal
    if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                    &v[4], &v[5], &v[6], &v[7]) == 8) {
      out.read = true;
      out.idle = v[3] + v[4];
      out.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
      out.steal = v[7];  // time the hypervisor gave this VM's cores to someone else
    }
    std::fclose(f);
  }
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  out.self_seconds = static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
                     static_cast<double>(self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
  return out;
}

// The share of the cores' time between two samples that the hypervisor gave to someone else
// (steal): this VM's cores, not its code, were slower by that much.
double steal_share(const CpuSample& before, const CpuSample& after) {
  if (!before.read || !after.read || after.busy + after.idle <= before.busy + before.idle) return 0;
  const double all = static_cast<double>(after.busy + after.idle - before.busy - before.idle);
  return after.steal > before.steal ? static_cast<double>(after.steal - before.steal) / all : 0;
}

// Recovers distinct signatures in turn, as a node does: one signature recovered over and over runs
// ~8% faster on this machine, because libsecp256k1's variable-time multiplication branches on
// the scalars' digits and a single signature trains the branch predictor on one pattern.
int recovery(int seconds) {
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  constexpr int kSignatures = 1024;
  std::vector<std::pair<state::Hash256, state::Signature>> signed_digests;
  for (int i = 0; i < kSignatures; ++i) {
    const state::Hash256 digest = state::keccak256("recovery " + std::to_string(i));
    signed_digests.emplace_back(digest, state::sign_digest(trader_key(i % 64), digest));
  }
  std::atomic<std::uint64_t> total{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      std::uint64_t n = 0;
      std::size_t i = t * kSignatures / threads;
      while (!stop) {
        const auto& [digest, signature] = signed_digests[i];
        (void)state::recover_address(digest, signature);
        if (++i == signed_digests.size()) i = 0;
        ++n;
      }
      total += n;
    });
  const CpuSample before = cpu_sample();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  const CpuSample after = cpu_sample();
  for (auto& w : workers) w.join();
  std::printf(
      "recovery: %u threads, %.0f recoveries/s (%d distinct signatures; %.1f%% of the cores' time "
      "stolen by the hypervisor)\n",
      threads, static_cast<double>(total) / seconds, kSignatures,
      100.0 * steal_share(before, after));
  return 0;
}

json::object order(const std::string& market, bool buy, std::int64_t px, const std::string& sz,
                   std::string_view tif) {
  return node::order_action_json(
      json::array{node::order_spec_json(market, buy, state::format_decimal(px, 6), sz, tif)});
}

std::size_t occurrences(std::string_view text, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

int orders(const std::string& url, const std::string& key_path, int accounts, int count,
           int connections, int batch, int cross_every) {
  // Each trader has about connections x batch / accounts orders in flight, which may commit out
  // of nonce order: well within the 100 highest nonces the node keeps.
  if (accounts < 1 || batch < 1 || connections < 1 ||
      static_cast<long long>(connections) * batch > 50LL * accounts)
    return std::fprintf(stderr,
                        "error: --connections x --batch must be at most 50 x --accounts (each "
                        "trader's orders in flight stay within the nonce window)\n"),
           2;
  auto validator = node::read_key_file(key_path);
  if (!validator) return std::fprintf(stderr, "error: %s\n", validator.error().message.c_str()), 1;
  auto client = std::move(*node::RpcClient::create(url));
  auto status = client.call("chain_status", json::object{});
  if (!std::holds_alternative<json::value>(status))
    return std::fprintf(stderr, "error: no node at %s\n", url.c_str()), 1;
  const std::uint64_t chain =
      std::get<json::value>(status).at("chainId").to_number<std::uint64_t>();
  state::EnvelopeVerifier verifier(chain);
  std::uint64_t nonce = now_ms();

  // Fund the traders (batches of usdSend from the validator).
  for (int i = 0; i < accounts; i += 100) {
    json::array calls;
    for (int j = i; j < std::min(accounts, i + 100); ++j) {
      auto action = state::action_from_json(json::object{
          {"type", "usdSend"},
          {"destination", state::to_checksum_address(state::address_of(trader_key(j)))},
          {"amount", "2000"}});
      calls.push_back(json::object{{"jsonrpc", "2.0"},
                                   {"id", j},
                                   {"method", "perp_sendAction"},
                                   {"params", state::envelope_to_json(verifier.sign(
                                                  std::move(*action), nonce++, *validator))}});
    }
    if (!client.post("/", json::serialize(calls)))
      return std::fprintf(stderr, "error: funding failed\n"), 1;
  }

  // Sign every order in advance: resting bids and asks 2-6% away from 3,500 on ETH, and with
  // --cross-every, IOCs that cross them.
  std::printf("signing %d orders...\n", count);
  struct Body {
    std::string text;
    std::size_t calls;
  };
  // One queue of batches that every connection takes its next batch from, so all of them stay
  // busy until the last batch. With a fixed share per connection, the connections that happened
  // to draw more two-block waits were still sending ~0.5 s after the rest had finished, and the
  // cores idled through that tail. A batch holds consecutive orders, one per trader (--accounts
  // at least --batch), so a trader has ~10 orders in flight at once: they may commit out of nonce
  // order, which the nonce rule allows within its 100 highest.
  // Signed on every core (signing ~30 us an order took ~12 s of one core for the default load);
  // each batch is built alone, so the texts are the same whatever the thread count. A trader's
  // nonces rise by one each time its turn comes round, as if signed in order.
  const std::size_t batch_count = (static_cast<std::size_t>(count) + batch - 1) / batch;
  std::vector<Body> bodies(batch_count);
  {
    const std::uint64_t first_nonce = now_ms();
    auto sign_batch = [&](std::size_t b) {
      json::array pending;
      const int end = static_cast<int>(std::min<std::size_t>(count, (b + 1) * batch));
      for (int i = static_cast<int>(b * batch); i < end; ++i) {
        const int who = i % accounts;
        const bool buy = (i / accounts) % 2 == 0;  // a trader alternates sides: small positions
        // A crossing IOC takes the best resting order on the other side (asks 3,700-3,799, bids
        // 3,201-3,300) and fills; the rest only rest.
        const bool cross = cross_every > 0 && i % cross_every == cross_every - 1;
        const std::int64_t px = cross ? (buy ? 3'800 : 3'200) * 1'000'000LL
                                : buy ? (3'300 - (i % 100)) * 1'000'000LL
                                      : (3'700 + (i % 100)) * 1'000'000LL;
        auto action = state::action_from_json(order("ETH", buy, px, "0.01", cross ? "Ioc" : "Gtc"));
        const std::uint64_t nonce = first_nonce + static_cast<std::uint64_t>(i / accounts);
        pending.push_back(json::object{
            {"jsonrpc", "2.0"},
            {"id", i},
            {"method", "perp_sendAction"},
            {"params",
             state::envelope_to_json(verifier.sign(std::move(*action), nonce, trader_key(who)))}});
      }
      bodies[b] = {json::serialize(pending), pending.size()};
    };
    std::atomic<std::size_t> next_batch{0};
    std::vector<std::thread> signers;
    for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t)
      signers.emplace_back([&] {
        for (std::size_t b = next_batch++; b < batch_count; b = next_batch++) sign_batch(b);
      });
    for (auto& t : signers) t.join();
  }
  std::atomic<std::size_t> next_body{0};

  std::atomic<std::uint64_t> committed{0}, rejected{0};
  std::mutex reasons_mutex;
  std::map<std::string, std::uint64_t> reasons;  // why orders did not commit
  std::vector<std::vector<double>> latencies(connections);
  // When each answer came (seconds from the start) and how many of its calls committed.
  std::vector<std::vector<std::pair<double, std::uint64_t>>> commits(connections);
  const CpuSample cpu_before = cpu_sample();
  const auto start = Clock::now();
  std::vector<std::thread> senders;
  for (int c = 0; c < connections; ++c)
    senders.emplace_back([&, c] {
      auto rpc = std::move(*node::RpcClient::create(url, std::chrono::seconds(60)));
      for (std::size_t k = next_body++; k < bodies.size(); k = next_body++) {
        const Body& body = bodies[k];
        const auto sent = Clock::now();
        auto reply = rpc.post("/", body.text);
        const auto answered = Clock::now();
        const double ms = std::chrono::duration<double, std::milli>(answered - sent).count();
        if (!reply) continue;
        // Fast path, as perp-load shares the node's cores: when the answer holds one
        // "status":"ok" per call (the order statuses inside are "statuses"), all committed and
        // nothing is parsed.
        if (occurrences(reply->second, R"("status":"ok")") == body.calls) {
          committed += body.calls;
          latencies[c].insert(latencies[c].end(), body.calls, ms);
          commits[c].emplace_back(std::chrono::duration<double>(answered - start).count(),
                                  body.calls);
          continue;
        }
        json::error_code ec;
        json::value answers = json::parse(reply->second, ec);
        if (ec || !answers.is_array()) continue;
        for (const auto& a : answers.as_array()) {
          const auto* result = a.as_object().if_contains("result");
          if (result && result->is_object() && result->at("status") == "ok") {
            ++committed;
            latencies[c].push_back(ms);
            commits[c].emplace_back(std::chrono::duration<double>(answered - start).count(), 1);
          } else {
            ++rejected;
            std::string why = "no answer";
            if (const auto* e = a.as_object().if_contains("error"))
              why = e->as_object().contains("data") ? json::serialize(e->at("data").at("reason"))
                                                    : json::serialize(e->at("message"));
            else if (result && result->is_object() && result->at("status") == "err")
              why = json::serialize(result->at("response").at("reason"));  // refused in its block
            else if (result)
              why = json::serialize(result->at("status"));
            std::lock_guard lock(reasons_mutex);
            ++reasons[why];
          }
        }
      }
    });
  for (auto& s : senders) s.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const CpuSample cpu_after = cpu_sample();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::printf(
      "orders: %llu committed, %llu not, in %.2f s: %.0f committed orders/s; submit-to-commit p50 "
      "%.1f ms, p99 %.1f ms\n",
      static_cast<unsigned long long>(committed.load()),
      static_cast<unsigned long long>(rejected.load()), seconds,
      static_cast<double>(committed) / seconds, percentile(all, 0.5), percentile(all, 0.99));
  // The steady rate leaves out the ramp (connections opening, the first block) and the drain
  // (the last calls waiting for their block with the cores idle): orders committed between the
  // answers that took the count past 10% and past 90% of the total, over the time between them.
  std::vector<std::pair<double, std::uint64_t>> timeline;
  for (const auto& c : commits) timeline.insert(timeline.end(), c.begin(), c.end());
  std::sort(timeline.begin(), timeline.end());
  const std::uint64_t total = committed.load();
  std::uint64_t running = 0, at_low = 0, at_high = 0;
  double t_low = 0, t_high = 0;
  for (const auto& [t, n] : timeline) {
    running += n;
    if (at_low == 0 && running * 10 >= total) at_low = running, t_low = t;
    if (at_high == 0 && running * 10 >= total * 9) at_high = running, t_high = t;
  }
  if (t_high > t_low)
    std::printf(
        "steady: %.0f committed orders/s (from 10%% to 90%% of the commits, %.2f s to %.2f s)\n",
        static_cast<double>(at_high - at_low) / (t_high - t_low), t_low, t_high);
  // Counters can step back (iowait may), so the differences are taken signed and clamped.
  const auto delta = [](std::uint64_t after, std::uint64_t before) {
    return after > before ? static_cast<double>(after - before) : 0.0;
  };
  const double idle_ticks = delta(cpu_after.idle, cpu_before.idle);
  const double all_ticks = idle_ticks + delta(cpu_after.busy, cpu_before.busy);
  if (cpu_before.read && cpu_after.read && all_ticks > 0) {
    const double cores = std::max(1u, std::thread::hardware_concurrency());
    std::printf(
        "cores while sending: %.1f%% idle, %.1f%% stolen by the hypervisor, %.1f%% used by "
        "perp-load itself\n",
        100.0 * idle_ticks / all_ticks, 100.0 * steal_share(cpu_before, cpu_after),
        100.0 * (cpu_after.self_seconds - cpu_before.self_seconds) / (seconds * cores));
  }
  for (const auto& [why, n] : reasons)
    std::printf("  not committed: %s x%llu\n", why.c_str(), static_cast<unsigned long long>(n));
  return 0;
}

int book(const std::string& url, int connections, int seconds) {
  std::atomic<std::uint64_t> done{0}, failed{0};
  std::atomic<bool> stop{false};
  const std::string body =
      R"({"jsonrpc":"2.0","id":1,"method":"perp_orderBook","params":{"market":"ETH","depth":20}})";
  std::vector<std::thread> workers;
  for (int c = 0; c < connections; ++c)
    workers.emplace_back([&] {
      auto rpc = std::move(*node::RpcClient::create(url));
      while (!stop) {
        auto reply = rpc.post("/", body);
        if (reply && reply->first == 200)
          ++done;
        else
          ++failed;
      }
    });
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  std::printf("book: %d connections, %.0f perp_orderBook requests/s (%llu failed)\n", connections,
              static_cast<double>(done) / seconds, static_cast<unsigned long long>(failed.load()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"perp-load: load generator and RPC benchmarks for perpd"};
  app.require_subcommand(1);
  std::string url = "http://127.0.0.1:8545", key;
  int seconds = 5, accounts = 200, count = 20'000, connections = 8, batch = 50, cross_every = 0;
  app.add_option("--rpc", url);
  auto* rec = app.add_subcommand("recovery", "secp256k1 recoveries per second on all cores");
  rec->add_option("--seconds", seconds);
  auto* ord = app.add_subcommand("orders", "committed orders per second and latency");
  ord->add_option("--key", key, "the validator's key file (funds the traders)")->required();
  ord->add_option("--accounts", accounts);
  ord->add_option("--orders", count);
  ord->add_option("--connections", connections);
  ord->add_option("--batch", batch);
  ord->add_option("--cross-every", cross_every, "every K-th order an IOC that fills (0: none)");
  auto* bk = app.add_subcommand("book", "perp_orderBook requests per second");
  bk->add_option("--connections", connections);
  bk->add_option("--seconds", seconds);
  app.fallthrough();
  CLI11_PARSE(app, argc, argv);
  if (*rec) return recovery(seconds);
  if (*ord) return orders(url, key, accounts, count, connections, batch, cross_every);
  return book(url, connections, seconds);
}
