#!/usr/bin/env node
// Deploys the committed contracts/out/SandrunMarket.json with viem from the chain's first
// unlocked account (anvil's dev account 0), with local-chain defaults, and prints
// { "address", "chainId", "rpcUrl", "deployer", "blockNumber" } (also written to --out FILE).
//   node scripts/deploy-market.mjs --rpc http://127.0.0.1:8545 [--out .sandrun/market.json]
//     [--min-bond 0.1] [--claim-bond 0.01] [--unbonding-delay 60]     (ether, ether, seconds)
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { clients, deploy, market, LOCAL_SETTINGS, viem } from '../tests/contracts/lib/market.mjs';

const { values } = parseArgs({
  options: {
    rpc: { type: 'string' },
    out: { type: 'string' },
    'min-bond': { type: 'string' },
    'claim-bond': { type: 'string' },
    'unbonding-delay': { type: 'string' },
  },
});
const fail = (msg) => {
  console.error(`deploy-market: ${msg}`);
  process.exit(2);
};
if (!values.rpc) fail('--rpc URL is required');
const ether = (name, fallback) => {
  if (values[name] === undefined) return fallback;
  if (!/^\d+(\.\d{1,18})?$/.test(values[name])) fail(`--${name}: a decimal amount of ether, got ${values[name]}`);
  return viem.parseEther(values[name]);
};
const settings = {
  minBond: ether('min-bond', LOCAL_SETTINGS.minBond),
  claimBond: ether('claim-bond', LOCAL_SETTINGS.claimBond),
  unbondingDelay: values['unbonding-delay'] === undefined ? LOCAL_SETTINGS.unbondingDelay : Number(values['unbonding-delay']),
};
if (!Number.isInteger(settings.unbondingDelay) || settings.unbondingDelay < 0 || settings.unbondingDelay >= 2 ** 32) {
  fail('--unbonding-delay: whole seconds');
}

const chainId = await clients(values.rpc).pub.getChainId().catch((e) => fail(`${values.rpc}: ${e.shortMessage ?? e.message}`));
const c = clients(values.rpc, chainId);
const [deployer] = await c.wallet.getAddresses();
if (!deployer) fail(`${values.rpc} has no unlocked account to deploy from`);
const { address, receipt } = await deploy(c, deployer, market, [settings.minBond, settings.claimBond, settings.unbondingDelay]);
const result = { address, chainId, rpcUrl: values.rpc, deployer, blockNumber: Number(receipt.blockNumber) };
const text = `${JSON.stringify(result, null, 2)}\n`;
if (values.out) {
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, text);
}
process.stdout.write(text);
