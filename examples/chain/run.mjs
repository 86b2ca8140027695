// A whole 2-of-3 lifecycle of the marketplace contract through the SDK (`@sandrun/sdk/full`), on a
// local anvil it starts on a free port and stops at the end (or on SANDRUN_RPC, a chain that
// already runs and has an unlocked account):
//   make demo-chain        (or: node examples/chain/run.mjs, after make pkg)
// anvil is ANVIL, else the one `make setup` installs in the repository's tools/.
// The market is deployed from the node's first unlocked account (`chain: { rpcUrl, account }`:
// the node signs); the poster and the three nodes sign in the SDK with fresh random keys
// (`chain: { rpcUrl, privateKey }`). Each step prints its gas; the lifecycle (post, 3 claims,
// 3 results, finalize) is checked against the contract's budget of 450,000 gas.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Sandrun, formatEther, parseEther, RevertError } from '@sandrun/sdk/full';

const BUDGET = 450_000n;

/** anvil on a free port (it picks one for --port 0 and says which); its URL and a stop(). */
function startAnvil() {
  const bin = process.env.ANVIL ||
    fileURLToPath(new URL('../../tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil', import.meta.url));
  if (!existsSync(bin)) throw new Error(`no anvil at ${bin}: set ANVIL (or SANDRUN_RPC), or run make setup`);
  const child = spawn(bin, ['--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => child.kill());
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const port = out.match(/Listening on 127\.0\.0\.1:(\d+)/)?.[1];
      if (port) {
        child.stdout.removeAllListeners('data').resume();
        resolve({ url: `http://127.0.0.1:${port}`, stop: () => child.kill() });
      }
    });
    child.once('exit', (code) => reject(new Error(`anvil exited (${code})`)));
  });
}

/** One JSON-RPC request (the chain's own methods, outside the SDK: accounts, test balances). */
async function rpc(url, method, params = []) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

const anvil = process.env.SANDRUN_RPC ? null : await startAnvil();
const rpcUrl = process.env.SANDRUN_RPC ?? anvil.url;
let failed = false;

const gasOf = (receipt) => receipt.gasUsed;
const line = (step, receipt, more = '') =>
  console.log(`${step.padEnd(34)} ${String(gasOf(receipt)).padStart(9)} gas  ${more}`);

/** A client signing with a fresh key, funded on the local chain; its market and address. */
async function keyClient(address) {
  const privateKey = `0x${randomBytes(32).toString('hex')}`;
  const sandrun = await Sandrun.create({ chain: { rpcUrl, privateKey, pollIntervalMs: 100 } });
  const market = await sandrun.market(address);
  const account = await market.account();
  await rpc(rpcUrl, 'anvil_setBalance', [account, `0x${parseEther('100').toString(16)}`]);
  return { sandrun, market, account };
}

