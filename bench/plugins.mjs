// make bench (part): the overhead of the plugin pipeline per request. health() against a local
// dev node, N times each: no plugins, an empty JS plugin chain (5 plugins with no hooks), and 5
// plugins with an onRequest hook each. Prints the median per request and the difference.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Sandrun } = await import(path.join(root, 'pkg/full/node.mjs'));
const DEVNODE = path.resolve(root, process.env.DEVNODE ?? 'target/debug/sandrun-devnode');
const N = Number(process.env.BENCH_REQUESTS ?? 300);

const child = spawn(DEVNODE, ['worker', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve) => {
  let out = '';
  child.stdout.on('data', (d) => { out += d; const m = out.match(/worker: (http:\/\/\S+)/); if (m) resolve(m[1]); });
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const base = await Sandrun.create({ endpoint: url, streamLogs: false });
  let empty = base, hooked = base;
  for (let i = 0; i < 5; i++) {
    empty = empty.use({ name: `empty${i}` });
    hooked = hooked.use({ name: `hook${i}`, onRequest() {} });
  }
  const clients = { none: base, 'empty chain (5)': empty, '5 onRequest hooks': hooked };
  const times = Object.fromEntries(Object.keys(clients).map((k) => [k, []]));
  for (let i = 0; i < N; i++) {
    for (const [k, c] of Object.entries(clients)) { // interleaved: same machine load
      const t = performance.now();
      await c.health();
      times[k].push(performance.now() - t);
    }
  }
  const m0 = median(times.none);
  console.log(`plugin overhead, health() x ${N} each, median per request:`);
  for (const [k, xs] of Object.entries(times)) {
    const m = median(xs);
    console.log(`  ${k.padEnd(20)} ${m.toFixed(3)} ms  (${(m - m0 >= 0 ? '+' : '')}${((m - m0) * 1000).toFixed(0)} µs)`);
  }
} finally {
  child.kill();
}
