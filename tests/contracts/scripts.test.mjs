// scripts/anvil.sh and scripts/deploy-market.mjs as others use them: start a named anvil,
// deploy the committed artifact, find its code on chain, stop it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, freePort, rpc } from './lib/anvil.mjs';
import { market } from './lib/market.mjs';

test('anvil.sh start → deploy-market.mjs → code at the address → anvil.sh stop', async () => {
  const port = await freePort();
  const name = `contracts-test-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'deploy-market-'));
  const run = (cmd, args) => execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8' });
  run('bash', ['scripts/anvil.sh', 'start', name, String(port)]);
  try {
    const url = `http://127.0.0.1:${port}`;
    const out = join(dir, 'market.json');
    const printed = JSON.parse(run('node', ['scripts/deploy-market.mjs', '--rpc', url, '--out', out]));
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), printed);
    assert.equal(printed.chainId, 31337);
    assert.equal(printed.rpcUrl, url);
    assert.match(printed.address, /^0x[0-9a-fA-F]{40}$/);
    assert.equal(printed.deployer, '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'); // anvil's account 0
    assert.ok(printed.blockNumber >= 1);
    const code = await rpc(url, 'eth_getCode', [printed.address, 'latest']);
    assert.ok(code.length > 1000 && market.bytecode.includes(code.slice(2, 200)), 'runtime code of the artifact');
  } finally {
    run('bash', ['scripts/anvil.sh', 'stop', name]);
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(rpc(`http://127.0.0.1:${port}`, 'eth_chainId'), 'anvil stopped');
});
