#!/usr/bin/env node
// Packaging tests: the packed tarball of pkg/ (what npm users get), installed into a throwaway
// consumer project, each consumer running a real job against a dev node this runner starts:
//   Node ESM (core, and '@sandrun/sdk/full' with plugins and a pool) · Node CJS · browser page importing the ESM entry · plain HTML page with only the
//   IIFE <script> · Vite production build · Vite dev server · webpack 5 · esbuild · the `sandrun` bin · tsc --strict on typed usage
//   (passes), on misuse (fails), and on the platform glue against the Platform type the Rust declares.
// Browser tests: playwright-core driving Debian's /usr/bin/chromium.
// Usage: node tests/pkg/run.mjs [name-filter]      (run `make pkg` and build the dev node first)
// Env: DEVNODE    the dev node binary (default target/debug/sandrun-devnode, else target/release/…)
//      KEEP_TMP=1 keeps the temp dir.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, openSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const here = join(root, 'tests', 'pkg');
const tools = join(root, 'tools', 'node_modules');
const require = createRequire(join(root, 'tools', 'package.json'));
const filter = process.argv[2] ?? '';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const tmp = mkdtempSync(join(tmpdir(), 'sandrun-pkg-'));
const cleanups = [];
const log = (...a) => console.log(...a);

// ---------------------------------------------------------------------------------- helpers
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeout ?? 180_000, ...opts });
  return { code: r.status ?? (r.error ? -1 : -2), out: (r.stdout ?? '') + (r.stderr ?? ''), stdout: r.stdout ?? '', error: r.error };
}
function must(cmd, args, opts) {
  const r = run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}${r.error ? ` (${r.error.message})` : ''}\n${r.out.slice(-4000)}`);
  return r;
}
function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer().once('error', rej).listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}
async function waitForPort(port, ms, child, logFile) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`dev node exited with ${child.exitCode}:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1').once('connect', () => { c.destroy(); r(true); }).once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`dev node not listening on ${port} after ${ms} ms:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
}
function devnodeBinary() {
  if (process.env.DEVNODE) return resolve(root, process.env.DEVNODE);
  for (const p of ['debug', 'release']) {
    const bin = join(root, 'target', p, 'sandrun-devnode');
    if (existsSync(bin)) return bin;
  }
  throw new Error('no dev node binary: build it with `cargo build -p sandrun-devnode` (make test does)');
}
/** A signing worker on a free port: results carry an Ed25519 signature, so verify() can pass. */
async function startDevnode() {
  const bin = devnodeBinary();
  const key = join(tmp, 'worker.pem');
  const workerId = must(bin, ['--generate-key', key]).stdout.trim().split(/\s+/).pop();
  const port = await freePort();
  const logFile = join(tmp, 'devnode.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, ['worker', '--port', String(port), '--worker-key', key], { stdio: ['ignore', fd, fd], cwd: tmp });
  cleanups.push(() => child.exitCode === null && child.kill('SIGTERM'));
  await waitForPort(port, 30_000, child, logFile);
  return { endpoint: `http://127.0.0.1:${port}`, logFile, workerId };
}
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css', '.map': 'application/json' };
/** A tiny static file server for `dir` on a free port (the page's origin differs from the node's). */
async function serve(dir) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    let file = join(dir, path);
    if (!file.startsWith(dir + sep) && file !== dir) { res.writeHead(403).end(); return; }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => server.close());
  return `http://127.0.0.1:${server.address().port}`;
}
let browserContext;
async function browser() {
  if (browserContext) return browserContext;
  const { chromium } = require('playwright-core');
  const userDataDir = mkdtempSync(join(tmp, 'chromium-profile-'));
  browserContext = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000,
  });
  cleanups.unshift(() => browserContext.close());
  return browserContext;
}
/** Opens `url`, waits for the page's `window.__result` (set by the consumer code) and returns it. */
async function runPage(url) {
  const ctx = await browser();
  const page = await ctx.newPage();
  const console_ = [];
  page.on('console', (m) => console_.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => console_.push(`[pageerror] ${e.message}`));
  page.on('requestfailed', (r) => console_.push(`[requestfailed] ${r.url()} ${r.failure()?.errorText}`));
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 90_000 });
    return await page.evaluate(() => window.__result);
  } catch (e) {
    throw new Error(`${e.message.split('\n')[0]}\npage console:\n${console_.join('\n').slice(-3000)}`);
  } finally {
    await page.close();
  }
}
function check(result, where) {
  if (result?.error) throw new Error(`${where}: the consumer failed: ${result.error}`);
  const problems = [];
  if (result?.status !== 'completed') problems.push(`status ${JSON.stringify(result?.status)} (want "completed")`);
  if (result?.ok !== true) problems.push(`verify().ok ${JSON.stringify(result?.ok)} (want true): ${JSON.stringify(result?.problems)}`);
  if (result?.workerId !== ctx.workerId) problems.push(`verify().workerId ${JSON.stringify(result?.workerId)} (want the node's ${ctx.workerId})`);
  if (!String(result?.logs ?? '').includes('hi')) problems.push(`logs ${JSON.stringify(result?.logs)} lack "hi"`);
  if (result?.errorClass !== true) problems.push(`bad config did not reject with a SandrunError instance: ${result?.errorClass}`);
  if (problems.length) throw new Error(`${where}: ${problems.join('; ')}`);
}
function nodeJson(file, args) {
  const r = must(process.execPath, [file, ...args], { cwd: dirname(file), timeout: 120_000 });
  const line = r.stdout.trim().split('\n').pop();
  try { return JSON.parse(line); } catch { throw new Error(`no JSON result from ${file}:\n${r.out.slice(-3000)}`); }
}

