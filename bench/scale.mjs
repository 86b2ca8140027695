// make bench-scale: the SDK with many jobs at once (figures, not a timed test).
//
// 1. Watching: N jobs (BENCH_WATCH, default 1000) submitted through one client of the core entry
//    to a dev worker that runs two at a time, all of them `wait()`ing. While they wait: the
//    process's memory over an idle Node that loaded the SDK (RSS, JS heap, external, the wasm
//    memory), and the requests per second the worker sees (counted by a proxy in a process of its
//    own, so that it weighs nothing here).
// 2. Soak: BENCH_SOAK (default 10000) small jobs through one client, BENCH_SOAK_LANES (8) at a
//    time, against the dev node in default mode and in --compat; memory sampled every 500 jobs,
//    and the slope after the warm-up (the first 1000) by least squares, in bytes per job.
// 3. Handles: how many job executions the Rust side still holds once the JS side dropped them
//    (the SDK's own counter) — every one must be released.
// 4. Blocking status: BENCH_WATCH_COMPAT (default 200) jobs watched on a --compat worker, whose
//    /status is held open while a job runs (as the real worker's is): the most status requests
//    the worker has open at once.
// 5. verify() by candidate search (a re-attached job on a --compat worker, which shows a rounded
//    CPU figure only): the core entry (WebCrypto) and, when SANDRUN_PKG has it, the full one
//    (table search), each against a plain native Ed25519 loop (node:crypto) over as many
//    candidates.
// 4. Blocking status: BENCH_WATCH_COMPAT (default 200) jobs watched on a --compat worker, whose
//    /status is held open while a job runs (as the real worker's is): the most status requests
//    the worker has open at once.
// 5. verify() by candidate search (a re-attached job on a --compat worker, which shows a rounded
//    CPU figure only): the core entry (WebCrypto) and the full one (table search), each against
//    a plain native Ed25519 loop (node:crypto `verify`) over as many candidates.
//
// SANDRUN_PKG (default pkg/) is the package measured; BENCH_MODES (default "default,compat").
// Run with `node --expose-gc bench/scale.mjs` (make bench-scale does).
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PKG = path.resolve(root, process.env.SANDRUN_PKG ?? 'pkg');
const DEVNODE = path.resolve(root, process.env.DEVNODE ?? 'target/debug/sandrun-devnode');
const WATCH = Number(process.env.BENCH_WATCH ?? 1000);
const WATCH_COMPAT = Number(process.env.BENCH_WATCH_COMPAT ?? 200);
const SOAK = Number(process.env.BENCH_SOAK ?? 10000);
const LANES = Number(process.env.BENCH_SOAK_LANES ?? 8);
const MODES = (process.env.BENCH_MODES ?? 'default,compat').split(',').filter(Boolean);
if (!globalThis.gc) throw new Error('run with node --expose-gc');

const gc = () => { for (let i = 0; i < 3; i++) globalThis.gc(); };
const MB = (n) => (n / 1048576).toFixed(1);

// The core entry's Node module, unrolled so that the wasm instance's memory is visible here.
const wasm = await import(pathToFileURL(path.join(PKG, 'sandrun_sdk.js')).href);
const exports = wasm.initSync({ module: readFileSync(path.join(PKG, 'sandrun_sdk_bg.wasm')) });
const { nodePlatform } = await import(pathToFileURL(path.join(PKG, 'js/node.js')).href);
const { finishApi } = await import(pathToFileURL(path.join(PKG, 'js/api.js')).href);
const require = (await import('node:module')).createRequire(path.join(root, 'tools', 'package.json'));
wasm.setPlatform(nodePlatform({ WebSocket: require('ws') }));
finishApi(wasm, { ensureInit: () => Promise.resolve() });
const { Sandrun } = wasm;
/** Live job executions on the Rust side, when the package counts them (older ones do not). */
const live = () => (typeof wasm.__liveExecutions === 'function' ? wasm.__liveExecutions() : NaN);

function memory() {
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.external, wasm: exports.memory.buffer.byteLength };
}
const growth = (a, b) => ({ rss: b.rss - a.rss, heap: b.heap - a.heap, external: b.external - a.external, wasm: b.wasm - a.wasm });
const show = (g) => `RSS +${MB(g.rss)} MB, heap +${MB(g.heap)} MB, external +${MB(g.external)} MB, wasm +${MB(g.wasm)} MB`;

