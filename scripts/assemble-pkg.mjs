#!/usr/bin/env node
// Assembles the npm package in pkg/ from build/wasm and build/wasm-full (scripts/build-wasm.sh),
// pkg-templates/ and js/. Top level: the core entry (`@sandrun/sdk`) — its .wasm, the generated
// module, the ESM entries from pkg-templates and a Node CommonJS entry (node.cjs) made with
// esbuild. full/: the full entry (`@sandrun/sdk/full`: plugins, pools, consensus, nodes) — its own
// .wasm and generated module, entries generated from the same templates (sharing js/), and its
// types. sandrun.iife.js (the <script> build, global `Sandrun`, wasm inlined) is built from the
// full entry. Then checks the result (files, exports, no top-level await).
// Env: SANDRUN_JS_DIR overrides js/ (pipeline checks with stand-ins).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'tools', 'package.json'));
const esbuild = require('esbuild');

const wasmDir = join(root, 'build', 'wasm');
const wasmFullDir = join(root, 'build', 'wasm-full');
const templates = join(root, 'pkg-templates');
const jsDir = process.env.SANDRUN_JS_DIR ? resolve(process.env.SANDRUN_JS_DIR) : join(root, 'js');
const final = join(root, 'pkg');
// Built aside and renamed at the end, so a concurrent reader never sees a half-made pkg/.
const out = join(root, `pkg.tmp-${process.pid}`);

function fail(msg) {
  rmSync(out, { recursive: true, force: true });
  console.error(`assemble-pkg: ${msg}`);
  process.exit(1);
}
for (const f of ['sandrun_sdk.js', 'sandrun_sdk_bg.wasm', 'sandrun_sdk.d.ts']) {
  if (!existsSync(join(wasmDir, f))) fail(`build/wasm/${f} missing: run scripts/build-wasm.sh`);
  if (!existsSync(join(wasmFullDir, f))) fail(`build/wasm-full/${f} missing: run scripts/build-wasm.sh`);
}
for (const f of ['browser.js', 'node.js', 'errors.js', 'api.js']) {
  if (!existsSync(join(jsDir, f))) fail(`${join(jsDir, f)} missing`);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'js'), { recursive: true });
mkdirSync(join(out, 'full'), { recursive: true });

// 1. The generated modules and their wasm: core at the top level, full in full/.
for (const f of ['sandrun_sdk.js', 'sandrun_sdk_bg.wasm', 'sandrun_sdk.d.ts']) {
  cpSync(join(wasmDir, f), join(out, f));
  cpSync(join(wasmFullDir, f), join(out, 'full', f));
}
// 2. The platform glue (and any .d.ts beside it).
for (const f of readdirSync(jsDir)) {
  if (/\.(js|mjs|d\.ts)$/.test(f) && statSync(join(jsDir, f)).isFile()) cpSync(join(jsDir, f), join(out, 'js', f));
}
// 3. Entries and docs from the templates; the version follows Cargo.toml.
for (const f of ['index.js', 'node.mjs', 'index.d.ts', 'README.md']) cpSync(join(templates, f), join(out, f));
const cargo = readFileSync(join(root, 'Cargo.toml'), 'utf8');
const version = cargo.match(/\[package\][^[]*?\nversion\s*=\s*"([^"]+)"/)?.[1];
const pkgJson = JSON.parse(readFileSync(join(templates, 'package.json'), 'utf8'));
if (version) pkgJson.version = version;
writeFileSync(join(out, 'package.json'), JSON.stringify(pkgJson, null, 2) + '\n');

// 3a. The full entry, generated from the core templates: the glue is the shared ../js/, and the
//     full-only classes and plugin factories are exported too. Each replacement must apply, so a
//     template that drifts fails here instead of shipping a broken entry.
function derive(text, file, replacements) {
  for (const [from, to] of replacements) {
    if (!text.includes(from)) fail(`${file}: cannot derive the full entry (no ${JSON.stringify(from)})`);
    text = text.replaceAll(from, to);
  }
  return text;
}
const FULL_EXPORTS =
  "export { Pool, PoolBuilder, Node, NodeBuilder } from './sandrun_sdk.js';\n" +
  'export { retryPlugin, circuitBreakerPlugin, timeoutPlugin, rateLimitPlugin, authPlugin, loggingPlugin, ' +
  "metricsPlugin, BuiltinPlugin } from './sandrun_sdk.js';\n";
