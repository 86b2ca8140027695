// make bench: the SDK in Node against curl, side by side against the same local worker, for
// submit + wait of N small jobs; then verify() timings (with the CPU figure known, and with the
// ~10,000-candidate search a re-attached job on a real-server-like worker needs).
// Starts its own dev nodes (DEVNODE, default target/debug/sandrun-devnode) on free ports.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// SANDRUN_PKG (default pkg/): the package measured, e.g. an older build to compare with.
const PKG = path.resolve(root, process.env.SANDRUN_PKG ?? 'pkg');
const { Sandrun } = await import(path.join(PKG, 'node.mjs'));
const DEVNODE = path.resolve(root, process.env.DEVNODE ?? 'target/debug/sandrun-devnode');
const N = Number(process.env.BENCH_JOBS ?? 20);
const POLL_MS = 50;
const work = mkdtempSync(path.join(tmpdir(), 'sandrun-bench-'));

function startWorker(extra) {
  const key = path.join(work, `key-${extra.join('')}.pem`);
  execFileSync(DEVNODE, ['--generate-key', key], { stdio: 'ignore' });
  const child = spawn(DEVNODE, ['worker', '--port', '0', '--worker-key', key, '--jobs-per-hour', '1000000',
    '--max-concurrent', '64', '--cpu-per-minute', '1000000', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/worker: (http:\/\/\S+)/);
      if (m) resolve({ url: m[1], child });
    });
    child.on('exit', (code) => reject(new Error(`dev node exited (${code})`)));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(1)} ms`;
const SRC = 'print("bench")\n';

// curl: the same job, as a shell user would send it (tar.gz + manifest), then status polls.
function curlJob(url, tarPath) {
  const sub = JSON.parse(execFileSync('curl', ['-s', '-F', `files=@${tarPath}`, '-F', 'manifest={"entrypoint":"main.py"}', `${url}/submit`]));
  for (;;) {
    const s = JSON.parse(execFileSync('curl', ['-s', `${url}/status/${sub.job_id}`]));
    if (s.status === 'completed' || s.status === 'failed') return s;
    execFileSync('sleep', [String(POLL_MS / 1000)]);
  }
}

const workers = [];
try {
  const plain = await startWorker([]);
  const compat = await startWorker(['--compat']);
  workers.push(plain.child, compat.child);
  writeFileSync(path.join(work, 'main.py'), SRC);
  execFileSync('tar', ['-czf', path.join(work, 'job.tar.gz'), '-C', work, 'main.py']);

  const sandrun = await Sandrun.create({ endpoint: plain.url, pollIntervalMs: POLL_MS });
  const job = sandrun.job().file('main.py', SRC).entrypoint('main.py');
  const sdkTimes = [];
  const curlTimes = [];
  // Interleaved, so both see the same machine load.
  for (let i = 0; i < N; i++) {
    let t = performance.now();
    const r = await (await job.submit()).wait();
    if (r.status !== 'completed') throw new Error(`sdk job ${r.id}: ${r.status}`);
    sdkTimes.push(performance.now() - t);
    t = performance.now();
    const s = curlJob(plain.url, path.join(work, 'job.tar.gz'));
    if (s.status !== 'completed') throw new Error(`curl job ${s.job_id}: ${s.status}`);
    curlTimes.push(performance.now() - t);
  }
  const sdkTotal = sdkTimes.reduce((a, b) => a + b, 0);
  const curlTotal = curlTimes.reduce((a, b) => a + b, 0);
  console.log(`submit+wait, ${N} jobs each, poll ${POLL_MS} ms, worker ${plain.url}`);
  console.log(`  SDK (Node):  total ${ms(sdkTotal)}, median ${ms(median(sdkTimes))}`);
  console.log(`  curl:        total ${ms(curlTotal)}, median ${ms(median(curlTimes))}`);
  console.log(`  ratio SDK/curl (total): ${(sdkTotal / curlTotal).toFixed(2)}`);

  // verify(): the CPU figure known (stream [DONE] line / dev node's cpu_signed) ...
  const exec = await job.submit();
  for await (const _ of exec.logs());
  await exec.wait();
  let t = performance.now();
  const fast = await exec.verify();
  console.log(`verify(), CPU figure known: ${ms(performance.now() - t)} (ok=${fast.ok}, ${fast.signature.candidatesTried} candidate(s) tried)`);
  // ... and a job re-attached on a compat worker: /status alone, so the candidate search.
  const c = await Sandrun.create({ endpoint: compat.url, pollIntervalMs: POLL_MS });
  const cexec = await c.job().file('main.py', SRC).entrypoint('main.py').submit();
  await cexec.wait();
  const again = c.execution(cexec.id);
  t = performance.now();
  const slow = await again.verify();
  console.log(`verify(), /status only (candidate search): ${ms(performance.now() - t)} (ok=${slow.ok}, ${slow.signature.candidatesTried} candidates tried, cpu ${slow.signature.cpu})`);
  if (!fast.ok || !slow.ok) process.exitCode = 1;
} finally {
  for (const w of workers) w.kill();
}
