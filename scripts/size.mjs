#!/usr/bin/env node
// `make size`: raw / gzip (level 9) / brotli (quality 11) sizes of what pkg/ ships, and the
// browser download (wasm + JS glue, minified as an app bundler would ship it) against the
// budget of 100 kB gzip. `--check` exits 1 when over budget.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'pkg');
const BUDGET = 100_000; // bytes, gzip: wasm + glue
if (!existsSync(join(pkg, 'sandrun_sdk_bg.wasm'))) {
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

const wasm = row('sandrun_sdk_bg.wasm', readFileSync(join(pkg, 'sandrun_sdk_bg.wasm')));
const shippedGlue = ['index.js', 'sandrun_sdk.js', ...readdirSync(join(pkg, 'js')).filter((f) => f !== 'node.js').map((f) => `js/${f}`)];
row(`JS glue as shipped (${shippedGlue.length} files)`, Buffer.concat(shippedGlue.map((f) => readFileSync(join(pkg, f)))));
row('  of which sandrun_sdk.js (wasm-bindgen)', readFileSync(join(pkg, 'sandrun_sdk.js')));
const bundled = await esbuild.build({
  entryPoints: [join(pkg, 'index.js')], bundle: true, minify: true, format: 'esm', platform: 'browser',
  write: false, outdir: join(root, 'build', 'size'), loader: { '.wasm': 'file' }, logLevel: 'silent',
});
const glueMin = row('JS glue, browser entry bundled + minified', Buffer.from(bundled.outputFiles.find((f) => f.path.endsWith('.js')).contents));
row('node.cjs (Node CommonJS entry)', readFileSync(join(pkg, 'node.cjs')));
row('sandrun.iife.js (<script>, wasm inlined)', readFileSync(join(pkg, 'sandrun.iife.js')));

console.log(`JS glue as shipped: ${shippedGlue.join(', ')}\n`);
const w = Math.max(...rows.map(([n]) => n.length));
console.log(`${'file'.padEnd(w)}  ${'raw'.padStart(10)}  ${'gzip'.padStart(10)}  ${'brotli'.padStart(10)}`);
for (const [name, m] of rows) console.log(`${name.padEnd(w)}  ${kib(m.raw)}  ${kib(m.gzip)}  ${kib(m.brotli)}`);
const total = wasm.gzip + glueMin.gzip;
const over = total > BUDGET;
console.log(`\nbrowser download, wasm + minified glue: ${(total / 1000).toFixed(1)} kB gzip ` +
  `(${(total / 1024).toFixed(1)} KiB), brotli ${((wasm.brotli + glueMin.brotli) / 1000).toFixed(1)} kB — ` +
  `budget ${BUDGET / 1000} kB gzip: ${over ? 'OVER BUDGET' : `OK, ${((BUDGET - total) / 1000).toFixed(1)} kB to spare`}`);
if (over && process.argv.includes('--check')) process.exit(1);
