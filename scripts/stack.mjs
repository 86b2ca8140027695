#!/usr/bin/env node
// The local market in one command (make stack / make stack-stop):
//   node scripts/stack.mjs start [--port 47000] [--dir .sandrun]
//   node scripts/stack.mjs stop  [--dir .sandrun]
// start: three dev-node workers (each with its own worker key), anvil, a Kubo node (offline,
// loopback), SandrunMarket deployed from anvil account 0 (scripts/deploy-market.mjs), and three
// node agents (scripts/market-node.mjs on the packed SDK: `make pkg` first) on anvil accounts
// 1-3, agent 3 started --faulty. Writes DIR/stack.json and prints its path:
//   { rpcUrl, chainId, market, marketBlock, ipfsApi, gateways, workers, accounts: [{ address, privateKey }]
//     (anvil accounts 4-9, funded, used by nobody), agents: [{ address, worker, faulty, log }] }
// Ports from --port (or STACK_PORT): workers +0..+2, anvil +10, Kubo API +20 and gateway +21.
// What was started is recorded in DIR/started.json; stop stops exactly that, and a start that
// fails half-way stops what it had started.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: 'string' }, dir: { type: 'string' } },
});
const command = positionals[0];
const base = Number(values.port ?? process.env.STACK_PORT ?? 47000);
const dir = resolve(ROOT, values.dir ?? process.env.STACK_DIR ?? '.sandrun');
const startedFile = join(dir, 'started.json');
const fail = (msg) => {
  console.error(`stack: ${msg}`);
  process.exit(1);
};
if (!Number.isInteger(base) || base < 1024 || base > 65000) fail(`--port: a base port in 1024..65000, got ${values.port ?? process.env.STACK_PORT}`);

