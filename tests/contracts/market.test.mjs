// The market through viem on a real anvil: the node registry, the job lifecycles (2-of-3 with a
// slashed dissenter, 3-of-5, 5-of-9 over the second claim word, refund after the deadline,
// cancel), the views and pull payments. Every custom error: errors.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setupMarket, hashOf, signatureOf, CID, viem } from './lib/market.mjs';

const { parseEther } = viem;
const PRICE = parseEther('0.01');
let ctx, claimBond, minBond;

before(async () => {
  ctx = await setupMarket(undefined, { args: ['--accounts', '30'] });
  ({ claimBond, minBond } = ctx.settings);
});
after(() => ctx?.stop());

const eventsNamed = (receipt, name) => receipt.events.filter((e) => e.eventName === name);
const only = (receipt, name) => {
  const found = eventsNamed(receipt, name);
  assert.equal(found.length, 1, `one ${name} in ${receipt.events.map((e) => e.eventName)}`);
  return found[0].args;
};
const gasCost = (r) => r.gasUsed * r.effectiveGasPrice;

/** When no job is running, the contract holds exactly every account's bond and balance plus
 * what was slashed (burned: it stays in the contract for good). */
async function expectSolvent(slashed) {
  let sum = slashed;
  for (const a of ctx.accounts) sum += (await ctx.node(a)).bond + (await ctx.read('balanceOf', [a]));
  assert.equal(await ctx.balance(ctx.address), sum);
}

let nextNode = 3;
/** Fresh dev accounts registered as nodes (accounts 0-2 are owner, poster, stranger). */
async function freshNodes(count) {
  const nodes = ctx.accounts.slice(nextNode, nextNode + count);
  nextNode += count;
  assert.equal(nodes.length, count, 'not enough dev accounts');
  await ctx.registerNodes(nodes);
  return nodes;
}

test('registry: register, read, update, unregister, withdraw the bond after the delay, register again', async () => {
  const [node] = ctx.accounts.slice(nextNode, ++nextNode);
  const key = hashOf('ed25519 key');
  const reg = await ctx.send(node, 'registerNode', [key, 'https://node.example:8443', parseEther('0.002')], parseEther('0.2'));
  const ev = only(reg, 'NodeRegistered');
  assert.deepEqual([ev.node, ev.workerKey, ev.endpoint, ev.price, ev.bond],
    [node, key, 'https://node.example:8443', parseEther('0.002'), parseEther('0.2')]);
  let view = await ctx.node(node);
  assert.equal(view.registered, true);
  assert.equal(view.id, ev.id);
  assert.equal(await ctx.read('nodeAddress', [ev.id]), node);
  assert.deepEqual([view.workerKey, view.endpoint, view.price, view.bond, view.locked, view.unbondingAt],
    [key, 'https://node.example:8443', parseEther('0.002'), parseEther('0.2'), 0n, 0]);

  const key2 = hashOf('rotated key');
  const upd = await ctx.send(node, 'updateNode', [key2, 'https://other.example', 5n], parseEther('0.05'));
  assert.deepEqual(only(upd, 'NodeUpdated').bond, parseEther('0.25'));
  view = await ctx.node(node);
  assert.deepEqual([view.workerKey, view.endpoint, view.price, view.bond], [key2, 'https://other.example', 5n, parseEther('0.25')]);

  const unreg = await ctx.send(node, 'unregisterNode');
  const block = await ctx.pub.getBlock({ blockNumber: unreg.blockNumber });
  const readyAt = only(unreg, 'UnbondingStarted').readyAt;
  assert.equal(BigInt(readyAt), block.timestamp + 60n);
  assert.equal((await ctx.node(node)).unbondingAt, readyAt);
  assert.equal((await ctx.revert(node, 'withdrawBond')).errorName, 'UnbondingNotElapsed');

  await ctx.elapse(60);
  const before = await ctx.balance(node);
  const wd = await ctx.send(node, 'withdrawBond');
  assert.equal(only(wd, 'BondWithdrawn').amount, parseEther('0.25'));
  assert.equal(await ctx.balance(node), before + parseEther('0.25') - gasCost(wd));
  view = await ctx.node(node);
  assert.deepEqual([view.registered, view.bond, view.workerKey, view.endpoint], [false, 0n, `0x${'0'.repeat(64)}`, '']);

  const again = only(await ctx.send(node, 'registerNode', [key, '', 0n], minBond), 'NodeRegistered');
  assert.ok(again.id > ev.id, 'a new registration gets a new id');
});

