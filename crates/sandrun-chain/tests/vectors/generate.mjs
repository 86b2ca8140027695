#!/usr/bin/env node
// Writes the test vectors of crates/sandrun-chain (committed; the Rust tests read them):
//   transactions.tsv  EIP-1559 and legacy transactions signed by viem (signing hash, raw, hash)
//   reverts.tsv       revert data of every custom error, captured from the contract on anvil,
//                     plus Error(string) and Panic(uint256), with viem's decoding
//   events.tsv        a real log of every event, captured on anvil, with viem's decoding
// Run again after the contract changes:   node crates/sandrun-chain/tests/vectors/generate.mjs
// (tests/contracts/errors.test.mjs fails when reverts.tsv no longer matches the ABI.)
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { triggerEveryError, describeError } from '../../../../tests/contracts/lib/errors.mjs';
import { setupMarket, market, hashOf, viem } from '../../../../tests/contracts/lib/market.mjs';
import { ROOT } from '../../../../tests/contracts/lib/anvil.mjs';

const { privateKeyToAccount } = createRequire(join(ROOT, 'tools/package.json'))('viem/accounts');
const { keccak256, serializeTransaction, encodeErrorResult, encodeFunctionData, parseEther, parseGwei, toHex, decodeEventLog } = viem;
const here = dirname(fileURLToPath(import.meta.url));
const write = (name, header, rows) => {
  writeFileSync(join(here, name), `${header.map((h) => `# ${h}`).join('\n')}\n${rows.map((r) => r.join('\t')).join('\n')}\n`);
  console.log(`${name}: ${rows.length} vectors`);
};
const text = (v) => (typeof v === 'bigint' || typeof v === 'number' ? v.toString() : Array.isArray(v) ? v.map(text).join(',') : String(v));

// --- transactions ------------------------------------------------------------------------------
const keys = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', // anvil account 0
  keccak256(toHex('sandrun-chain test key 1')), // keys anvil does not manage
  keccak256(toHex('sandrun-chain test key 2')),
  '0x0000000000000000000000000000000000000000000000000000000000000001',
];
const postJobInput = encodeFunctionData({ abi: market.abi, functionName: 'postJob',
  args: [hashOf('job'), 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e', 2, 3, parseEther('0.01'), 1_900_000_000] });
const txs = [
  { type: 'eip1559', chainId: 31337, nonce: 0, to: '0x5FbDB2315678afecb367f032d93F642f64180aa3', value: parseEther('0.03'),
    data: postJobInput, gas: 120_000n, maxFeePerGas: parseGwei('2.5'), maxPriorityFeePerGas: parseGwei('0.001') },
  { type: 'eip1559', chainId: 1, nonce: 1234, to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', value: 1n,
    data: '0x', gas: 21_000n, maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 1_500_000_000n },
  { type: 'eip1559', chainId: 8453, nonce: 2n ** 40n, to: null, value: 0n, data: market.bytecode.slice(0, 402),
    gas: 3_000_000n, maxFeePerGas: 2n ** 100n, maxPriorityFeePerGas: 0n },
  { type: 'eip1559', chainId: 31337, nonce: 7, to: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', value: 0n,
    data: '0x', gas: 21_000n, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n },
  { type: 'legacy', chainId: 31337, nonce: 3, to: '0x5FbDB2315678afecb367f032d93F642f64180aa3', value: 0n,
    data: postJobInput, gas: 100_000n, gasPrice: parseGwei('1') },
  { type: 'legacy', chainId: 1, nonce: 0, to: '0x3535353535353535353535353535353535353535', value: parseEther('1'),
    data: '0x', gas: 21_000n, gasPrice: 20_000_000_000n },
  { type: 'legacy', chainId: 137, nonce: 99, to: null, value: 0n, data: '0x6080', gas: 53_000n, gasPrice: 30n * 10n ** 9n },
];
const txRows = [];
for (const key of keys) {
  const account = privateKeyToAccount(key);
  for (const tx of txs) {
    const { to, ...rest } = tx;
    const request = to ? tx : rest;
    const raw = await account.signTransaction(request);
    const fees = tx.type === 'legacy' ? [tx.gasPrice, '-'] : [tx.maxFeePerGas, tx.maxPriorityFeePerGas];
    txRows.push([tx.type, key, account.address, tx.chainId, tx.nonce, to ?? '-', tx.value, tx.data, tx.gas, ...fees,
      keccak256(serializeTransaction(request)), raw, keccak256(raw)].map(text));
  }
}
write('transactions.tsv', [
  'Transactions signed by viem (accounts/privateKeyToAccount().signTransaction), one per line:',
  'type key from chainId nonce to(- = create) value input gas maxFeePerGas|gasPrice maxPriorityFeePerGas(- for legacy) signingHash raw hash',
], txRows);

// --- reverts -----------------------------------------------------------------------------------
const revertRow = (data) => {
  const d = describeError(data);
  return [d.name, data, d.display, d.args.map((a) => `${a.name}:${a.type}=${a.value}`).join(';')];
};
const reverts = (await triggerEveryError()).map((e) => revertRow(e.data));
const standard = [
  { type: 'error', name: 'Error', inputs: [{ name: 'message', type: 'string' }] },
  { type: 'error', name: 'Panic', inputs: [{ name: 'code', type: 'uint256' }] },
];
reverts.push(revertRow(encodeErrorResult({ abi: standard, errorName: 'Error', args: ['not allowed: 1, 2'] })));
reverts.push(revertRow(encodeErrorResult({ abi: standard, errorName: 'Panic', args: [0x11n] })));
write('reverts.tsv', [
  'Revert data of every SandrunMarket custom error as anvil returned it (tests/contracts/lib/errors.mjs),',
  'then Error(string) and Panic(uint256) encoded by viem. name data display args(name:type=value;...)',
], reverts);

// --- events ------------------------------------------------------------------------------------
const ctx = await setupMarket();
const eventRows = [];
try {
  const [owner, poster, a, b, c, d] = ctx.accounts;
  const receipts = [];
  const keep = (r) => (receipts.push(r), r);
  (await ctx.registerNodes([a, b, c, d])).forEach(keep);
  keep(await ctx.send(d, 'updateNode', [hashOf('new key'), 'https://d.example', 7n], parseEther('0.05')));
  const { jobId, receipt } = await ctx.postJob(poster, { k: 2, n: 3 });
  keep(receipt);
  for (const n of [a, b, c]) keep(await ctx.send(n, 'claim', [jobId]));
  keep(await ctx.send(a, 'started', [jobId, 'job_1764586800_1']));
  keep(await ctx.submit(a, jobId, 'good'));
  keep(await ctx.submit(b, jobId, 'good'));
  keep(await ctx.submit(c, jobId, 'bad'));
  keep(await ctx.send(owner, 'finalize', [jobId]));
  keep(await ctx.send(a, 'withdraw'));
  const cancelled = await ctx.postJob(poster, { k: 1, n: 1, label: 'cancelled' });
  keep(await ctx.send(poster, 'cancel', [cancelled.jobId]));
  const late = await ctx.postJob(poster, { k: 1, n: 1, ttl: 60n, label: 'late' });
  keep(await ctx.send(a, 'claim', [late.jobId]));
  await ctx.elapse(61);
  keep(await ctx.send(owner, 'refund', [late.jobId]));
  keep(await ctx.send(d, 'unregisterNode'));
  await ctx.elapse(61);
  keep(await ctx.send(d, 'withdrawBond'));
  const seen = new Set();
  for (const r of receipts) {
    for (const log of r.logs) {
      const ev = decodeEventLog({ abi: market.abi, data: log.data, topics: log.topics });
      if (seen.has(ev.eventName)) continue;
      seen.add(ev.eventName);
      const args = Object.entries(ev.args).map(([k, v]) => `${k}=${text(v)}`).join(';');
      eventRows.push([ev.eventName, log.topics.join(','), log.data, args]);
    }
  }
  const all = market.abi.filter((x) => x.type === 'event').map((x) => x.name);
  const missing = all.filter((n) => !seen.has(n));
  if (missing.length) throw new Error(`no log captured for ${missing}`);
} finally {
  await ctx.stop();
}
write('events.tsv', [
  'One real log of every SandrunMarket event, captured on anvil, decoded by viem.',
  'name topics(comma-separated) data args(name=value;... arrays comma-separated)',
], eventRows);
