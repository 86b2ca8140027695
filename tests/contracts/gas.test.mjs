// The whole 2-of-3 lifecycle stays within the gas budget (gas is deterministic on a
// given EVM and compiler, so this is a figure checked against a limit, not a timing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureGas, LIFECYCLE_BUDGET } from './lib/gas.mjs';

test('2-of-3 lifecycle (post, 3 claims, 3 results, finalize) within 450,000 gas', async () => {
  const { rows, lifecycle } = await measureGas();
  assert.equal(lifecycle.steps.length, 8);
  assert.ok(lifecycle.total <= LIFECYCLE_BUDGET, `lifecycle used ${lifecycle.total} gas`);
  // every function was measured, each a real mined transaction
  const measured = new Set(rows.map((r) => r.fn));
  for (const fn of ['registerNode', 'updateNode', 'postJob', 'claim', 'submitResult', 'finalize', 'withdraw',
    'cancel', 'refund', 'unregisterNode', 'withdrawBond', 'started']) assert.ok(measured.has(fn), fn);
  for (const r of rows) assert.ok(r.gas > 21_000n, `${r.fn}: ${r.gas}`);
  console.log(`2-of-3 lifecycle: ${lifecycle.total} gas`);
});
