#!/usr/bin/env node
// Every ```js / ```ts block of docs/**/*.md and pkg-templates/README.md, executed against real dev
// nodes, so that no example rots; then every examples/*/run.mjs. Prints `N passed, N failed`.
// Usage: node tests/docs/run.mjs [filter]   (filter: part of a file path, e.g. quickstart)
//
// How a block runs: as an ES module (ts: type-checked with tsc --strict, then transpiled by
// esbuild) in a project where the packed package is installed, so `import … from '@sandrun/sdk'`
// resolves as for a user. The docs use the addresses of a local dev node set-up (docs/README.md
// says which); the test replaces them with the nodes it started:
//   http://127.0.0.1:8443, :8444   two honest workers      http://127.0.0.1:8000  a pool coordinator
//   http://127.0.0.1:8445          a worker started with --fault alter-output
//   http://127.0.0.1:8001          a broker
// A block passes when it exits 0 within 60 s (and, with expect="TEXT", printed TEXT).
// Info-string attributes after the language:
//   browser                   run in headless Chromium (a page with an import map to the package)
//   skip-reason="WHY"         not run; the reason is printed (e.g. needs the market, issue 11)
//   expect="TEXT"             stdout (browser: the console) must contain TEXT
//   fails="CODE"              the block must throw a SandrunError with this code (error examples)
import { readdirSync, readFileSync, writeFileSync, mkdirSync, existsSync, cpSync } from 'node:fs';
import { join, relative } from 'node:path';
import { assert, pkgDir, requireTool, root, run, runSuite } from '../cli/harness.mjs';

const BLOCK = /^```(js|ts|javascript|typescript)\b([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;
const DOCUMENTED = { worker: 'http://127.0.0.1:8443', second: 'http://127.0.0.1:8444', faulty: 'http://127.0.0.1:8445', pool: 'http://127.0.0.1:8000', broker: 'http://127.0.0.1:8001' };

function markdownFiles() {
  const found = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.md')) found.push(join(dir, e.name));
    }
  };
  walk(join(root, 'docs'));
  return [...found.sort(), join(root, 'pkg-templates', 'README.md')];
}

function extractBlocks(file) {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(BLOCK)].map((m) => {
    const info = m[2];
    const attrs = Object.fromEntries([...info.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]]));
    return {
      file: relative(root, file),
      line: text.slice(0, m.index).split('\n').length,
      lang: m[1].startsWith('t') ? 'ts' : 'js',
      browser: /(^|\s)browser(\s|$)/.test(info.replace(/[\w-]+="[^"]*"/g, '')),
      attrs,
      code: m[3],
    };
  });
}

function localise(code, ctx) {
  let out = code;
  for (const [role, url] of Object.entries(DOCUMENTED)) out = out.replaceAll(url, ctx.urls[role]);
  return out;
}

/** The block's source as JavaScript: ts transpiled (types removed, nothing checked). */
function javascript(block) {
  if (block.lang === 'js') return block.code;
  const { transformSync } = requireTool('esbuild');
  return transformSync(block.code, { loader: 'ts', format: 'esm', target: 'es2022' }).code;
}

/** A block that must fail: it runs inside a try, and the caught error's code is checked. */
function expectingFailure(code, wanted) {
  return `${code.match(/^import .*$/gm)?.join('\n') ?? ''}
try {
${code.replace(/^import .*$/gm, '')}
} catch (e) {
  if (e?.code === ${JSON.stringify(wanted)}) { console.log('failed as documented:', e.code); process.exit(0); }
  throw e;
}
throw new Error('the block did not fail with ${wanted}');`;
}

/**
 * A ts block must also compile against the package's types (tsc --strict, as a user's project
 * would: nodenext, lib esnext.disposable for `using`, Node's types from tools/).
 */
function typecheck(block, ctx, name) {
  const file = join(ctx.project, 'blocks', `${name}.ts`);
  writeFileSync(file, localise(block.code, ctx));
  const config = join(ctx.project, 'blocks', `${name}.tsconfig.json`);
  writeFileSync(config, JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext',
      lib: ['es2022', 'dom', 'esnext.disposable'], types: ['node'], typeRoots: [join(root, 'tools', 'node_modules', '@types')] },
    files: [file],
  }));
  const r = run(process.execPath, [join(root, 'tools', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], { cwd: ctx.project });
  assert(r.code === 0, `tsc --strict rejects the block:\n${(r.stdout + r.stderr).slice(-2500)}`);
}

async function runInNode(block, source, ctx, name) {
  const file = join(ctx.project, 'blocks', `${name}.mjs`);
  writeFileSync(file, block.attrs.fails ? expectingFailure(source, block.attrs.fails) : source);
  const r = run(process.execPath, [file], { cwd: ctx.project, timeout: 60_000, env: { ...process.env, SANDRUN_ENDPOINT: ctx.urls.worker } });
  assert(r.code === 0, `exit ${r.code}${r.signal ? ` (${r.signal}: timed out?)` : ''}\n${(r.stdout + r.stderr).slice(-2500)}`);
  return r.stdout;
}

async function runInBrowser(block, source, ctx, name) {
  const file = join(ctx.site, `${name}.mjs`);
  writeFileSync(file, source);
  const page = await (await ctx.context).newPage();
  const printed = [];
  page.on('console', (m) => printed.push(m.text()));
  page.on('pageerror', (e) => printed.push(`[pageerror] ${e.message}`));
  try {
    await page.goto(`${ctx.origin}/index.html?block=${name}.mjs`);
    await page.waitForFunction(() => window.__done, null, { timeout: 60_000 });
    const done = await page.evaluate(() => window.__done);
    assert(done.ok, `threw ${done.error}\n${printed.join('\n')}`);
    return printed.join('\n');
  } finally {
    await page.close();
  }
}

/** A page that maps the package's browser entries (as a no-build site would) and runs ?block=. */
function browserSite(dir) {
  mkdirSync(dir, { recursive: true });
  cpSync(pkgDir, join(dir, 'pkg'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8">
<script type="importmap">{ "imports": { "@sandrun/sdk": "./pkg/index.js", "@sandrun/sdk/full": "./pkg/full/index.js" } }</script>
<script type="module">
  const name = new URLSearchParams(location.search).get('block');
  import('./' + name).then(() => { window.__done = { ok: true }; }, (e) => { window.__done = { ok: false, error: String(e?.stack ?? e) }; });
</script>`);
}

