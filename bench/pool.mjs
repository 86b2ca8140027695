// make bench-pool: 100 jobs distributed over 3 local dev-node workers through a pool
// (`pool.schedule`, concurrency = the pool's capacity), then 100 over one worker for comparison.
// Prints throughput and the SDK's own memory at its peak: the wasm linear memory (where the SDK's
// Rust state lives) and the JS heap growth, sampled every 5 ms.
// Starts its own workers on free ports (DEVNODE, default target/debug/sandrun-devnode).
//   BENCH_JOBS=100 BENCH_CAPACITY=4 node --expose-gc bench/pool.mjs
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// SANDRUN_PKG (default pkg/): the package measured, e.g. an older build to compare with.
const PKG = path.resolve(root, process.env.SANDRUN_PKG ?? 'pkg');
// The package's full Node entry (pkg/full/: pools), unrolled so that the wasm instance (its memory) is visible here.
const wasm = await import(path.join(PKG, 'full/sandrun_sdk.js'));
const { nodePlatform } = await import(path.join(PKG, 'js/node.js'));
const { finishApi } = await import(path.join(PKG, 'js/api.js'));
const exports = wasm.initSync({ module: readFileSync(path.join(PKG, 'full/sandrun_sdk_bg.wasm')) });
wasm.setPlatform(nodePlatform());
finishApi(wasm, { ensureInit: () => Promise.resolve() });
const { Sandrun } = wasm;

const DEVNODE = path.resolve(root, process.env.DEVNODE ?? 'target/debug/sandrun-devnode');
const N = Number(process.env.BENCH_JOBS ?? 100);
const CAPACITY = Number(process.env.BENCH_CAPACITY ?? 4);
const work = mkdtempSync(path.join(tmpdir(), 'sandrun-bench-pool-'));
const children = [];

function startWorker(i) {
  const key = path.join(work, `w${i}.pem`);
  execFileSync(DEVNODE, ['--generate-key', key], { stdio: 'ignore' });
  const child = spawn(DEVNODE, ['worker', '--port', '0', '--worker-key', key, '--jobs-per-hour', '1000000',
    '--max-concurrent', '64', '--cpu-per-minute', '1000000'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/worker: (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    child.on('exit', (c) => reject(new Error(`dev node exited (${c})`)));
  });
}

async function run(sandrun, urls) {
  const pool = await sandrun.pool()
    .workers(urls.map((url) => ({ url, maxConcurrent: CAPACITY })))
    .join();
  const jobs = Array.from({ length: N }, (_, i) => sandrun.job().code(`print(${i})\n`).outputs(['none']));
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  let peakWasm = exports.memory.buffer.byteLength;
  let peakHeap = 0;
  const timer = setInterval(() => {
    peakWasm = Math.max(peakWasm, exports.memory.buffer.byteLength);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed - heap0);
  }, 5);
  const t0 = performance.now();
  const results = await pool.schedule(jobs);
  const secs = (performance.now() - t0) / 1000;
  clearInterval(timer);
  const failed = results.filter((r) => !r.ok);
  if (failed.length) throw new Error(`${failed.length} jobs failed: ${failed[0].error?.message}`);
  const per = {};
  for (const r of results) per[r.result.route.endpoint] = (per[r.result.route.endpoint] ?? 0) + 1;
  pool.close();
  for (const j of jobs) j.free();
  return { secs, per, peakWasm, peakHeap, capacity: pool.capacity };
}

const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;
try {
  const urls = await Promise.all([0, 1, 2].map(startWorker));
  const sandrun = await Sandrun.create({ endpoint: urls[0], pollIntervalMs: 20 });
  await run(sandrun, urls.slice(0, 1)); // warm-up (JIT, interpreter caches)
  for (const [label, set] of [['3 workers', urls], ['1 worker ', urls.slice(0, 1)]]) {
    const r = await run(sandrun, set);
    console.log(`${label}: ${N} jobs in ${r.secs.toFixed(2)} s = ${(N / r.secs).toFixed(1)} jobs/s ` +
      `(concurrency ${r.capacity}); per worker ${JSON.stringify(Object.values(r.per))}; ` +
      `SDK peak: wasm memory ${mib(r.peakWasm)}, JS heap +${mib(r.peakHeap)}`);
  }
  console.log(`(host: ${(await import('node:os')).cpus().length} CPUs; each job is a python3 print; poll interval 20 ms)`);
} finally {
  for (const c of children) c.kill();
  rmSync(work, { recursive: true, force: true });
}
