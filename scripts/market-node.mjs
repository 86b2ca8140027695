#!/usr/bin/env node
// One market node agent: the packed SDK's full entry (pkg/full/node.mjs, `make pkg`) running
// `sandrun.node().endpoint(worker).market({ market, bond, price, faulty })` until SIGTERM/SIGINT.
// One line per event on stdout: `market-node: EVENT {json}` (bigints as decimal strings).
// SIGUSR2 withdraws the node's earnings (a `withdrawn` line, or an `error` line).
//   node scripts/market-node.mjs --config agent.json
//   node scripts/market-node.mjs --rpc URL --key-env VAR --market 0x… --worker URL --ipfs-api URL \
//     [--chain-id 31337] [--gateway URL]… [--bond '0.1 ether'] [--price '0.01 ether'] [--faulty] [--from-block N]
//     [--state FILE]
// --state keeps each published result in FILE (JSON) until it is on chain: a restart in between
// submits it instead of running the job again (the agent's `store`).
// The config file has the same fields: { rpcUrl, chainId, privateKey, market, worker, ipfsApi,
// gateways, bond, price, faulty, fromBlock, pollIntervalMs, state, capabilities }. The private key is never printed.
import { readFileSync, existsSync, writeFileSync, renameSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    config: { type: 'string' },
    rpc: { type: 'string' },
    'chain-id': { type: 'string' },
    // The key's value is read from this environment variable: a flag's value would show in `ps`.
    'key-env': { type: 'string' },
    market: { type: 'string' },
    worker: { type: 'string' },
    'ipfs-api': { type: 'string' },
    gateway: { type: 'string', multiple: true },
    bond: { type: 'string' },
    price: { type: 'string' },
    faulty: { type: 'boolean' },
    'from-block': { type: 'string' },
    state: { type: 'string' },
  },
});
const fail = (msg) => {
  console.error(`market-node: ${msg}`);
  process.exit(2);
};
const file = values.config ? JSON.parse(readFileSync(values.config, 'utf8')) : {};
// Unset: the market's deployment block (the SDK finds it).
const optionalNumber = (v) => (v === undefined ? undefined : Number(v));
const cfg = {
  rpcUrl: values.rpc ?? file.rpcUrl,
  chainId: Number(values['chain-id'] ?? file.chainId ?? 31337),
  privateKey: values['key-env'] ? process.env[values['key-env']] : file.privateKey,
  market: values.market ?? file.market,
  worker: values.worker ?? file.worker,
  ipfsApi: values['ipfs-api'] ?? file.ipfsApi,
  gateways: values.gateway ?? file.gateways ?? [],
  bond: values.bond ?? file.bond ?? '0.1 ether',
  price: values.price ?? file.price ?? '0.01 ether',
  faulty: values.faulty ?? file.faulty ?? false,
  fromBlock: optionalNumber(values['from-block'] ?? file.fromBlock),
  pollIntervalMs: file.pollIntervalMs ?? 500,
  state: values.state ?? file.state,
};
for (const k of ['rpcUrl', 'privateKey', 'market', 'worker', 'ipfsApi']) if (!cfg[k]) fail(`${k} is required (--config or its flag; the key through --key-env VAR)`);

const entry = fileURLToPath(new URL('../pkg/full/node.mjs', import.meta.url));
if (!existsSync(entry)) fail(`no ${entry}: run make pkg`);
const { Sandrun } = await import(pathToFileURL(entry));

const json = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x));
const line = (event, data) => console.log(`market-node: ${event} ${json(data)}`);

/** A `localStorage`-like store in a JSON file, written whole (atomically) on every change. */
function fileStore(path) {
  const items = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
  return {
    getItem: (key) => items[key] ?? null,
    setItem: (key, value) => {
      items[key] = String(value);
      writeFileSync(`${path}.tmp`, JSON.stringify(items, null, 1));
      renameSync(`${path}.tmp`, path);
    },
  };
}

const sandrun = await Sandrun.create({
  endpoint: cfg.worker,
  chain: { rpcUrl: cfg.rpcUrl, privateKey: cfg.privateKey, chainId: cfg.chainId },
  ipfs: { api: cfg.ipfsApi, gateways: cfg.gateways },
});
const agent = sandrun.node().endpoint(cfg.worker).market({
  market: cfg.market, bond: cfg.bond, price: cfg.price, faulty: cfg.faulty, fromBlock: cfg.fromBlock,
  pollIntervalMs: cfg.pollIntervalMs, store: cfg.state ? fileStore(cfg.state) : undefined,
  capabilities: file.capabilities,
});
for (const event of ['registered', 'job-seen', 'job-skipped', 'job-claimed', 'job-running', 'job-completed', 'result-submitted']) {
  agent.on(event, (e) => line(event, e));
}
agent.on('error', (e) => line('error', { code: e.code, message: e.message, jobId: e.jobId }));

process.on('SIGUSR2', () => {
  agent.withdraw().then((w) => line('withdrawn', w), (e) => line('error', { code: e.code, message: e.message }));
});
const quit = () => {
  agent.stop();
  line('stopped', { worker: cfg.worker });
  process.exit(0);
};
process.on('SIGTERM', quit);
process.on('SIGINT', quit);

try {
  await agent.start();
} catch (e) {
  line('error', { code: e.code, message: e.message });
  process.exit(1);
}
line('started', { ...agent.status(), faulty: cfg.faulty });
// The agent's work is in the SDK's timers; this keeps the process up until a signal.
setInterval(() => {}, 1 << 30);
