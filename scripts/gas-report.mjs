#!/usr/bin/env node
// Gas per market function and for one whole 2-of-3 lifecycle, measured on a real anvil it
// starts and stops (a figure, not a timed assertion; tests/contracts/gas.test.mjs checks the
// lifecycle stays within the 450,000).   node scripts/gas-report.mjs
import { measureGas, LIFECYCLE_BUDGET } from '../tests/contracts/lib/gas.mjs';

const { rows, lifecycle } = await measureGas();
const fmt = (g) => g.toLocaleString('en-US').padStart(9);
console.log('SandrunMarket gas (anvil, solc 0.8.37 via-IR, runs 10000)\n');
console.log(`${'function'.padEnd(16)} ${'gas'.padStart(9)}  case`);
for (const r of rows) console.log(`${r.fn.padEnd(16)} ${fmt(r.gas)}  ${r.note}`);
console.log('\n2-of-3 lifecycle (post, 3 claims, 3 results, finalize):');
for (const s of lifecycle.steps) console.log(`  ${s.fn.padEnd(14)} ${fmt(s.gas)}  ${s.note}`);
console.log(`  ${'total'.padEnd(14)} ${fmt(lifecycle.total)}  (budget ${LIFECYCLE_BUDGET.toLocaleString('en-US')})`);
