#!/usr/bin/env node
// Compiles contracts/*.sol (and the test-only contracts/test/*.sol) with the pinned solc-js from
// tools/ and writes contracts/out/NAME.json (contracts/out/test/NAME.json) as
// { "abi": [...], "bytecode": "0x..." }. The artifacts are committed, so building the SDK needs
// no compiler.
//   node scripts/compile-contracts.mjs           write the artifacts
//   node scripts/compile-contracts.mjs --check   compile afresh; exit 1 if any differs from the
//                                                committed file (or is missing)
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdirSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const solc = createRequire(join(root, 'tools/package.json'))('solc');

const SOLC_VERSION = '0.8.37';
// Fixed settings: changing any of them changes the committed bytecode. cancun for transient
// storage (the re-entrancy flag); no metadata hash, so the bytecode depends only on the code.
// runs = 10,000 favours cheap calls over a small deployment (deployed once, called per job);
// via-IR was measured against the legacy pipeline in scripts/gas-report.mjs (see README).
const SETTINGS = {
  optimizer: { enabled: true, runs: 10000 },
  viaIR: true,
  evmVersion: 'cancun',
  metadata: { bytecodeHash: 'none', appendCBOR: false },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
};

const solFiles = (dir) =>
  readdirSync(join(root, dir)).filter((f) => f.endsWith('.sol')).map((f) => join(dir, f));

/** Compiles the given sources (paths relative to the repo) → { name: { abi, bytecode, source } }. */
export function compile(paths) {
  if (!solc.version().startsWith(`${SOLC_VERSION}+`)) {
    throw new Error(`solc ${solc.version()} in tools/, expected ${SOLC_VERSION}`);
  }
  const sources = Object.fromEntries(paths.map((p) => [p, { content: readFileSync(join(root, p), 'utf8') }]));
  const output = JSON.parse(solc.compile(JSON.stringify({ language: 'Solidity', sources, settings: SETTINGS })));
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  for (const e of output.errors ?? []) process.stderr.write(e.formattedMessage);
  if (errors.length) throw new Error(`solc: ${errors.length} error(s)`);
  const contracts = {};
  for (const [source, byName] of Object.entries(output.contracts)) {
    for (const [name, c] of Object.entries(byName)) {
      if (!c.evm.bytecode.object) continue; // interfaces
      contracts[name] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, source };
    }
  }
  return contracts;
}

/** The artifact path of a contract compiled from `source`. */
const artifactPath = (name, source) =>
  join(root, 'contracts/out', dirname(source) === 'contracts' ? '' : 'test', `${name}.json`);

const artifactText = ({ abi, bytecode }) => `${JSON.stringify({ abi, bytecode }, null, 2)}\n`;

function main() {
  const check = process.argv.includes('--check');
  const contracts = compile([...solFiles('contracts'), ...solFiles('contracts/test')]);
  let stale = 0;
  for (const [name, c] of Object.entries(contracts)) {
    const path = artifactPath(name, c.source);
    const text = artifactText(c);
    if (check) {
      if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
        console.error(`compile-contracts: ${relative(root, path)} differs from a fresh compile of ${c.source}`);
        stale++;
      }
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      console.log(`compile-contracts: ${relative(root, path)} (${(c.bytecode.length - 2) / 2} bytes)`);
    }
  }
  if (check) {
    if (stale) {
      console.error('compile-contracts: run `make contracts` and commit contracts/out/');
      process.exit(1);
    }
    console.log(`compile-contracts: ${Object.keys(contracts).length} artifacts match a fresh compile (solc ${SOLC_VERSION})`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
