// Conformance of perp-cli's signing with ethers v6, a wallet library no one here wrote.
//   ethers signs every example action (SPEC section 3) -> perp-cli recover must print ethers' address;
//   perp-cli signs every example                       -> ethers.verifyTypedData must give the key's address;
//   perp-cli keygen writes a 0600 key file that ethers imports to the printed address.
// Every expected value comes from ethers at test time.
// Usage: node conformance.mjs PERP_CLI ACTIONS_JSON
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "ethers";
import { checks } from "./checks.mjs";
import { messageOf, typesFor as typesForSchema } from "./eip712_schema.mjs";

const [perpCli, actionsPath] = process.argv.slice(2);
const chainId = 1337;
const work = mkdtempSync(join(tmpdir(), "perpd-ethers-"));
const { check, finish } = checks("ethers-conformance");


function cli(args) {
  return spawnSync(perpCli, args, { encoding: "utf8" });
}

// The schema comes from perp-cli (what perp_eip712Schema serves); ethers wants only the types
// reachable from the primary type, without EIP712Domain.
const schema = JSON.parse(execFileSync(perpCli, ["schema", "--chain-id", String(chainId)], { encoding: "utf8" }));
const domain = schema.domain;
const typesFor = (primary) => typesForSchema(schema, primary);

const actions = JSON.parse(readFileSync(actionsPath, "utf8"));
check(actions.length === Object.keys(schema.primaryTypes).length, "one example per action type");

const ethersWallet = ethers.Wallet.createRandom();
const cliKeyPath = join(work, "cli.key");
const keygen = cli(["keygen", "--out", cliKeyPath]);
check(keygen.status === 0, `keygen exits 0 (${keygen.stderr})`);
check((statSync(cliKeyPath).mode & 0o777) === 0o600, "key file is readable only by its owner");
const cliWallet = new ethers.Wallet(readFileSync(cliKeyPath, "utf8").trim());
check(keygen.stdout.trim() === cliWallet.address, `keygen prints the key's address (${keygen.stdout.trim()})`);
check(cli(["keygen", "--out", cliKeyPath]).status !== 0, "keygen refuses to overwrite a key file");

let nonce = 1767225600000;
for (const action of actions) {
  const primary = schema.primaryTypes[action.type];
  const types = typesFor(primary);
  check(primary !== undefined, `schema names a primary type for ${action.type}`);

  // ethers signs, perp-cli recovers.
  nonce++;
  const signature = await ethersWallet.signTypedData(domain, types, messageOf(action, nonce));
  const envelopePath = join(work, `${action.type}.ethers.json`);
  writeFileSync(envelopePath, JSON.stringify({ action, nonce, signature }));
  const recovered = cli(["recover", "--chain-id", String(chainId), envelopePath]);
  check(recovered.status === 0 && recovered.stdout.trim() === ethersWallet.address,
        `${action.type}: perp-cli recovers ethers' signer (got ${recovered.stdout.trim()} ${recovered.stderr.trim()})`);

  // The same envelope on another chain must not recover the signer.
  const otherChain = cli(["recover", "--chain-id", "1", envelopePath]);
  check(otherChain.stdout.trim() !== ethersWallet.address, `${action.type}: chain id is bound into the signature`);

  // perp-cli signs, ethers verifies.
  nonce++;
  const actionPath = join(work, `${action.type}.action.json`);
  writeFileSync(actionPath, JSON.stringify(action));
  const signed = cli(["sign", "--key", cliKeyPath, "--chain-id", String(chainId), "--nonce", String(nonce), actionPath]);
  check(signed.status === 0, `${action.type}: perp-cli sign exits 0 (${signed.stderr.trim()})`);
  if (signed.status !== 0) continue;
  const envelope = JSON.parse(signed.stdout);
  check(envelope.nonce === nonce, `${action.type}: envelope carries the nonce`);
  const signer = ethers.verifyTypedData(domain, types, messageOf(envelope.action, envelope.nonce), envelope.signature);
  check(signer === cliWallet.address, `${action.type}: ethers recovers perp-cli's signer (got ${signer})`);
  // And against the original input (perp-cli may only have re-cased addresses).
  const signerOfInput = ethers.verifyTypedData(domain, types, messageOf(action, nonce), envelope.signature);
  check(signerOfInput === cliWallet.address, `${action.type}: perp-cli signed the input's fields unchanged`);
}

// A tampered envelope recovers someone else, and a malformed one is a named error.
{
  const action = actions[0];
  const signature = await ethersWallet.signTypedData(domain, typesFor(schema.primaryTypes[action.type]), messageOf(action, 5));
  const tampered = structuredClone(action);
  tampered.orders[0].px = "1";
  const path = join(work, "tampered.json");
  writeFileSync(path, JSON.stringify({ action: tampered, nonce: 5, signature }));
  const result = cli(["recover", "--chain-id", String(chainId), path]);
  check(result.stdout.trim() !== ethersWallet.address, "a tampered field changes the recovered signer");
  writeFileSync(path, JSON.stringify({ action, nonce: 5, signature: signature.slice(0, 100) }));
  const bad = cli(["recover", "--chain-id", String(chainId), path]);
  check(bad.status !== 0 && bad.stderr.includes("BadSignatureLength"), `short signature is BadSignatureLength (${bad.stderr.trim()})`);
}

rmSync(work, { recursive: true, force: true });
finish();
