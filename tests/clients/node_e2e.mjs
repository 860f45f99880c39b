// perpd end to end from JavaScript, with ethers v6 signing (a wallet library no one here wrote):
// start a node, fetch the EIP-712 schema over JSON-RPC, sign orders with ethers, send them with
// perp_sendAction, and read the results back in SPEC section 5's shapes; then hand an
// ethers-signed envelope to `perp-cli submit`.
// Usage: node node_e2e.mjs PERPD PERP_CLI
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "ethers";
import { checks } from "./checks.mjs";
import { messageOf, typesFor } from "./eip712_schema.mjs";

const [perpd, perpCli] = process.argv.slice(2);
const work = mkdtempSync(join(tmpdir(), "perpd-e2e-"));
const { check, finish } = checks("node-e2e");

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

// The validator key comes from ethers; perpd init imports it.
const validator = ethers.Wallet.createRandom();
const keyPath = join(work, "validator.key");
writeFileSync(keyPath, validator.privateKey + "\n", { mode: 0o600 });
const home = join(work, "node");
const init = spawnSync(perpd, ["init", "--home", home, "--key", keyPath], { encoding: "utf8" });
check(init.status === 0, `perpd init (${init.stderr})`);
const port = await freePort();
const url = `http://127.0.0.1:${port}/`;
const node = spawn(perpd, ["start", "--home", home, "--rpc", `127.0.0.1:${port}`], { stdio: "ignore" });

let id = 0;
async function call(method, params = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
  });
  return response.json();
}

try {
  let status;
  for (let i = 0; i < 100 && !status; i++) {
    try {
      status = (await call("chain_status")).result;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  check(status !== undefined, "the node answers chain_status");
  const schema = (await call("perp_eip712Schema")).result;
  check(schema.domain.chainId === status.chainId, "schema domain carries the chain id");
  let nonce = Date.now();
  async function envelope(wallet, action) {
    const n = nonce++;
    const signature = await wallet.signTypedData(schema.domain, typesFor(schema, schema.primaryTypes[action.type]), messageOf(action, n));
    return { action, nonce: n, signature };
  }
  const send = async (wallet, action) => call("perp_sendAction", await envelope(wallet, action));
  const order = (market, isBuy, px, sz, tif = "Gtc") => ({
    type: "order",
    orders: [{ market, isBuy, px, sz, reduceOnly: false, tif, cloid: "0x" + "00".repeat(16), triggerPx: "", tpsl: "" }],
  });

  const trader = ethers.Wallet.createRandom();
  const funded = await send(validator, { type: "usdSend", destination: trader.address, amount: "50000" });
  check(funded.result?.status === "ok", `usdSend from the validator (${JSON.stringify(funded)})`);

  const rest = await send(validator, order("ETH", false, "3500", "1"));
  const oid = rest.result?.response?.statuses?.[0]?.resting?.oid;
  check(Number.isInteger(oid), `an ask rests with an oid (${JSON.stringify(rest)})`);
  const take = await send(trader, order("ETH", true, "3500", "0.4", "Ioc"));
  const filled = take.result?.response?.statuses?.[0]?.filled;
  check(filled?.totalSz === "0.4" && filled?.avgPx === "3500" && filled?.oid > oid, `the Ioc fills (${JSON.stringify(take)})`);

  const book = (await call("perp_orderBook", { market: "ETH" })).result;
  check(JSON.stringify(book.asks) === JSON.stringify([{ px: "3500", sz: "0.6", n: 1 }]), `book after the fill (${JSON.stringify(book)})`);
  const account = (await call("perp_account", { user: trader.address })).result;
  // 0.4 ETH at 3,500 = 1,400 notional; taker fee 0.63.
  check(account.usd === "49999.37", `trader usd after the fee (${account.usd})`);
  check(account.positions[0]?.szi === "0.4" && account.positions[0]?.entryPx === "3500", "trader position");
  const fills = (await call("perp_fills", { user: trader.address })).result;
  check(fills.length === 1 && fills[0].fee === "0.63" && fills[0].dir === "Open Long", `trader fill (${JSON.stringify(fills)})`);
  const tx = (await call("chain_getTx", { hash: take.result.txHash })).result;
  check(tx.signer === trader.address && tx.result.status === "ok", "chain_getTx names ethers' signer");

  // An action execution refuses: its receipt, status "err" with the reason.
  const broke = ethers.Wallet.createRandom();
  const rejected = await send(broke, { type: "usdSend", destination: trader.address, amount: "1" });
  check(rejected.result?.status === "err" && rejected.result?.response?.reason === "InsufficientBalance" &&
        rejected.result?.height > 0,
        `an unfunded usdSend is refused with a reason (${JSON.stringify(rejected)})`);
  const refusedTx = (await call("chain_getTx", { hash: rejected.result?.txHash })).result;
  check(refusedTx?.result?.status === "err" && refusedTx?.result?.response?.reason === "InsufficientBalance",
        `chain_getTx gives the refusal in the same shape (${JSON.stringify(refusedTx)})`);
  // One refused at entry never reaches a block: -32000 with its reason.
  const twice = await envelope(trader, { type: "usdSend", destination: validator.address, amount: "1" });
  const first = await call("perp_sendAction", twice);
  const repeated = await call("perp_sendAction", twice);
  check(first.result?.status === "ok" && repeated.error?.code === -32000 && repeated.error?.data?.reason === "DuplicateTx",
        `the same envelope again is refused at entry (${JSON.stringify(repeated)})`);

  // perp-cli submit sends an envelope signed elsewhere (here by ethers) as written.
  const envelopePath = join(work, "bid.json");
  writeFileSync(envelopePath, JSON.stringify(await envelope(trader, order("ETH", true, "3000", "0.1"))));
  const submit = (path) => spawnSync(perpCli, ["--rpc", url, "submit", path], { encoding: "utf8" });
  const submitted = submit(envelopePath);
  check(submitted.status === 0 && /^tx 0x[0-9a-f]{64}  height \d+  ok\n  \{"resting":\{"oid":\d+\}\}\n$/.test(submitted.stdout),
        `perp-cli submit: the bid rests (${submitted.status} ${submitted.stdout} ${submitted.stderr})`);
  const bids = (await call("perp_orderBook", { market: "ETH" })).result.bids;
  check(JSON.stringify(bids) === JSON.stringify([{ px: "3000", sz: "0.1", n: 1 }]), `the submitted bid is on the book (${JSON.stringify(bids)})`);
  const again = submit(envelopePath);
  check(again.status === 1 && /^error: (DuplicateTx|NonceAlreadyUsed): /.test(again.stderr),
        `perp-cli submit of the same envelope again exits 1 naming why (${again.status} ${again.stderr})`);
  writeFileSync(envelopePath, "{\"action\": ");
  const malformed = submit(envelopePath);
  check(malformed.status === 1 && malformed.stderr.startsWith("error: BadJson: "),
        `perp-cli submit of a malformed file exits 1 with BadJson (${malformed.status} ${malformed.stderr})`);
} finally {
  node.kill("SIGTERM");
  await new Promise((r) => node.on("exit", r));
  rmSync(work, { recursive: true, force: true });
}
finish();