const work = mkdtempSync(path.join(tmpdir(), 'sandrun-bench-scale-'));
const children = [];
function started(child, pattern) {
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(pattern);
      if (m) resolve(m[1]);
    });
    child.on('exit', (c) => reject(new Error(`exited (${c}): ${out}`)));
  });
}
function worker(compat) {
  const key = path.join(work, `w${children.length}.pem`);
  execFileSync(DEVNODE, ['--generate-key', key], { stdio: 'ignore' });
  const args = ['worker', '--port', '0', '--worker-key', key, '--jobs-per-hour', '10000000', '--cpu-per-minute', '10000000',
    '--max-concurrent', '100000', ...(compat ? ['--compat'] : ['--parallel', '2'])];
  return started(spawn(DEVNODE, args, { stdio: ['ignore', 'pipe', 'inherit'] }), /worker: (http:\/\/\S+)/);
}
/** A counting proxy in its own process: forwards to `target`, prints `port N` then answers `count` lines. */
const PROXY = `
const http = require('node:http');
const target = new URL(process.argv[1]);
const counts = new Map();
let open = 0;
const server = http.createServer((req, res) => {
  const kind = req.url.split('/')[1] || '/';
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
  if (kind === 'status') {
    open += 1;
    counts.set('maxOpenStatus', Math.max(counts.get('maxOpenStatus') ?? 0, open));
    res.on('close', () => { open -= 1; });
  }
  const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method,
    headers: req.rawHeaders.reduce((h, v, i, a) => (i % 2 ? h : { ...h, [v]: a[i + 1] }), {}), agent: false }, (r) => {
    res.writeHead(r.statusCode, r.rawHeaders);
    r.pipe(res);
  });
  up.on('error', () => { res.writeHead(502); res.end(); });
  req.pipe(up);
});
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
process.stdin.on('data', () => console.log('count ' + JSON.stringify(Object.fromEntries(counts))));
`;
async function proxy(target) {
  const child = spawn(process.execPath, ['-e', PROXY, target], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await started(child, /port (\d+)/);
  const counts = () => new Promise((resolve) => {
    const on = (d) => {
      const m = String(d).match(/count (\{.*\})/);
      if (m) { child.stdout.off('data', on); resolve(JSON.parse(m[1])); }
    };
    child.stdout.on('data', on);
    child.stdin.write('count\n');
  });
  return { endpoint: `http://127.0.0.1:${port}`, counts };
}

async function watch() {
  const target = await worker(false);
  const { endpoint, counts } = await proxy(target);
  const sandrun = await Sandrun.create({ endpoint, streamLogs: false });
  // Idle: the SDK loaded and a client made, nothing submitted (one job run first, so that what
  // a first job allocates once is in the baseline).
  await (await sandrun.job().code('print(0)\n').submit()).wait();
  gc();
  await new Promise((r) => setTimeout(r, 200));
  gc();
  const idle = memory();
  const builder = sandrun.job().code('import time\ntime.sleep(0.05)\nprint(1)\n').outputs(['none']);
  const execs = [];
  for (let i = 0; i < WATCH; i++) execs.push(await builder.submit());
  const waits = execs.map((e) => e.wait());
  // While they wait: peak memory, and the requests the worker sees over a 5 s window.
  let peak = memory();
  const sampler = setInterval(() => {
    const m = memory();
    for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k]);
  }, 20);
  const c0 = await counts();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 5000));
  const c1 = await counts();
  const secs = (Date.now() - t0) / 1000;
  const results = await Promise.all(waits);
  clearInterval(sampler);
  const ok = results.filter((r) => r.status === 'completed').length;
  const rate = ((c1.status ?? 0) - (c0.status ?? 0)) / secs;
  for (const e of execs) e.free();
  console.log(`watch: ${WATCH} jobs watched at once (${ok} completed), peak over idle Node with the SDK: ${show(growth(idle, peak))}`);
  console.log(`watch: the worker saw ${rate.toFixed(1)} status requests/s while they waited (${JSON.stringify(c1)} in all)`);
  return { peak: growth(idle, peak), rate };
}

/** Jobs watched on a worker whose /status blocks while a job runs: the status requests it holds. */
async function watchCompat() {
  const target = await worker(true);
  const { endpoint, counts } = await proxy(target);
  const sandrun = await Sandrun.create({ endpoint, streamLogs: false });
  const builder = sandrun.job().code('print(1)\n').outputs(['none']);
  const execs = [];
  for (let i = 0; i < WATCH_COMPAT; i++) execs.push(await builder.submit());
  const t0 = Date.now();
  const results = await Promise.all(execs.map((e) => e.wait()));
  const secs = (Date.now() - t0) / 1000;
  const c = await counts();
  for (const e of execs) e.free();
  const ok = results.filter((r) => r.status === 'completed').length;
  console.log(`watch (compat, blocking /status): ${WATCH_COMPAT} jobs (${ok} completed in ${secs.toFixed(1)} s): ` +
    `at most ${c.maxOpenStatus ?? 0} status requests open at once, ${c.status ?? 0} in all`);
  return c.maxOpenStatus ?? 0;
}

