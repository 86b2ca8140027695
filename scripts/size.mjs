#!/usr/bin/env node
// `make size`: raw / gzip (level 9) / brotli (quality 11) sizes of what pkg/ ships, and the
// browser download (wasm + JS glue, minified as an app bundler would ship it) of the core entry
// (`@sandrun/sdk`) against the budget of 100 kB gzip; the full entry's (`@sandrun/sdk/full`,
// pkg/full/) is printed too, with no budget. `--check` exits 1 when the core is over budget.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'pkg');
const BUDGET = 100_000; // bytes, gzip: wasm + glue
if (!existsSync(join(pkg, 'sandrun_sdk_bg.wasm')) || !existsSync(join(pkg, 'full', 'sandrun_sdk_bg.wasm'))) {
  console.error('size: pkg/ missing: run `make pkg` first');
  process.exit(1);
}
const esbuild = createRequire(join(root, 'tools', 'package.json'))('esbuild');

const measure = (buf) => ({
  raw: buf.length,
  gzip: gzipSync(buf, { level: 9 }).length,
  brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buf.length } }).length,
});
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`.padStart(10);
const rows = [];
const row = (name, buf) => {
  const m = measure(buf);
  rows.push([name, m]);
  return m;
};

/** Rows for one entry (dir: pkg/ or pkg/full/); its wasm and minified browser glue. */
async function entry(label, dir, prefix) {
  const wasm = row(`${prefix}sandrun_sdk_bg.wasm`, readFileSync(join(dir, 'sandrun_sdk_bg.wasm')));
  const shippedGlue = ['index.js', 'sandrun_sdk.js', ...readdirSync(join(pkg, 'js')).filter((f) => f !== 'node.js').map((f) => `js/${f}`)];
  const read = (f) => readFileSync(f.startsWith('js/') ? join(pkg, f) : join(dir, f));
  row(`${prefix}JS glue as shipped (${shippedGlue.length} files)`, Buffer.concat(shippedGlue.map(read)));
  row(`  of which ${prefix}sandrun_sdk.js (wasm-bindgen)`, readFileSync(join(dir, 'sandrun_sdk.js')));
  const bundled = await esbuild.build({
    entryPoints: [join(dir, 'index.js')], bundle: true, minify: true, format: 'esm', platform: 'browser',
    write: false, outdir: join(root, 'build', 'size'), loader: { '.wasm': 'file' }, logLevel: 'silent',
  });
  const glueMin = row(`${prefix}JS glue, browser entry bundled + minified`, Buffer.from(bundled.outputFiles.find((f) => f.path.endsWith('.js')).contents));
  row(`${prefix}node.cjs (Node CommonJS entry)`, readFileSync(join(dir, 'node.cjs')));
  return { label, wasm, glueMin, shippedGlue };
}
const core = await entry('@sandrun/sdk (core)', pkg, '');
const full = await entry('@sandrun/sdk/full', join(pkg, 'full'), 'full/');
row('sandrun.iife.js (<script>, full, wasm inlined)', readFileSync(join(pkg, 'sandrun.iife.js')));

console.log(`JS glue as shipped: ${core.shippedGlue.join(', ')} (full/: the same names in full/ and the shared js/)\n`);
const w = Math.max(...rows.map(([n]) => n.length));
console.log(`${'file'.padEnd(w)}  ${'raw'.padStart(10)}  ${'gzip'.padStart(10)}  ${'brotli'.padStart(10)}`);
for (const [name, m] of rows) console.log(`${name.padEnd(w)}  ${kib(m.raw)}  ${kib(m.gzip)}  ${kib(m.brotli)}`);
const download = ({ wasm, glueMin }) => ({ gzip: wasm.gzip + glueMin.gzip, brotli: wasm.brotli + glueMin.brotli });
const c = download(core);
const f = download(full);
const over = c.gzip > BUDGET;
console.log(`\nbrowser download, wasm + minified glue: ${(c.gzip / 1000).toFixed(1)} kB gzip ` +
  `(${(c.gzip / 1024).toFixed(1)} KiB), brotli ${(c.brotli / 1000).toFixed(1)} kB — ` +
  `budget ${BUDGET / 1000} kB gzip: ${over ? 'OVER BUDGET' : `OK, ${((BUDGET - c.gzip) / 1000).toFixed(1)} kB to spare`}`);
console.log(`full entry (@sandrun/sdk/full), wasm + minified glue: ${(f.gzip / 1000).toFixed(1)} kB gzip ` +
  `(${(f.gzip / 1024).toFixed(1)} KiB), brotli ${(f.brotli / 1000).toFixed(1)} kB — no budget`);
if (over && process.argv.includes('--check')) process.exit(1);
