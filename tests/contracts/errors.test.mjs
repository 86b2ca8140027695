// Every custom error of the market, each raised by a real call on anvil with the arguments it
// must carry; and the revert vectors committed for crates/sandrun-chain still match the ABI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { triggerEveryError, describeError } from './lib/errors.mjs';
import { market, viem } from './lib/market.mjs';
import { ROOT } from './lib/anvil.mjs';

const abiErrors = market.abi.filter((x) => x.type === 'error');
const errors = await triggerEveryError();

test('every custom error in the ABI was raised', () => {
  assert.deepEqual(errors.map((e) => e.name).sort(), abiErrors.map((e) => e.name).sort());
});

for (const e of errors) {
  test(`${e.name}: reverts with its selector and arguments`, () => {
    const decoded = viem.decodeErrorResult({ abi: market.abi, data: e.data });
    assert.equal(decoded.errorName, e.name);
    const item = abiErrors.find((x) => x.name === e.name);
    assert.equal(e.data.slice(0, 10), viem.toFunctionSelector(item));
    assert.deepEqual([...(decoded.args ?? [])], e.args);
  });
}

test('crates/sandrun-chain revert vectors: every custom error, current selectors, real data', () => {
  const lines = readFileSync(join(ROOT, 'crates/sandrun-chain/tests/vectors/reverts.tsv'), 'utf8')
    .split('\n').filter((l) => l && !l.startsWith('#'));
  const byName = new Map(lines.map((l) => l.split('\t')).map(([name, data, display]) => [name, { data, display }]));
  for (const e of errors) {
    const v = byName.get(e.name);
    assert.ok(v, `no vector for ${e.name} (run node crates/sandrun-chain/tests/vectors/generate.mjs)`);
    assert.equal(v.data.slice(0, 10), e.data.slice(0, 10), `${e.name}: selector changed`);
    assert.equal(describeError(v.data).display, v.display);
  }
});