try {
  const [deployer] = await rpc(rpcUrl, 'eth_accounts');
  const admin = await Sandrun.create({ chain: { rpcUrl, account: deployer, pollIntervalMs: 100 } });
  const address = await admin.deployMarket();
  const market = await admin.market(address);
  const settings = await market.settings();
  console.log(`SandrunMarket at ${address} on chain ${market.chainId} (${rpcUrl})`);
  console.log(`  minimum bond ${formatEther(settings.minBond)} ETH, ${formatEther(settings.claimBond)} ETH locked per claim, unbonding ${settings.unbondingDelay} s\n`);

  const poster = await keyClient(address);
  const nodes = [];
  for (const name of ['alice', 'bob', 'mallory']) nodes.push({ name, ...(await keyClient(address)) });

  // Every JobFinalized log, as it is mined (a watch polls eth_getLogs).
  const finalized = [];
  const stop = market.watch('JobFinalized', { pollIntervalMs: 100 }, (log) => finalized.push(log));

  for (const [i, n] of nodes.entries()) {
    const workerKey = randomBytes(32).toString('base64');
    const r = await n.market.registerNode({ workerKey, endpoint: `http://127.0.0.1:${8443 + i}`, price: '0.01 ether', bond: '0.1 ether' });
    line(`registerNode (${n.name})`, r, n.account);
  }

  const price = parseEther('0.01');
  const deadline = Math.floor(Date.now() / 1000) + 3600;
  const jobHash = `0x${randomBytes(32).toString('hex')}`;
  const inputCid = 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e';
  const posted = await poster.market.postJob({ jobHash, inputCid, k: 2, n: 3, pricePerNode: price, deadline });
  const lifecycle = [posted.receipt];
  line('postJob (2-of-3, 0.03 ETH escrow)', posted.receipt, `job ${posted.jobId}`);

  for (const n of nodes) {
    const r = await n.market.claim(posted.jobId);
    lifecycle.push(r);
    line(`claim (${n.name})`, r);
  }
  // alice and bob agree; mallory's worker altered its output.
  const honest = `0x${'11'.repeat(32)}`;
  for (const n of nodes) {
    const resultHash = n.name === 'mallory' ? `0x${'66'.repeat(32)}` : honest;
    const signature = randomBytes(64).toString('base64');
    const r = await n.market.submitResult(posted.jobId, { resultHash, outputCid: inputCid, signature });
    lifecycle.push(r);
    line(`submitResult (${n.name})`, r, resultHash === honest ? 'agrees' : 'dissents');
  }
  try {
    await poster.market.claim(posted.jobId);
  } catch (e) {
    if (!(e instanceof RevertError)) throw e;
    console.log(`${'claim by the poster'.padEnd(34)} refused before sending: ${e.message}`);
  }

  const before = await Promise.all(nodes.map((n) => market.balanceOf(n.account)));
  const settled = await market.finalize(posted.jobId);
  lifecycle.push(settled.receipt);
  line('finalize (by anyone)', settled.receipt);
  const name = (a) => nodes.find((n) => n.account === a)?.name ?? a;
  console.log(`  agreeing ${settled.agreeing.map(name).join(', ')}; dissenting ${settled.dissenting.map(name).join(', ')}`);
  console.log(`  paid ${formatEther(settled.paid)} ETH, slashed ${formatEther(settled.slashed)} ETH, refunded ${formatEther(settled.refunded)} ETH to the poster`);
  for (const [i, n] of nodes.entries()) {
    console.log(`  ${n.name.padEnd(8)} credited ${formatEther(before[i])} → ${formatEther(await market.balanceOf(n.account))} ETH`);
  }

  for (const who of [nodes[0], nodes[1], poster]) {
    const r = await who.market.withdraw();
    line(`withdraw (${who.name ?? 'poster'})`, r);
  }
  const job = await market.job(posted.jobId);
  console.log(`\njob ${posted.jobId}: ${job.state}, agreed result ${job.agreedResult}`);

  const total = lifecycle.reduce((sum, r) => sum + gasOf(r), 0n);
  console.log(`2-of-3 lifecycle (post, 3 claims, 3 results, finalize): ${total} gas (budget ${BUDGET})`);

  for (let i = 0; i < 50 && finalized.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  stop();
  console.log(`watch: ${finalized.length} JobFinalized log(s), block ${finalized[0]?.blockNumber}`);

  const checks = [
    [total <= BUDGET, `lifecycle gas ${total} within ${BUDGET}`],
    [settled.agreeing.length === 2 && settled.dissenting.length === 1, 'two agreeing, one dissenting'],
    [settled.paid === 2n * price && settled.refunded === price, 'paid 2 shares, refunded 1'],
    [settled.slashed === settings.claimBond, 'the dissenter lost its claim bond'],
    [job.state === 'finalized', 'the job is finalized'],
    [finalized.length === 1 && finalized[0].args.jobId === posted.jobId, 'the watch saw the settlement once'],
  ];
  for (const [ok, what] of checks) {
    if (!ok) {
      failed = true;
      console.error(`FAILED: ${what}`);
    }
  }
} catch (e) {
  failed = true;
  console.error(`demo-chain failed: ${e.name}: ${e.message}`);
} finally {
  anvil?.stop();
}
process.exitCode = failed ? 1 : 0;