test('2-of-3 lifecycle: two agree and are paid, the dissenter is slashed, a share goes back', async () => {
  const [owner, poster, stranger] = ctx.accounts;
  const [a, b, c] = await freshNodes(3);
  const { jobId, deadline, receipt } = await ctx.postJob(poster, { k: 2, n: 3, price: PRICE, label: 'lifecycle' });
  const posted = only(receipt, 'JobPosted');
  assert.deepEqual([posted.poster, posted.jobHash, posted.inputCid, posted.k, posted.n, posted.pricePerNode, BigInt(posted.deadline)],
    [poster, hashOf('lifecycle'), CID, 2, 3, PRICE, deadline]);
  // "did I already post this job hash?": JobPosted is indexed by poster and job hash
  const logs = await ctx.pub.getContractEvents({ address: ctx.address, abi: ctx.abi, eventName: 'JobPosted',
    args: { poster, jobHash: hashOf('lifecycle') }, fromBlock: 0n });
  assert.deepEqual(logs.map((l) => l.args.jobId), [jobId]);
  let job = await ctx.job(jobId);
  assert.deepEqual([job.state, job.poster, job.k, job.n, job.pricePerNode, job.claims], ['Open', poster, 2, 3, PRICE, []]);

  for (const node of [a, b, c]) {
    assert.deepEqual(only(await ctx.send(node, 'claim', [jobId]), 'JobClaimed'), { jobId, node });
    assert.equal((await ctx.node(node)).locked, claimBond);
  }
  job = await ctx.job(jobId);
  assert.equal(job.state, 'Claimed');
  assert.deepEqual(job.claims, [a, b, c]);
  assert.deepEqual(job.submitted, [false, false, false]);

  const res = only(await ctx.submit(a, jobId, 'good'), 'ResultSubmitted');
  assert.deepEqual(res, { jobId, node: a, resultHash: hashOf('good'), outputCid: CID, signature: signatureOf(`good ${a}`) });
  assert.equal((await ctx.revert(stranger, 'finalize', [jobId])).errorName, 'NoConsensus');
  await ctx.submit(b, jobId, 'good');
  assert.equal((await ctx.job(jobId)).agreedResult, hashOf('good'));
  await ctx.submit(c, jobId, 'bad'); // a result may still come after k agree, and counts
  job = await ctx.job(jobId);
  assert.deepEqual(job.submitted, [true, true, true]);
  assert.deepEqual(job.resultHashes, [hashOf('good'), hashOf('good'), hashOf('bad')]);

  const fin = await ctx.send(stranger, 'finalize', [jobId]);
  const f = only(fin, 'JobFinalized');
  assert.deepEqual([f.jobId, f.resultHash, f.agreeing, f.dissenting, f.paid, f.slashed, f.refunded],
    [jobId, hashOf('good'), [a, b], [c], 2n * PRICE, claimBond, PRICE]);
  assert.deepEqual(only(fin, 'NodeSlashed'), { jobId, node: c, amount: claimBond });
  assert.equal((await ctx.job(jobId)).state, 'Finalized');
  for (const n of [a, b]) assert.deepEqual([(await ctx.node(n)).locked, (await ctx.node(n)).balance, (await ctx.node(n)).bond], [0n, PRICE, minBond]);
  assert.deepEqual([(await ctx.node(c)).locked, (await ctx.node(c)).balance, (await ctx.node(c)).bond], [0n, 0n, minBond - claimBond]);
  assert.equal(await ctx.read('balanceOf', [poster]), PRICE);
  assert.deepEqual((await ctx.revert(owner, 'finalize', [jobId])).args, [jobId, 3]);
  await expectSolvent(claimBond);

  // pull payments
  for (const who of [a, poster]) {
    const before = await ctx.balance(who);
    const w = await ctx.send(who, 'withdraw');
    assert.deepEqual(only(w, 'Withdrawn'), { account: who, amount: PRICE });
    assert.equal(await ctx.balance(who), before + PRICE - gasCost(w));
    assert.equal(await ctx.read('balanceOf', [who]), 0n);
  }
  assert.equal((await ctx.revert(a, 'withdraw')).errorName, 'NothingToWithdraw');
});