const sh = (script, args) => execFileSync('bash', [join(ROOT, 'scripts', script), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
// The Makefile exports DEVNODE relative to the repository; this may run from another folder.
const devnodeBin = resolve(ROOT, process.env.DEVNODE ?? 'target/debug/sandrun-devnode');

/** Stops what `started` lists, agents first (they talk to the rest). */
function stopAll(started) {
  for (const a of started.agents ?? []) {
    try {
      process.kill(a.pid, 'SIGTERM');
    } catch {}
  }
  for (const name of started.devnodes ?? []) sh('devnode.sh', ['stop', name]);
  if (started.anvil) sh('anvil.sh', ['stop', started.anvil]);
  if (started.kubo) sh('kubo.sh', ['stop', started.kubo]);
}

if (command === 'stop') {
  if (!existsSync(startedFile)) {
    console.log(`stack: nothing recorded in ${startedFile}`);
    process.exit(0);
  }
  stopAll(JSON.parse(readFileSync(startedFile, 'utf8')));
  rmSync(startedFile);
  rmSync(join(dir, 'stack.json'), { force: true }); // its addresses are gone
  console.log(`stack: stopped what ${startedFile} listed`);
  process.exit(0);
}
if (command !== 'start') fail('usage: node scripts/stack.mjs start|stop [--port N] [--dir DIR]');
if (existsSync(startedFile)) fail(`${startedFile} exists: a stack runs from ${dir} (make stack-stop first)`);
if (!existsSync(join(ROOT, 'pkg/full/node.mjs'))) fail('no pkg/full: run make pkg');
if (!existsSync(devnodeBin)) fail(`no dev node at ${devnodeBin}: run make devnode`);

mkdirSync(dir, { recursive: true });
const started = { devnodes: [], agents: [] };
const record = () => writeFileSync(startedFile, `${JSON.stringify(started, null, 2)}\n`);
record();

try {
  // Anvil's accounts come from its default test mnemonic (derived here, not copied).
  const require = createRequire(join(ROOT, 'tools/package.json'));
  const { mnemonicToAccount } = require('viem/accounts');
  const { toHex } = require('viem');
  const MNEMONIC = 'test test test test test test test test test test test junk';
  const account = (i) => {
    const a = mnemonicToAccount(MNEMONIC, { addressIndex: i });
    return { address: a.address, privateKey: toHex(a.getHdKey().privateKey) };
  };

  // 1. Workers, each signing with its own key.
  const limits = ['--jobs-per-hour', '100000', '--max-concurrent', '8', '--cpu-per-minute', '100000'];
  const workers = [];
  for (let i = 0; i < 3; i++) {
    const port = base + i;
    const name = `stack-worker-${i + 1}-${base}`;
    const key = join(dir, `worker-${i + 1}.key.pem`);
    rmSync(key, { force: true });
    execFileSync(devnodeBin, ['--generate-key', key], { stdio: 'ignore' });
    started.devnodes.push(name);
    record();
    sh('devnode.sh', ['start', name, String(port), 'worker', '--port', String(port), '--worker-key', key, ...limits]);
    workers.push(`http://127.0.0.1:${port}`);
  }

  // 2. The chain and the market.
  started.anvil = `stack-anvil-${base}`;
  record();
  sh('anvil.sh', ['start', started.anvil, String(base + 10)]);
  const rpcUrl = `http://127.0.0.1:${base + 10}`;
  const deployed = JSON.parse(
    execFileSync('node', [join(ROOT, 'scripts/deploy-market.mjs'), '--rpc', rpcUrl, '--out', join(dir, 'market.json')], { cwd: ROOT }).toString(),
  );

  // 3. IPFS.
  started.kubo = `stack-ipfs-${base}`;
  record();
  sh('kubo.sh', ['start', started.kubo, String(base + 20), String(base + 21)]);
  const ipfsApi = `http://127.0.0.1:${base + 20}`;
  const gateways = [`http://127.0.0.1:${base + 21}`];

  // 4. Three agents, the third faulty; each is up once it logged `registered` or `started`.
  const agents = [];
  for (let i = 0; i < 3; i++) {
    const { address, privateKey } = account(i + 1);
    const faulty = i === 2;
    const config = join(dir, `agent-${i + 1}.json`);
    rmSync(join(dir, `agent-${i + 1}.state.json`), { force: true }); // results of an earlier chain
    writeFileSync(config, JSON.stringify({ rpcUrl, chainId: deployed.chainId, privateKey, market: deployed.address,
      worker: workers[i], ipfsApi, gateways, bond: '0.1 ether', price: '0.01 ether', faulty, fromBlock: deployed.blockNumber,
      state: join(dir, `agent-${i + 1}.state.json`) }));
    const log = join(dir, `agent-${i + 1}.log`);
    const out = openSync(log, 'w');
    const child = spawn('node', [join(ROOT, 'scripts/market-node.mjs'), '--config', config], { cwd: ROOT, detached: true, stdio: ['ignore', out, out] });
    child.unref();
    started.agents.push({ pid: child.pid, log });
    record();
    agents.push({ address, worker: workers[i], faulty, log });
  }
  for (const a of agents) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const text = existsSync(a.log) ? readFileSync(a.log, 'utf8') : '';
      if (/^market-node: started /m.test(text)) break;
      if (/^market-node: error /m.test(text) || Date.now() > deadline) {
        throw new Error(`agent on ${a.worker} did not start:\n${text}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const stack = {
    rpcUrl, chainId: deployed.chainId, market: deployed.address, marketBlock: deployed.blockNumber, ipfsApi, gateways, workers,
    accounts: [4, 5, 6, 7, 8, 9].map(account), agents,
  };
  writeFileSync(join(dir, 'stack.json'), `${JSON.stringify(stack, null, 2)}\n`);
  console.log(join(dir, 'stack.json'));
} catch (e) {
  console.error(`stack: ${e.message}; stopping what was started`);
  stopAll(started);
  rmSync(startedFile, { force: true });
  process.exit(1);
}
