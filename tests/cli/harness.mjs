// Test harness shared by tests/cli, tests/www and tests/docs: dev nodes on free ports, the package
// packed and installed the way users get it (with the CLI as its `bin`), a static file server,
// headless Chromium through playwright-core, and a runner that prints `N passed, N failed`.
// Everything it starts is stopped by cleanup(); all traffic stays on 127.0.0.1.
// Env: SANDRUN_PKG  the package directory (default pkg/; relative paths from the repo root)
//      DEVNODE      the dev node binary (default target/debug/sandrun-devnode)
//      CHROMIUM     the browser (default /usr/bin/chromium)
//      KEEP_TMP=1   keep the temp dir
import { execFile, spawn, spawnSync } from 'node:child_process';
import { cpSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const requireTool = createRequire(join(root, 'tools', 'package.json'));
export const pkgDir = resolve(root, process.env.SANDRUN_PKG || 'pkg');

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// The dev node's per-client limits (20 jobs an hour, 2 at once) are the real worker's; a suite
// runs more jobs than that from one address.
const WORKER_LIMITS = ['--jobs-per-hour', '10000', '--max-concurrent', '16', '--cpu-per-minute', '10000'];

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeout ?? 120_000, ...opts });
  return { code: r.status ?? -1, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

export function must(cmd, args, opts) {
  const r = run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}${r.error ? ` (${r.error.message})` : ''}\n${(r.stdout + r.stderr).slice(-3000)}`);
  return r;
}

export function assert(ok, message) {
  if (!ok) throw new Error(message);
}

/** Whether nothing listens on 127.0.0.1:port. */
function portFree(port) {
  return new Promise((res) => {
    const s = createTcpServer().once('error', () => res(false)).listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

function devnodeBinary() {
  const bin = resolve(root, process.env.DEVNODE ?? 'target/debug/sandrun-devnode');
  if (!existsSync(bin)) throw new Error(`no dev node at ${bin}: build it (make devnode) or set DEVNODE`);
  return bin;
}

export async function createHarness(name) {
  const tmp = mkdtempSync(join(tmpdir(), `sandrun-${name}-`));
  const cleanups = [];
  const logs = [];
  let nodeCount = 0;
  let keyCount = 0;
  let browserContext;

  const h = {
    tmp,
    /** Runs `fn` at cleanup (last registered, first run). */
    defer(fn) { cleanups.unshift(fn); },

    /**
     * A dev node (`worker`, `pool` or `broker`) on a free port (`--port 0`: it prints its URL
     * once it listens). Resolves with { endpoint, child, logFile }.
     */
    async startNode(subcommand, args = []) {
      const logFile = join(tmp, `${subcommand}-${++nodeCount}.log`);
      const fd = openSync(logFile, 'a');
      const child = spawn(devnodeBinary(), [subcommand, '--port', '0', ...args], { stdio: ['ignore', 'pipe', fd], cwd: tmp });
      h.defer(() => child.exitCode === null && child.kill('SIGTERM'));
      logs.push(logFile);
      const endpoint = await new Promise((res, rej) => {
        let out = '';
        const timer = setTimeout(() => rej(new Error(`dev node ${subcommand} did not start in 30 s:\n${readFileSync(logFile, 'utf8').slice(-2000)}`)), 30_000);
        child.stdout.on('data', (d) => {
          out += d;
          const m = out.match(new RegExp(`${subcommand}: (http://\\S+)`));
          if (m) { clearTimeout(timer); res(m[1]); }
        });
        child.once('exit', (code) => { clearTimeout(timer); rej(new Error(`dev node ${subcommand} exited (${code}):\n${readFileSync(logFile, 'utf8').slice(-2000)}`)); });
      });
      child.stdout.resume();
      return { endpoint, child, logFile };
    },

    /** A signing worker (its own new key); `extra`: more flags, e.g. ['--fault', 'alter-output']. */
    async startWorker(extra = []) {
      const key = join(tmp, `worker-key-${++keyCount}.pem`);
      const workerId = must(devnodeBinary(), ['--generate-key', key]).stdout.trim().split(/\s+/).pop();
      return { ...(await h.startNode('worker', ['--worker-key', key, ...WORKER_LIMITS, ...extra])), workerId };
    },

    /**
     * The local market of scripts/stack.mjs (three workers, anvil, Kubo, SandrunMarket, three node
     * agents, the third faulty; it runs the agents on the repository's pkg/) in its own folder,
     * on the first base port from `from` (stepping 30) whose ports are free; stopped at cleanup.
     * Resolves with the path of its stack.json.
     */
    /** A base port from `from` up (in steps of 30) whose stack ports are all free. */
    async freeStackBase(from) {
      const offsets = [0, 1, 2, 10, 20, 21]; // stack.mjs: workers, anvil, Kubo API and gateway
      let base = from;
      while (!(await Promise.all(offsets.map((o) => portFree(base + o)))).every(Boolean)) base += 30;
      return base;
    },

    async startStack(from) {
      const base = await h.freeStackBase(from);
      const dir = join(tmp, `stack-${base}`);
      const script = join(root, 'scripts', 'stack.mjs');
      h.defer(() => promisify(execFile)(process.execPath, [script, 'stop', '--dir', dir]));
      const { stdout } = await promisify(execFile)(process.execPath, [script, 'start', '--port', String(base), '--dir', dir], { cwd: root, timeout: 120_000 });
      return stdout.trim().split('\n').pop();
    },

    /** A URL nothing listens on (a port that was just free). */
    async deadEndpoint() {
      const { createServer: netServer } = await import('node:net');
      const port = await new Promise((res) => { const s = netServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
      return `http://127.0.0.1:${port}`;
    },

    /**
     * The package as users get it: SANDRUN_PKG plus cli/, with `bin` added to package.json,
     * `npm pack`ed and installed from the tarball into a fresh project. Returns the project dir
     * and the installed `sandrun` bin.
     */
    installPackage() {
      if (!existsSync(join(pkgDir, 'package.json'))) throw new Error(`no package at ${pkgDir}: run \`make pkg\` first (or set SANDRUN_PKG)`);
      const staged = join(tmp, 'package');
      cpSync(pkgDir, staged, { recursive: true });
      cpSync(join(root, 'cli'), join(staged, 'cli'), { recursive: true });
      const manifest = JSON.parse(readFileSync(join(staged, 'package.json'), 'utf8'));
      manifest.bin = { sandrun: './cli/sandrun.mjs' };
      if (manifest.files && !manifest.files.includes('cli/')) manifest.files.push('cli/');
      writeFileSync(join(staged, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      const packed = must('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: staged }).stdout.trim().split('\n').pop();
      const project = join(tmp, 'project');
      mkdirSync(project);
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'sandrun-consumer', private: true, type: 'module' }));
      must('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(tmp, packed)], { cwd: project });
      return { project, tarball: join(tmp, packed), bin: join(project, 'node_modules', '.bin', 'sandrun') };
    },

    /** A static file server for `dir` on a free port (another origin than the workers). */
    async serve(dir) {
      const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml' };
      const server = createServer((req, res) => {
        let file = join(dir, normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)));
        if (!file.startsWith(dir + sep) && file !== dir) { res.writeHead(403).end(); return; }
        if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
        if (!existsSync(file)) { res.writeHead(404).end('not found'); return; }
        res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
        createReadStream(file).pipe(res);
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      h.defer(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
      return `http://127.0.0.1:${server.address().port}`;
    },

    /** One headless Chromium (persistent context with a fresh profile) for the whole run. */
    async browser() {
      if (browserContext) return browserContext;
      const { chromium } = requireTool('playwright-core');
      browserContext = await chromium.launchPersistentContext(mkdtempSync(join(tmp, 'chromium-')), {
        executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000, acceptDownloads: true,
      });
      h.defer(() => browserContext.close());
      return browserContext;
    },

    /** The tail of every dev node's log (shown when a test failed). */
    nodeLogs() {
      return logs.map((f) => `--- ${f}\n${readFileSync(f, 'utf8').slice(-1500)}`).join('\n');
    },

    async cleanup() {
      for (const fn of cleanups) { try { await fn(); } catch { /* already gone */ } }
      if (process.env.KEEP_TMP) console.log(`kept ${tmp}`);
      else rmSync(tmp, { recursive: true, force: true });
    },
  };
  return h;
}

/**
 * Runs `setup(h)` then each test in order; prints one line per test and `N passed, N failed`.
 * A failing setup fails the run. Exits the process with 1 when anything failed.
 */
export async function runSuite(name, { setup, tests, filter = process.argv[2] ?? '' }) {
  const h = await createHarness(name);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  try {
    const t0 = Date.now();
    const ctx = await setup(h);
    console.log(`${name}: set up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const t of tests) {
      if (filter && !t.name.includes(filter)) continue;
      const t1 = Date.now();
      try {
        const note = await t.fn(ctx, h);
        if (note?.skipped) {
          skipped++;
          console.log(`  skip  ${t.name}: ${note.skipped}`);
          continue;
        }
        passed++;
        console.log(`  ok    ${t.name} (${((Date.now() - t1) / 1000).toFixed(1)} s)${note ? ` ${note}` : ''}`);
      } catch (e) {
        failed++;
        console.log(`  FAIL  ${t.name} (${((Date.now() - t1) / 1000).toFixed(1)} s)\n${String(e?.stack ?? e).replace(/^/gm, '        ')}`);
      }
    }
  } catch (e) {
    failed++;
    console.log(`  FAIL  setup\n${String(e?.stack ?? e).replace(/^/gm, '        ')}`);
  } finally {
    if (failed) console.log(`dev node logs (tail):\n${h.nodeLogs()}`);
    await h.cleanup();
  }
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed ? 1 : 0);
}
