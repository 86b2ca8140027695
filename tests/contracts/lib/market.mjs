// The marketplace contract on a real anvil, driven by viem (the independent client: not the
// SDK). Used by tests/contracts/*.test.mjs, scripts/gas-report.mjs, scripts/deploy-market.mjs
// and the vector generator of crates/sandrun-chain.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, CHAIN_ID, rpc, startAnvil } from './anvil.mjs';

const require = createRequire(join(ROOT, 'tools/package.json'));
export const viem = require('viem');
const { foundry } = require('viem/chains');
const { createPublicClient, createWalletClient, createTestClient, http, encodeFunctionData, decodeErrorResult,
  decodeEventLog, parseEther, keccak256, toHex } = viem;

export const chain = { ...foundry, id: CHAIN_ID };

export function loadArtifact(name) {
  const dir = name === 'SandrunMarket' ? 'contracts/out' : 'contracts/out/test';
  return JSON.parse(readFileSync(join(ROOT, dir, `${name}.json`), 'utf8'));
}
export const market = loadArtifact('SandrunMarket');

/** Local-chain defaults (also scripts/deploy-market.mjs): small bonds, a one-minute unbonding. */
export const LOCAL_SETTINGS = { minBond: parseEther('0.1'), claimBond: parseEther('0.01'), unbondingDelay: 60 };

export const STATES = ['None', 'Open', 'Claimed', 'Finalized', 'Refunded', 'Cancelled'];

/** A 64-byte stand-in for a worker's Ed25519 signature (the contract checks only its length). */
export const signatureOf = (label) => `0x${keccak256(toHex(`sig-a ${label}`)).slice(2)}${keccak256(toHex(`sig-b ${label}`)).slice(2)}`;
export const hashOf = (label) => keccak256(toHex(label));
export const CID = 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e';

export function clients(url, chainId = CHAIN_ID) {
  const transport = http(url);
  const on = { ...chain, id: chainId };
  return {
    pub: createPublicClient({ chain: on, transport }),
    wallet: createWalletClient({ chain: on, transport }),
    test: createTestClient({ chain: on, mode: 'anvil', transport }),
  };
}

/** Deploys `artifact` from `from` with constructor `args`; resolves to { address, receipt }. */
export async function deploy({ pub, wallet }, from, artifact, args) {
  const hash = await wallet.deployContract({ account: from, abi: artifact.abi, bytecode: artifact.bytecode, args });
  const receipt = await pub.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error('deployment reverted');
  return { address: viem.getAddress(receipt.contractAddress), receipt };
}

/** Revert data of a call that must revert (raw eth_call, as a wallet would see it). */
export async function revertData(url, { from, to, data, value = 0n }) {
  try {
    await rpc(url, 'eth_call', [{ from, to, data, value: toHex(value) }, 'latest']);
  } catch (e) {
    if (typeof e.data === 'string') return e.data;
    throw e;
  }
  throw new Error('the call did not revert');
}

/**
 * A fresh anvil with the market deployed from dev account 0. `ctx.send(from, fn, args, value)`
 * mines a transaction and resolves to its receipt (with decoded `events`); `ctx.revert(from, fn,
 * args, value)` resolves to the decoded custom error of a call that must revert.
 */
export async function setupMarket(settings = LOCAL_SETTINGS, anvilOptions = {}) {
  const anvil = await startAnvil(anvilOptions);
  const c = clients(anvil.url);
  let accounts, address, deployReceipt;
  try {
    accounts = await c.wallet.getAddresses();
    const args = [settings.minBond, settings.claimBond, settings.unbondingDelay];
    ({ address, receipt: deployReceipt } = await deploy(c, accounts[0], market, args));
  } catch (e) {
    await anvil.stop();
    throw e;
  }
  const abi = market.abi;

  const decodeEvents = (receipt) =>
    receipt.logs
      .filter((l) => l.address.toLowerCase() === address.toLowerCase())
      .map((l) => decodeEventLog({ abi, data: l.data, topics: l.topics }));

  const ctx = {
    ...c, anvil, url: anvil.url, accounts, address, abi, deployReceipt, settings,
    stop: () => anvil.stop(),
    data: (fn, args = []) => encodeFunctionData({ abi, functionName: fn, args }),
    async send(from, fn, args = [], value = 0n, to = address) {
      const hash = await c.wallet.sendTransaction({ account: from, to, data: ctx.data(fn, args), value, chain });
      const receipt = await c.pub.waitForTransactionReceipt({ hash });
      if (receipt.status !== 'success') throw new Error(`${fn} reverted`);
      return { ...receipt, events: decodeEvents(receipt) };
    },
    read: (fn, args = []) => c.pub.readContract({ address, abi, functionName: fn, args }),
    async revert(from, fn, args = [], value = 0n) {
      const data = await revertData(anvil.url, { from, to: address, data: ctx.data(fn, args), value });
      return { ...decodeErrorResult({ abi, data }), data };
    },
    job: async (jobId) => {
      const j = await ctx.read('getJob', [jobId]);
      return { ...j, state: STATES[j.state] };
    },
    node: (addr) => ctx.read('getNode', [addr]),
    balance: (addr) => c.pub.getBalance({ address: addr }),
    async now() {
      return (await c.pub.getBlock()).timestamp;
    },
    /** Moves the chain's clock forward and mines a block. */
    async elapse(seconds) {
      await c.test.increaseTime({ seconds });
      await c.test.mine({ blocks: 1 });
    },
    /** Registers dev accounts as nodes with the given bond; resolves to their receipts. */
    async registerNodes(nodes, bond = settings.minBond, price = parseEther('0.001')) {
      const receipts = [];
      for (const [i, node] of nodes.entries()) {
        receipts.push(await ctx.send(node, 'registerNode', [hashOf(`worker key ${node}`), `http://127.0.0.1:${9000 + i}`, price], bond));
      }
      return receipts;
    },
    /** Posts a job from `poster`; resolves to { jobId, receipt }. */
    async postJob(poster, { k = 2, n = 3, price = parseEther('0.01'), ttl = 3600n, label = 'job' } = {}) {
      const deadline = (await ctx.now()) + BigInt(ttl);
      const receipt = await ctx.send(poster, 'postJob', [hashOf(label), CID, k, n, price, deadline], price * BigInt(n));
      return { jobId: receipt.events[0].args.jobId, deadline, receipt };
    },
    submit: (node, jobId, label) =>
      ctx.send(node, 'submitResult', [jobId, hashOf(label), CID, signatureOf(`${label} ${node}`)]),
  };
  return ctx;
}