const CORE_EXPORT = "export { Sandrun, JobBuilder, JobExecution, LogStream } from './sandrun_sdk.js';\n";
const fullJs = (file) => derive(readFileSync(join(templates, file), 'utf8'), file, [
  ["from './js/", "from '../js/"],
  ['// @sandrun/sdk — ', '// @sandrun/sdk/full — '],
  [CORE_EXPORT, CORE_EXPORT + FULL_EXPORTS],
]);
writeFileSync(join(out, 'full', 'index.js'), fullJs('index.js'));
writeFileSync(join(out, 'full', 'node.mjs'), fullJs('node.mjs'));
const coreTypes = readFileSync(join(templates, 'index.d.ts'), 'utf8');
writeFileSync(join(out, 'full', 'index.d.ts'), derive(coreTypes, 'index.d.ts', [
  ['// @sandrun/sdk — public TypeScript surface of the core entry.', '// @sandrun/sdk/full — public TypeScript surface of the full entry (generated from index.d.ts).'],
  [CORE_EXPORT, CORE_EXPORT + FULL_EXPORTS],
  ["import type { FieldProblem, VerificationReport } from './sandrun_sdk.js';",
    "import type { FieldProblem, VerificationReport, ConsensusReport, WorkerEvidence } from './sandrun_sdk.js';"],
  ['readonly report?: VerificationReport | Record<string, unknown>;', 'readonly report?: VerificationReport | ConsensusReport;'],
  ['/** k-of-n consensus was not reached (consensus is in `@sandrun/sdk/full`). */',
    "/** k-of-n consensus was not reached: `report` holds the evidence, `evidence` each worker's part. */"],
  ['readonly report: Record<string, unknown>;\n  readonly evidence: Record<string, unknown>[];',
    'readonly report: ConsensusReport;\n  readonly evidence: WorkerEvidence[];'],
]));

// 3b. Types for CommonJS consumers (TypeScript with module node16/nodenext reads a .d.cts for the
//     "require" condition; a .d.ts in a "type": "module" package would be taken for ESM).
for (const dir of [out, join(out, 'full')]) {
  writeFileSync(join(dir, 'sandrun_sdk.d.cts'), readFileSync(join(dir, 'sandrun_sdk.d.ts'), 'utf8'));
  writeFileSync(join(dir, 'node.d.cts'), readFileSync(join(dir, 'index.d.ts'), 'utf8').replaceAll("'./sandrun_sdk.js'", "'./sandrun_sdk.cjs'"));
}

// 4. Node CommonJS entries: node.mjs and everything it imports, as one CJS file next to its wasm.
for (const dir of [out, join(out, 'full')]) await esbuild.build({
  entryPoints: [join(dir, 'node.mjs')],
  outfile: join(dir, 'node.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  define: { 'import.meta.url': '__sandrun_import_meta_url' },
  // A dependency of the package, required at run time (its optional native add-ons stay optional).
  external: ['ws'],
  banner: {
    js: `// @sandrun/sdk${dir === out ? '' : '/full'} — Node.js CommonJS entry (generated from node.mjs by scripts/assemble-pkg.mjs).\n` +
      "const __sandrun_import_meta_url = require('node:url').pathToFileURL(__filename).href;",
  },
  logLevel: 'warning',
}).catch(() => fail('esbuild could not build node.cjs (see above)'));

// 5. <script> build, from the full entry (CDN users get everything): global `Sandrun`, wasm
//    inlined as base64, instantiated on first use.
await esbuild.build({
  stdin: {
    contents: derive(readFileSync(join(templates, 'iife.js'), 'utf8'), 'iife.js', [["from './js/", "from '../js/"]]),
    resolveDir: join(out, 'full'), sourcefile: 'iife.js',
  },
  outfile: join(out, 'sandrun.iife.js'),
  bundle: true,
  format: 'iife',
  globalName: 'Sandrun',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  loader: { '.wasm': 'binary' },
  // The generated module's default-path fallback (`new URL(..., import.meta.url)`) is never taken:
  // the IIFE always passes the inlined bytes.
  define: { 'import.meta.url': 'undefined' },
  banner: { js: `/*! @sandrun/sdk ${pkgJson.version} — <script> build; global Sandrun. MIT */` },
  logLevel: 'warning',
}).catch(() => fail('esbuild could not build sandrun.iife.js (see above)'));

// 6. Checks: every published file exists; no top-level await in any entry (esbuild refuses TLA in
//    CJS/IIFE output, so bundling each ESM entry that way proves there is none).
for (const f of pkgJson.files) if (!existsSync(join(out, f))) fail(`package.json lists ${f}, which is missing`);
const targets = [];
(function walk(e) {
  if (typeof e === 'string') targets.push(e);
  else if (e && typeof e === 'object') Object.values(e).forEach(walk);
})(pkgJson.exports);
for (const t of targets) if (!existsSync(join(out, t))) fail(`exports points at ${t}, which is missing`);
for (const entry of ['index.js', 'node.mjs', 'full/index.js', 'full/node.mjs']) {
  await esbuild.build({
    entryPoints: [join(out, entry)], bundle: true, write: false, format: 'cjs',
    platform: entry.endsWith('node.mjs') ? 'node' : 'browser', logLevel: 'silent',
    outdir: join(root, 'build', 'tla-check'), loader: { '.wasm': 'file' },
  }).catch((e) => fail(`${entry}: ${e.message}`));
}
rmSync(final, { recursive: true, force: true });
renameSync(out, final);
const sizes = ['sandrun_sdk_bg.wasm', 'sandrun_sdk.js', 'node.cjs', 'full/sandrun_sdk_bg.wasm', 'full/sandrun_sdk.js', 'sandrun.iife.js']
  .map((f) => `${f} ${statSync(join(final, f)).size}`).join(', ');
console.log(`assemble-pkg: pkg/ ready (@sandrun/sdk ${pkgJson.version}; ${sizes} bytes)`);
