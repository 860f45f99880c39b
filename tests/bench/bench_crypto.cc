// Costs of the stateless stage: keccak-256, the EIP-712 digest of a one-order action, secp256k1
// recovery, and whole envelope verification (parse + digest + recover). Figures go to
// docs/benchmarks.md; the target is verification within 15% of bare recovery.
#include <benchmark/benchmark.h>
#include <boost/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "state/envelope.h"
#include "state/keccak.h"

namespace {
using namespace state;

const SecretKey kKey =
    *parse_secret_key("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
constexpr std::uint64_t kNonce = 1767225600000;

Action one_order() {
  return *action_from_json(boost::json::parse(
      R"({"type":"order","orders":[{"market":"BTC","isBuy":true,"px":"65000.5","sz":"0.001","reduceOnly":false,"tif":"Gtc","cloid":"0x0123456789abcdef0123456789abcdef","triggerPx":"","tpsl":""}]})"));
}

std::string one_order_envelope_json() {
  EnvelopeVerifier verifier(1337);
  return boost::json::serialize(envelope_to_json(verifier.sign(one_order(), kNonce, kKey)));
}

void BM_Keccak256(benchmark::State& state) {
  std::string input(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(keccak256(input));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Keccak256)->Arg(32)->Arg(136)->Arg(1024);

// Eight 66-byte messages (the size of an EIP-712 digest's input), one permutation each: per
// message, against BM_Keccak256/32 (also one permutation).
void BM_Keccak256ManyEight(benchmark::State& state) {
  std::string input(66, 'x');
  std::vector<std::span<const std::uint8_t>> messages(
      8, {reinterpret_cast<const std::uint8_t*>(input.data()), input.size()});
  std::vector<Hash256> out(8);
  for (auto _ : state) {
    keccak256_many(messages, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 8);
}
BENCHMARK(BM_Keccak256ManyEight);

void BM_Eip712DigestOneOrder(benchmark::State& state) {
  EnvelopeVerifier verifier(1337);
  Action action = one_order();
  for (auto _ : state) benchmark::DoNotOptimize(verifier.digest(action, kNonce));
}
BENCHMARK(BM_Eip712DigestOneOrder);

void BM_Secp256k1Recover(benchmark::State& state) {
  Hash256 digest = keccak256("perpd");
  Signature signature = sign_digest(kKey, digest);
  for (auto _ : state) benchmark::DoNotOptimize(recover_address(digest, signature));
}
BENCHMARK(BM_Secp256k1Recover);

void BM_DecodeEnvelopeJson(benchmark::State& state) {
  std::string text = one_order_envelope_json();
  for (auto _ : state) benchmark::DoNotOptimize(decode_envelope_json(text));
}
BENCHMARK(BM_DecodeEnvelopeJson);

void BM_DecodeEnvelopeBinary(benchmark::State& state) {
  std::string binary = encode_envelope_binary(*decode_envelope_json(one_order_envelope_json()));
  for (auto _ : state) benchmark::DoNotOptimize(decode_envelope_binary(binary));
}
BENCHMARK(BM_DecodeEnvelopeBinary);

void BM_VerifyEnvelopeJson(benchmark::State& state) {
  EnvelopeVerifier verifier(1337);
  std::string text = one_order_envelope_json();
  for (auto _ : state) {
    auto verified = verifier.verify_json(text);
    if (!verified.ok()) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(verified);
  }
}
BENCHMARK(BM_VerifyEnvelopeJson);

// 100 distinct one-order envelopes (distinct signers and prices), verified one by one or as a
// batch (hashes eight at a time, recoveries back to back): the time per envelope of each.
std::vector<SignedAction> hundred_envelopes() {
  EnvelopeVerifier verifier(1337);
  std::vector<SignedAction> envelopes;
  for (int i = 0; i < 100; ++i) {
    SecretKey key = kKey;
    key.bytes[31] = static_cast<std::uint8_t>(i + 1);
    Action action = *action_from_json(boost::json::parse(
        R"({"type":"order","orders":[{"market":"BTC","isBuy":true,"px":")" +
        std::to_string(60000 + i) +
        R"(","sz":"0.001","reduceOnly":false,"tif":"Gtc","cloid":"0x0123456789abcdef0123456789abcdef","triggerPx":"","tpsl":""}]})"));
    envelopes.push_back(verifier.sign(std::move(action), kNonce + i, key));
  }
  return envelopes;
}

void BM_VerifyHundredOneByOne(benchmark::State& state) {
  EnvelopeVerifier verifier(1337);
  const auto envelopes = hundred_envelopes();
  for (auto _ : state)
    for (const auto& envelope : envelopes) benchmark::DoNotOptimize(verifier.verify(envelope));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 100);
}
BENCHMARK(BM_VerifyHundredOneByOne);

void BM_VerifyHundredAsBatch(benchmark::State& state) {
  EnvelopeVerifier verifier(1337);
  const auto envelopes = hundred_envelopes();
  for (auto _ : state) benchmark::DoNotOptimize(verifier.verify_batch(envelopes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 100);
}
BENCHMARK(BM_VerifyHundredAsBatch);

void BM_SignOneOrder(benchmark::State& state) {
  EnvelopeVerifier verifier(1337);
  Action action = one_order();
  for (auto _ : state) benchmark::DoNotOptimize(verifier.sign(action, kNonce, kKey));
}
BENCHMARK(BM_SignOneOrder);

}  // namespace

BENCHMARK_MAIN();