const tests = [];
for (const file of markdownFiles()) {
  extractBlocks(file).forEach((block, i) => {
    const name = `${block.file.replace(/[^\w]+/g, '-')}-${i + 1}`;
    tests.push({
      name: `${block.file}:${block.line} (${block.lang}${block.browser ? ', browser' : ''})`,
      async fn(ctx) {
        if (block.attrs['skip-reason']) return { skipped: block.attrs['skip-reason'] };
        if (block.lang === 'ts') typecheck(block, ctx, name);
        const source = localise(javascript(block), ctx);
        const printed = block.browser ? await runInBrowser(block, source, ctx, name) : await runInNode(block, source, ctx, name);
        if (block.attrs.expect) assert(printed.includes(localise(block.attrs.expect, ctx)), `printed no ${JSON.stringify(block.attrs.expect)}:\n${printed.slice(-2000)}`);
      },
    });
  });
}
// `make docs`: TypeDoc over the package's types, type-checked, warnings as errors.
tests.push({
  name: 'make docs: the API reference is generated from the package\'s .d.ts (TypeDoc, no warnings)',
  async fn(ctx) {
    const out = join(ctx.tmp, 'api-reference');
    const r = run('make', ['-s', '--no-print-directory', 'docs', `SANDRUN_PKG=${pkgDir}`, `DOCS_OUT=${out}`, 'SKIP_DEPS=1'], { cwd: root, timeout: 180_000 });
    assert(r.code === 0, `make docs exited ${r.code}\n${(r.stdout + r.stderr).slice(-2500)}`);
    for (const page of ['index.html', 'classes/index.JobBuilder.html', 'classes/full.Pool.html', 'classes/index.ValidationError.html']) {
      assert(existsSync(join(out, page)), `${page} missing from the reference`);
    }
    assert(readFileSync(join(out, 'classes/index.JobBuilder.html'), 'utf8').includes('entrypoint'), 'JobBuilder page lacks its methods');
  },
});
// The runnable examples: each run.mjs from inside the consumer project (where the package is).
for (const example of readdirSync(join(root, 'examples')).sort()) {
  if (!existsSync(join(root, 'examples', example, 'run.mjs'))) continue;
  tests.push({
    name: `examples/${example}/run.mjs`,
    async fn(ctx) {
      const dir = join(ctx.project, 'examples', example);
      cpSync(join(root, 'examples', example), dir, { recursive: true, filter: (src) => !src.includes('node_modules') });
      const env = { ...process.env, SANDRUN_ENDPOINT: ctx.urls.worker, SANDRUN_WORKERS: [ctx.urls.worker, ctx.urls.second, ctx.urls.faulty].join(',') };
      const r = run(process.execPath, [join(dir, 'run.mjs')], { cwd: dir, timeout: 90_000, env });
      assert(r.code === 0, `exit ${r.code}\n${(r.stdout + r.stderr).slice(-2500)}`);
    },
  });
}

await runSuite('docs', {
  tests,
  async setup(h) {
    const [installed, worker, second, faulty, broker] = await Promise.all([
      Promise.resolve().then(() => h.installPackage()),
      h.startWorker(), h.startWorker(), h.startWorker(['--fault', 'alter-output']),
      h.startNode('broker', ['--db', join(h.tmp, 'broker.sqlite3')]),
    ]);
    const workersFile = join(h.tmp, 'pool-workers.json');
    writeFileSync(workersFile, JSON.stringify([worker, second].map((w) => ({ endpoint: w.endpoint, worker_id: w.workerId, max_concurrent_jobs: 2 }))));
    const pool = await h.startNode('pool', ['--workers', workersFile, '--health-interval-secs', '1']);
    // The examples' own package.json files point at ../../pkg; here they use the installed tarball.
    mkdirSync(join(installed.project, 'blocks'), { recursive: true });
    const site = join(h.tmp, 'site');
    browserSite(site);
    return {
      tmp: h.tmp,
      project: installed.project,
      urls: { worker: worker.endpoint, second: second.endpoint, faulty: faulty.endpoint, pool: pool.endpoint, broker: broker.endpoint },
      site,
      origin: await h.serve(site),
      get context() { return h.browser(); }, // Chromium starts only if a browser block runs
    };
  },
});