// ------------------------------------------------------------------------------------ tests
const tests = [];
const test = (name, fn) => tests.push({ name, fn });
let ctx; // { consumer, endpoint, tgz }

test('node-esm: import from Node ESM resolves node.mjs and runs a job', async () => {
  const r = nodeJson(join(ctx.consumer, 'esm.mjs'), [ctx.endpoint]);
  check(r, 'node-esm');
  if (!r.resolved.endsWith('/node_modules/@sandrun/sdk/node.mjs')) throw new Error(`resolved to ${r.resolved}`);
  if (r.corePool !== true) throw new Error(`core entry: sandrun.pool() did not throw the UnsupportedError naming '@sandrun/sdk/full': ${r.corePool}`);
  if (r.coreExports?.length) throw new Error(`core entry exports full-only names: ${r.coreExports}`);
});
test('node-esm-full: import from \'@sandrun/sdk/full\' runs a job with built-in plugins through a pool', async () => {
  const r = nodeJson(join(ctx.consumer, 'full-esm.mjs'), [ctx.endpoint]);
  check(r, 'node-esm-full');
  if (!r.resolved.endsWith('/node_modules/@sandrun/sdk/full/node.mjs')) throw new Error(`resolved to ${r.resolved}`);
  if (r.isPool !== true || r.poolSize !== 1) throw new Error(`pool: instanceof Pool ${r.isPool}, size ${r.poolSize} (want true, 1)`);
  if (r.routed !== ctx.endpoint) throw new Error(`the job's route ${JSON.stringify(r.routed)} is not the pool's worker ${ctx.endpoint}`);
  if (!(r.requests > 0)) throw new Error(`metricsPlugin counted no requests (${r.requests})`);
});
test('node-cjs: require from CommonJS resolves node.cjs and runs a job', async () => {
  const r = nodeJson(join(ctx.consumer, 'cjs.cjs'), [ctx.endpoint]);
  check(r, 'node-cjs');
  if (!r.resolved.endsWith('/node_modules/@sandrun/sdk/node.cjs')) throw new Error(`resolved to ${r.resolved}`);
  if (!r.fullResolved?.endsWith('/node_modules/@sandrun/sdk/full/node.cjs')) throw new Error(`'@sandrun/sdk/full' resolved to ${r.fullResolved}`);
  if (r.fullExports?.length !== 3) throw new Error(`require('@sandrun/sdk/full') lacks Pool/retryPlugin/metricsPlugin: ${r.fullExports}`);
});
test('browser-esm: a page importing the ESM entry (import map) runs a job', async () => {
  const origin = await serve(ctx.consumer);
  check(await runPage(`${origin}/browser-esm.html?endpoint=${encodeURIComponent(ctx.endpoint)}`), 'browser-esm');
});
test('browser-iife: a plain HTML page with only the <script> tag runs a job', async () => {
  const origin = await serve(ctx.consumer);
  const r = await runPage(`${origin}/iife.html?endpoint=${encodeURIComponent(ctx.endpoint)}`);
  check(r, 'browser-iife');
  if (r.full !== true) throw new Error('the <script> build is not the full entry (no Sandrun.Pool / Sandrun.retryPlugin)');
});
test('vite: a Vite production build of a page using the package runs a job', async () => {
  const app = join(ctx.consumer, 'vite-app');
  must(process.execPath, [join(tools, 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn', '--emptyOutDir'], { cwd: app, timeout: 180_000 });
  const assets = readdirSync(join(app, 'dist', 'assets'));
  if (!assets.some((f) => f.endsWith('.wasm'))) throw new Error(`vite emitted no .wasm asset: ${assets.join(', ')}`);
  const origin = await serve(join(app, 'dist'));
  check(await runPage(`${origin}/index.html?endpoint=${encodeURIComponent(ctx.endpoint)}`), 'vite');
});
test('vite-dev: the Vite dev server (with the README\'s optimizeDeps.exclude) runs a job', async () => {
  // Vite's dependency pre-bundling moves the module away from its .wasm; the README says to
  // exclude the package from it. This checks that advice.
  const { createServer } = await import(pathToFileURL(join(tools, 'vite', 'dist', 'node', 'index.js')).href);
  const server = await createServer({
    root: join(ctx.consumer, 'vite-app'), configFile: false, logLevel: 'error',
    optimizeDeps: { exclude: ['@sandrun/sdk'] },
    server: { host: '127.0.0.1', port: await freePort(), strictPort: true, hmr: false },
  });
  await server.listen();
  try {
    const origin = `http://127.0.0.1:${server.config.server.port}`;
    check(await runPage(`${origin}/index.html?endpoint=${encodeURIComponent(ctx.endpoint)}`), 'vite-dev');
  } finally {
    await server.close();
  }
});
test('webpack: a webpack 5 production build of a page using the package runs a job', async () => {
  const app = join(ctx.consumer, 'webpack-app');
  const webpack = require('webpack');
  const config = (await import(pathToFileURL(join(app, 'webpack.config.cjs')).href)).default;
  const stats = await new Promise((res, rej) => webpack({ ...config, context: app }, (e, s) => (e ? rej(e) : res(s))));
  if (stats.hasErrors()) throw new Error(`webpack failed:\n${stats.toString({ all: false, errors: true }).slice(-4000)}`);
  const files = readdirSync(join(app, 'dist'));
  if (!files.some((f) => f.endsWith('.wasm'))) throw new Error(`webpack emitted no .wasm asset: ${files.join(', ')}`);
  cpSync(join(app, 'index.html'), join(app, 'dist', 'index.html'));
  const origin = await serve(join(app, 'dist'));
  check(await runPage(`${origin}/index.html?endpoint=${encodeURIComponent(ctx.endpoint)}`), 'webpack');
});
test('esbuild: an esbuild bundle serving the .wasm itself (init({ wasm })) runs a job', async () => {
  const app = join(ctx.consumer, 'esbuild-app');
  const dist = join(app, 'dist');
  await require('esbuild').build({
    entryPoints: [join(app, 'main.js')], outfile: join(dist, 'main.bundle.js'), bundle: true, format: 'esm',
    platform: 'browser', minify: true, logLevel: 'error', absWorkingDir: app,
  });
  cpSync(join(ctx.consumer, 'node_modules', '@sandrun', 'sdk', 'sandrun_sdk_bg.wasm'), join(dist, 'sandrun_sdk_bg.wasm'));
  cpSync(join(app, 'index.html'), join(dist, 'index.html'));
  const origin = await serve(dist);
  check(await runPage(`${origin}/index.html?endpoint=${encodeURIComponent(ctx.endpoint)}`), 'esbuild');
});
test('cli: the package\'s bin runs `sandrun --help` and `sandrun health`', async () => {
  const bin = join(ctx.consumer, 'node_modules', '.bin', 'sandrun');
  const help = must(bin, ['--help'], { cwd: ctx.consumer });
  if (!help.out.includes('run <dir|file>')) throw new Error(`sandrun --help says:\n${help.out.slice(0, 2000)}`);
  const h = JSON.parse(must(bin, ['health', '--json', '--endpoint', ctx.endpoint], { cwd: ctx.consumer }).stdout);
  if (JSON.stringify(h).indexOf(ctx.workerId) < 0) throw new Error(`sandrun health --json does not show the worker's key: ${JSON.stringify(h)}`);
});
const tsc = () => [join(tools, 'typescript', 'bin', 'tsc')];
test('types: js/browser.js, js/browser-full.js and js/node.js give the Platform the Rust declares', async () => {
  const r = run(process.execPath, [...tsc(), '-p', join(ctx.consumer, 'types', 'tsconfig.platform.json')], { cwd: ctx.consumer });
  if (r.code !== 0) throw new Error(`tsc -p tsconfig.platform.json:\n${r.out.slice(-4000)}`);
});
test('types: typed usage compiles with tsc --strict (bundler, nodenext ESM, nodenext CommonJS)', async () => {
  // The CommonJS check compiles the same usage as a .cts file: it resolves the "require" types.
  cpSync(join(ctx.consumer, 'types', 'usage.ts'), join(ctx.consumer, 'types', 'usage.cts'));
  for (const cfg of ['tsconfig.usage.json', 'tsconfig.usage-node.json', 'tsconfig.usage-cjs.json']) {
    const r = run(process.execPath, [...tsc(), '-p', join(ctx.consumer, 'types', cfg)], { cwd: ctx.consumer });
    if (r.code !== 0) throw new Error(`tsc -p ${cfg} failed on usage.ts:\n${r.out.slice(-4000)}`);
  }
});
test('types: misuse fails tsc --strict on every marked line, and only there', async () => {
  const file = join(ctx.consumer, 'types', 'misuse.ts');
  const r = run(process.execPath, [...tsc(), '-p', join(ctx.consumer, 'types', 'tsconfig.misuse.json')], { cwd: ctx.consumer });
  if (r.code === 0) throw new Error('tsc accepted misuse.ts');
  const lines = readFileSync(file, 'utf8').split('\n');
  const want = new Set(lines.flatMap((l, i) => (/^\s*[^/\s].*\/\/ ERROR\b/.test(l) ? [i + 1] : [])));
  const got = new Set([...r.out.matchAll(/misuse\.ts\((\d+),\d+\): error/g)].map((m) => Number(m[1])));
  const missing = [...want].filter((n) => !got.has(n));
  const extra = [...got].filter((n) => !want.has(n));
  if (missing.length || extra.length || want.size === 0) {
    throw new Error(`lines marked // ERROR without an error: [${missing}]; errors on unmarked lines: [${extra}]\n${r.out.slice(-4000)}`);
  }
});

// ------------------------------------------------------------------------------------ setup
async function setup() {
  const pkg = join(root, 'pkg');
  if (!existsSync(join(pkg, 'package.json'))) throw new Error('pkg/ missing: run `make pkg` first');
  const packed = must('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: pkg }).stdout.trim().split('\n').pop();
  const tgz = join(tmp, packed);
  const consumer = join(tmp, 'consumer');
  cpSync(join(here, 'consumer'), consumer, { recursive: true });
  cpSync(join(root, 'tests', 'types'), join(consumer, 'types'), { recursive: true });
  must('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tgz], { cwd: consumer });
  // The tarball's content: what a user gets.
  const listed = must('tar', ['-tzf', tgz]).stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
  for (const f of ['package.json', 'index.js', 'node.mjs', 'node.cjs', 'sandrun.iife.js', 'sandrun_sdk.js', 'sandrun_sdk_bg.wasm', 'index.d.ts',
    'full/index.js', 'full/node.mjs', 'full/node.cjs', 'full/sandrun_sdk.js', 'full/sandrun_sdk_bg.wasm', 'full/index.d.ts', 'full/node.d.cts']) {
    if (!listed.includes(f)) throw new Error(`${f} is not in the tarball (${listed.join(', ')})`);
  }
  const wasms = listed.filter((f) => f.endsWith('.wasm')).sort().join(', ');
  if (wasms !== 'full/sandrun_sdk_bg.wasm, sandrun_sdk_bg.wasm') throw new Error(`want exactly two .wasm in the tarball (core, full/): ${wasms}`);
  const { endpoint, logFile, workerId } = await startDevnode();
  return { consumer, endpoint, tgz, logFile, workerId };
}

let passed = 0, failed = 0;
try {
  const t0 = Date.now();
  ctx = await setup();
  log(`pkg tests: ${ctx.tgz.split(sep).pop()} installed in ${ctx.consumer} (${((Date.now() - t0) / 1000).toFixed(1)} s); dev node ${ctx.endpoint}`);
  for (const t of tests) {
    if (filter && !t.name.includes(filter)) continue;
    const t1 = Date.now();
    try {
      await t.fn();
      passed++;
      log(`  ok    ${t.name} (${((Date.now() - t1) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      log(`  FAIL  ${t.name} (${((Date.now() - t1) / 1000).toFixed(1)} s)\n${String(e?.stack ?? e).replace(/^/gm, '        ')}`);
    }
  }
} catch (e) {
  failed++;
  log(`  FAIL  setup\n${String(e?.stack ?? e).replace(/^/gm, '        ')}`);
} finally {
  for (const c of cleanups) { try { await c(); } catch {} }
  if (failed && ctx?.logFile && existsSync(ctx.logFile)) log(`dev node log (tail):\n${readFileSync(ctx.logFile, 'utf8').slice(-2000)}`);
  if (!process.env.KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
  else log(`kept ${tmp}`);
}
log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
