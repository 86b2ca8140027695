// A malicious receiver (contracts/test/MaliciousReceiver.sol) re-enters withdraw() and
// withdrawBond() from its receive(): it must get its money exactly once, and an account that
// refuses ether keeps its credit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setupMarket, deploy, loadArtifact, hashOf, viem } from './lib/market.mjs';

const { parseEther, encodeFunctionData, toFunctionSelector } = viem;
const REENTRANCY = toFunctionSelector('Reentrancy()');
const receiverArtifact = loadArtifact('MaliciousReceiver');
let ctx, receiver, owner;

const callReceiver = async (fn, args = [], value = 0n) => {
  const data = encodeFunctionData({ abi: receiverArtifact.abi, functionName: fn, args });
  const hash = await ctx.wallet.sendTransaction({ account: owner, to: receiver, data, value, chain: ctx.pub.chain });
  return ctx.pub.waitForTransactionReceipt({ hash });
};
const readReceiver = (fn) => ctx.pub.readContract({ address: receiver, abi: receiverArtifact.abi, functionName: fn });

before(async () => {
  ctx = await setupMarket();
  owner = ctx.accounts[0];
  ({ address: receiver } = await deploy(ctx, owner, receiverArtifact, [ctx.address]));
});
after(() => ctx?.stop());

test('withdraw: re-entry from receive() is refused; paid once', async () => {
  const price = parseEther('0.01');
  assert.equal((await callReceiver('post', [hashOf('r1'), price, (await ctx.now()) + 3600n], price)).status, 'success');
  assert.equal((await callReceiver('cancel', [await ctx.read('jobCount')])).status, 'success');
  assert.equal(await ctx.read('balanceOf', [receiver]), price);
  const marketBefore = await ctx.balance(ctx.address);

  assert.equal((await callReceiver('withdraw')).status, 'success');
  assert.equal(await readReceiver('received'), price);
  assert.equal(await readReceiver('reentries'), 1n);
  assert.equal(await readReceiver('reentrySuccesses'), 0n);
  assert.equal(await readReceiver('withdrawError'), REENTRANCY);
  assert.equal(await readReceiver('withdrawBondError'), REENTRANCY);
  assert.equal(await ctx.balance(ctx.address), marketBefore - price);
  assert.equal(await ctx.read('balanceOf', [receiver]), 0n);
});

test('withdrawBond: re-entry from receive() is refused; the bond is paid once', async () => {
  const bond = parseEther('0.1');
  await callReceiver('register', [hashOf('receiver key')], bond);
  await callReceiver('unregister');
  await ctx.elapse(61);
  const marketBefore = await ctx.balance(ctx.address);
  const receivedBefore = await readReceiver('received');
  assert.equal((await callReceiver('withdrawBond')).status, 'success');
  assert.equal((await readReceiver('received')) - receivedBefore, bond);
  assert.equal(await readReceiver('reentrySuccesses'), 0n);
  assert.equal(await readReceiver('withdrawError'), REENTRANCY);
  assert.equal(await readReceiver('withdrawBondError'), REENTRANCY);
  assert.equal(await ctx.balance(ctx.address), marketBefore - bond);
  assert.equal((await ctx.node(receiver)).registered, false);
});

test('a receiver that refuses ether keeps its credit (TransferFailed, nothing lost)', async () => {
  const price = parseEther('0.02');
  await callReceiver('post', [hashOf('r2'), price, (await ctx.now()) + 3600n], price);
  await callReceiver('cancel', [await ctx.read('jobCount')]);
  await callReceiver('setMode', [1]);
  const marketBefore = await ctx.balance(ctx.address);
  const receipt = await callReceiver('withdraw').catch((e) => e);
  assert.ok(receipt instanceof Error || receipt.status === 'reverted');
  assert.equal(await ctx.read('balanceOf', [receiver]), price);
  assert.equal(await ctx.balance(ctx.address), marketBefore);
});