test('started: a claimant announces its worker run until it submits; others are refused', async () => {
  const [, poster, stranger] = ctx.accounts;
  const [a, b, outsider] = await freshNodes(3);
  const { jobId } = await ctx.postJob(poster, { k: 2, n: 3, price: PRICE, label: 'started' });
  await ctx.send(a, 'claim', [jobId]);
  await ctx.send(b, 'claim', [jobId]);
  const run = 'job_1764586800_7';
  assert.deepEqual(only(await ctx.send(a, 'started', [jobId, run]), 'JobRunning'), { jobId, node: a, run });
  // clients find a job's runs by its indexed id
  const logs = await ctx.pub.getContractEvents({ address: ctx.address, abi: ctx.abi, eventName: 'JobRunning',
    args: { jobId }, fromBlock: 0n });
  assert.deepEqual(logs.map((l) => [l.args.node, l.args.run]), [[a, run]]);
  assert.deepEqual((await ctx.revert(outsider, 'started', [jobId, run])).args, [jobId, outsider]); // NotClaimant
  assert.deepEqual((await ctx.revert(stranger, 'started', [jobId, run])).args, [jobId, stranger]); // not even a node
  assert.equal((await ctx.revert(a, 'started', [999n, run])).errorName, 'JobNotFound');
  assert.deepEqual((await ctx.revert(b, 'started', [jobId, ''])).args, [0n]); // InvalidRun
  assert.deepEqual((await ctx.revert(b, 'started', [jobId, 'x'.repeat(129)])).args, [129n]);
  await ctx.send(b, 'started', [jobId, 'x'.repeat(128)]);
  await ctx.submit(a, jobId, 'done');
  assert.equal((await ctx.revert(a, 'started', [jobId, run])).errorName, 'AlreadySubmitted');
  // the job's state is untouched by announcements
  const job = await ctx.job(jobId);
  assert.deepEqual([job.state, job.claims, job.submitted], ['Claimed', [a, b], [true, false]]);
  await ctx.submit(b, jobId, 'done');
  await ctx.send(poster, 'finalize', [jobId]);
  assert.deepEqual((await ctx.revert(b, 'started', [jobId, run])).args, [jobId, 3]); // WrongJobState(Finalized)
});

test('3-of-5: three agree, one dissents, one never submits (released unpaid)', async () => {
  const [owner, poster] = ctx.accounts;
  const nodes = await freshNodes(5);
  const [a, b, c, d, e] = nodes;
  const { jobId } = await ctx.postJob(poster, { k: 3, n: 5, price: PRICE, label: '3-of-5' });
  for (const n of nodes) await ctx.send(n, 'claim', [jobId]);
  await ctx.submit(c, jobId, 'wrong');
  await ctx.submit(a, jobId, 'right');
  await ctx.submit(b, jobId, 'right');
  assert.equal((await ctx.revert(owner, 'finalize', [jobId])).errorName, 'NoConsensus');
  await ctx.submit(d, jobId, 'right');
  const posterBefore = await ctx.read('balanceOf', [poster]);
  const f = only(await ctx.send(owner, 'finalize', [jobId]), 'JobFinalized');
  assert.deepEqual([f.agreeing, f.dissenting, f.paid, f.slashed, f.refunded], [[a, b, d], [c], 3n * PRICE, claimBond, 2n * PRICE]);
  assert.equal(await ctx.read('balanceOf', [poster]), posterBefore + 2n * PRICE);
  const ev = await ctx.node(e);
  assert.deepEqual([ev.locked, ev.bond, ev.balance], [0n, minBond, 0n]);
  const job = await ctx.job(jobId);
  assert.deepEqual(job.submitted, [true, true, true, true, false]);
});

test('5-of-9: claims beyond the fifth live in the second claim word', async () => {
  const [owner, poster] = ctx.accounts;
  const nodes = await freshNodes(9);
  const { jobId } = await ctx.postJob(poster, { k: 5, n: 9, price: PRICE, label: '5-of-9' });
  for (const n of nodes) await ctx.send(n, 'claim', [jobId]);
  assert.equal((await ctx.revert(ctx.accounts[nextNode - 10], 'claim', [jobId])).errorName, 'JobFull');
  assert.equal((await ctx.revert(nodes[7], 'claim', [jobId])).errorName, 'AlreadyClaimed');
  // results from the last claimants first: the later entries carry the agreement
  const labels = ['x', 'x', 'y', 'ok', 'ok', 'ok', 'ok', 'ok', 'y'];
  for (let i = nodes.length - 1; i >= 0; i--) await ctx.submit(nodes[i], jobId, labels[i]);
  const job = await ctx.job(jobId);
  assert.deepEqual(job.claims, nodes);
  assert.deepEqual(job.resultHashes, labels.map(hashOf));
  const f = only(await ctx.send(owner, 'finalize', [jobId]), 'JobFinalized');
  assert.deepEqual(f.agreeing, nodes.slice(3, 8));
  assert.deepEqual(f.dissenting, [nodes[0], nodes[1], nodes[2], nodes[8]]);
  assert.equal(f.refunded, 4n * PRICE);
});