/** One entry's verify() by candidate search, against node:crypto's verify over as many candidates. */
async function verifySearch(label, S) {
  const endpoint = await worker(true);
  const c = await S.create({ endpoint, streamLogs: false, pollIntervalMs: 50 });
  const exec = await c.job().code('x = sum(range(300000))\nprint(x)\n').submit();
  const done = await exec.wait();
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const ratios = [];
  let tried = 0;
  for (let round = 0; round < 3; round++) {
    const again = c.execution(done.id);
    let t = performance.now();
    const report = await again.verify();
    const sdk = performance.now() - t;
    again.free();
    if (!report.ok) throw new Error(`${label}: verify() failed: ${JSON.stringify(report.problems)}`);
    tried = report.signature.candidatesTried;
    // The same number of messages of the same shape, none signed (the worst case of a loop).
    const sig = crypto.sign(null, Buffer.from('another message'), privateKey);
    const msgs = Array.from({ length: tried }, (_, i) => Buffer.from(`${'0'.repeat(64)}|0|0.${String(i).padStart(6, '0')}|13|`));
    t = performance.now();
    for (const m of msgs) crypto.verify(null, m, publicKey, sig);
    const native = performance.now() - t;
    ratios.push({ sdk, native, ratio: sdk / native });
  }
  ratios.sort((a, b) => a.ratio - b.ratio);
  const mid = ratios[1];
  console.log(`verify search (${label}): ${tried} candidates in ${mid.sdk.toFixed(0)} ms; native loop ${mid.native.toFixed(0)} ms; ` +
    `ratio ${mid.ratio.toFixed(2)}x (median of 3: ${ratios.map((r) => r.ratio.toFixed(2)).join(', ')})`);
  return mid.ratio;
}

async function soak(compat) {
  const endpoint = await worker(compat);
  const sandrun = await Sandrun.create({ endpoint, streamLogs: false, pollIntervalMs: 50 });
  const builder = sandrun.job().code('print(1)\n').outputs(['none']);
  const samples = [];
  let done = 0;
  let failed = 0;
  let started = 0;
  const t0 = Date.now();
  const lane = async () => {
    while (started < SOAK) {
      started += 1;
      const e = await builder.submit();
      try {
        const r = await e.wait();
        if (r.status === 'completed') done++; else failed++;
      } catch { failed++; }
      e.free();
      const n = done + failed;
      if (n % 500 === 0) {
        gc();
        samples.push({ jobs: n, ...memory(), live: live() });
      }
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  const secs = (Date.now() - t0) / 1000;
  const after = samples.filter((s) => s.jobs > 1000);
  const slope = (k) => {
    const n = after.length;
    if (n < 2) return NaN;
    const mx = after.reduce((a, s) => a + s.jobs, 0) / n;
    const my = after.reduce((a, s) => a + s[k], 0) / n;
    const num = after.reduce((a, s) => a + (s.jobs - mx) * (s[k] - my), 0);
    const den = after.reduce((a, s) => a + (s.jobs - mx) ** 2, 0);
    return num / den;
  };
  gc();
  await new Promise((r) => setTimeout(r, 200));
  gc();
  const mode = compat ? 'compat' : 'default';
  console.log(`soak (${mode}): ${done} completed, ${failed} failed in ${secs.toFixed(0)} s (${(SOAK / secs).toFixed(0)} jobs/s)`);
  console.log(`soak (${mode}): per 500 jobs, heap MB: ${samples.map((s) => MB(s.heap)).join(' ')}`);
  console.log(`soak (${mode}): per 500 jobs, RSS MB: ${samples.map((s) => MB(s.rss)).join(' ')}`);
  console.log(`soak (${mode}): slope after 1000 jobs: heap ${slope('heap').toFixed(1)} B/job, RSS ${slope('rss').toFixed(1)} B/job, wasm ${slope('wasm').toFixed(1)} B/job; executions still held by Rust: ${live()}`);
}

try {
  console.log(`bench-scale: ${PKG}; node ${process.version}`);
  await watch();
  await watchCompat();
  for (const m of MODES) await soak(m === 'compat');
  await verifySearch('core entry, WebCrypto', Sandrun);
  const fullDir = path.join(PKG, 'full');
  if (existsSync(path.join(fullDir, 'sandrun_sdk_bg.wasm'))) {
    const full = await import(pathToFileURL(path.join(fullDir, 'sandrun_sdk.js')).href);
    full.initSync({ module: readFileSync(path.join(fullDir, 'sandrun_sdk_bg.wasm')) });
    full.setPlatform(nodePlatform({ WebSocket: require('ws') }));
    finishApi(full, { ensureInit: () => Promise.resolve() });
    await verifySearch('full entry, table search', full.Sandrun);
  }
} finally {
  for (const c of children) c.kill();
  rmSync(work, { recursive: true, force: true });
}