test('refund after the deadline: no k agree; non-submitters slashed, the rest released', async () => {
  const [owner, poster, stranger] = ctx.accounts;
  const [a, b, c] = await freshNodes(3);
  const { jobId, deadline } = await ctx.postJob(poster, { k: 2, n: 3, price: PRICE, ttl: 600n, label: 'refund' });
  for (const n of [a, b, c]) await ctx.send(n, 'claim', [jobId]);
  await ctx.submit(a, jobId, 'one');
  await ctx.submit(b, jobId, 'two');
  assert.deepEqual((await ctx.revert(stranger, 'refund', [jobId])).args, [jobId, deadline]);
  await ctx.elapse(601); // evm_increaseTime
  assert.equal((await ctx.revert(c, 'submitResult', [jobId, hashOf('one'), CID, signatureOf('late')])).errorName, 'DeadlinePassed');
  const posterBefore = await ctx.read('balanceOf', [poster]);
  const r = await ctx.send(stranger, 'refund', [jobId]);
  assert.deepEqual(only(r, 'JobRefunded'), { jobId, poster, refunded: 3n * PRICE, slashed: claimBond });
  assert.deepEqual(only(r, 'NodeSlashed'), { jobId, node: c, amount: claimBond });
  assert.equal((await ctx.job(jobId)).state, 'Refunded');
  assert.equal(await ctx.read('balanceOf', [poster]), posterBefore + 3n * PRICE);
  for (const n of [a, b]) assert.deepEqual([(await ctx.node(n)).locked, (await ctx.node(n)).bond], [0n, minBond]);
  assert.deepEqual([(await ctx.node(c)).locked, (await ctx.node(c)).bond], [0n, minBond - claimBond]);
  assert.equal((await ctx.revert(owner, 'refund', [jobId])).errorName, 'WrongJobState');

  // a job nobody claimed: the whole escrow back, nobody slashed
  const unclaimed = await ctx.postJob(poster, { k: 1, n: 1, price: PRICE, ttl: 60n, label: 'unclaimed' });
  await ctx.elapse(61);
  assert.deepEqual(only(await ctx.send(owner, 'refund', [unclaimed.jobId]), 'JobRefunded').slashed, 0n);
});

test('cancel before any claim: escrow credited to the poster, the job takes no claims', async () => {
  const [, poster] = ctx.accounts;
  const [a] = await freshNodes(1);
  const { jobId } = await ctx.postJob(poster, { k: 2, n: 3, price: PRICE, label: 'cancel' });
  const before = await ctx.read('balanceOf', [poster]);
  assert.deepEqual(only(await ctx.send(poster, 'cancel', [jobId]), 'JobCancelled'), { jobId, poster, refunded: 3n * PRICE });
  assert.equal(await ctx.read('balanceOf', [poster]), before + 3n * PRICE);
  assert.equal((await ctx.job(jobId)).state, 'Cancelled');
  assert.deepEqual((await ctx.revert(a, 'claim', [jobId])).args, [jobId, 5]);
});

test('a node with claims may unregister; its bond stays locked until they settle', async () => {
  const [owner, poster] = ctx.accounts;
  const [a] = await freshNodes(1);
  const { jobId } = await ctx.postJob(poster, { k: 1, n: 1, price: PRICE, ttl: 3600n, label: 'unbond' });
  await ctx.send(a, 'claim', [jobId]);
  await ctx.send(a, 'unregisterNode');
  assert.equal((await ctx.revert(a, 'claim', [jobId])).errorName, 'NodeIsUnbonding');
  await ctx.submit(a, jobId, 'done'); // a claimed job still takes its result
  await ctx.elapse(61);
  assert.deepEqual((await ctx.revert(a, 'withdrawBond')).args, [1n]); // BondLocked(1 claim)
  await ctx.send(owner, 'finalize', [jobId]);
  assert.equal(only(await ctx.send(a, 'withdrawBond'), 'BondWithdrawn').amount, minBond);
  assert.equal(await ctx.read('balanceOf', [a]), PRICE); // earnings outlive the registration
});

test('views: constants, counters and settings', async () => {
  assert.equal(await ctx.read('minBond'), minBond);
  assert.equal(await ctx.read('claimBond'), claimBond);
  assert.equal(await ctx.read('unbondingDelay'), 60);
  assert.equal(await ctx.read('MAX_NODES'), 16n);
  assert.ok((await ctx.read('jobCount')) >= 6n);
  assert.equal(await ctx.read('nodeCount'), nextNode - 3 + 1); // + the registry test's second registration
  assert.equal((await ctx.node(ctx.accounts[2])).registered, false);
});
