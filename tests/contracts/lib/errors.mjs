// Makes the market revert with every one of its custom errors, on a real anvil, and returns the
// revert data with the arguments each must carry. Used by tests/contracts/errors.test.mjs and by
// crates/sandrun-chain/tests/vectors/generate.mjs (the Rust crate's revert-decoding vectors).
import { setupMarket, deploy, loadArtifact, revertData, market, hashOf, signatureOf, CID, viem } from './market.mjs';
import { rpc } from './anvil.mjs';

const { parseEther, encodeDeployData, encodeFunctionData, getAddress, zeroHash, toHex } = viem;

/** claimBond = minBond / 2: a node registered with the minimum holds two claims at once. */
export const ERROR_SETTINGS = { minBond: parseEther('0.1'), claimBond: parseEther('0.05'), unbondingDelay: 60 };

/**
 * Resolves to [{ name, args, data }] (one per custom error, in ABI order) where `args` are the
 * arguments the contract must have reverted with (as viem decodes them) and `data` the revert
 * data as the chain returned it.
 */
export async function triggerEveryError() {
  const ctx = await setupMarket(ERROR_SETTINGS);
  try {
    return await trigger(ctx);
  } finally {
    await ctx.stop();
  }
}

async function trigger(ctx) {
  const [owner, poster, a, b, c, d, e, stranger, rich] = ctx.accounts;
  const { minBond, claimBond } = ERROR_SETTINGS;
  const found = [];
  const expect = async (name, args, dataPromise) => {
    const data = await dataPromise;
    found.push({ name, args, data });
  };
  const call = (from, fn, args, value) => revertData(ctx.url, { from, to: ctx.address, data: ctx.data(fn, args), value });
  const key = hashOf('worker key');

  await ctx.registerNodes([a, b, c, d, e], minBond);
  const running = await ctx.postJob(poster, { k: 2, n: 3 });
  const id = running.jobId;

  // --- registry -------------------------------------------------------------------------------
  await expect('InvalidSettings', [], revertData(ctx.url, {
    from: owner, data: encodeDeployData({ abi: market.abi, bytecode: market.bytecode, args: [minBond, 0n, 60] }),
  }));
  await expect('AlreadyRegistered', [a], call(a, 'registerNode', [key, '', 0n], minBond));
  await expect('NotRegistered', [stranger], call(stranger, 'unregisterNode', []));
  await expect('InvalidWorkerKey', [], call(stranger, 'registerNode', [zeroHash, '', 0n], minBond));
  await expect('EndpointTooLong', [257n, 256n], call(stranger, 'registerNode', [key, 'x'.repeat(257), 0n], minBond));
  await expect('BondTooLow', [minBond - 1n, minBond], call(stranger, 'registerNode', [key, '', 0n], minBond - 1n));
  await rpc(ctx.url, 'anvil_setBalance', [rich, toHex(2n ** 90n)]);
  await expect('AmountTooLarge', [2n ** 80n, 2n ** 80n - 1n], call(rich, 'registerNode', [key, '', 0n], 2n ** 80n));
  const unbonding = await ctx.send(e, 'unregisterNode');
  const readyAt = BigInt(unbonding.events[0].args.readyAt);
  await expect('NodeIsUnbonding', [e, readyAt], call(e, 'claim', [id]));
  await expect('NotUnbonding', [a], call(a, 'withdrawBond', []));
  // eth_call on `latest` runs with the latest block's timestamp
  await expect('UnbondingNotElapsed', [readyAt, await ctx.now()], call(e, 'withdrawBond', []));

  // --- jobs ------------------------------------------------------------------------------------
  const deadline = (await ctx.now()) + 3600n;
  const post = (over = {}) => {
    const p = { jobHash: hashOf('j'), cid: CID, k: 2, n: 3, price: parseEther('0.01'), deadline, ...over };
    return call(poster, 'postJob', [p.jobHash, p.cid, p.k, p.n, p.price, p.deadline], over.value ?? p.price * BigInt(p.n));
  };
  await expect('InvalidJobHash', [], post({ jobHash: zeroHash }));
  await expect('InvalidCid', [0n], post({ cid: '' }));
  await expect('InvalidQuorum', [1n, 2n], post({ k: 1, n: 2 }));
  await expect('InvalidPrice', [], post({ price: 0n }));
  await expect('InvalidDeadline', [1n, await ctx.now()], post({ deadline: 1n }));
  await expect('WrongPayment', [parseEther('0.03') - 1n, parseEther('0.03')], post({ value: parseEther('0.03') - 1n }));
  await expect('JobNotFound', [999n], call(a, 'claim', [999n]));

  await ctx.send(a, 'claim', [id]);
  await expect('WrongJobState', [id, 2], call(poster, 'cancel', [id]));
  await expect('AlreadyClaimed', [id, a], call(a, 'claim', [id]));
  const single = await ctx.postJob(poster, { k: 1, n: 1, label: 'single' });
  await ctx.send(b, 'claim', [single.jobId]);
  await expect('JobFull', [single.jobId, 1n], call(c, 'claim', [single.jobId]));
  // b now holds two claims (id, single): its 0.1 ether bond locks 2 x 0.05
  await ctx.send(b, 'claim', [id]);
  const third = await ctx.postJob(poster, { k: 1, n: 1, label: 'third' });
  await expect('InsufficientBond', [0n, claimBond], call(b, 'claim', [third.jobId]));
  await expect('NotClaimant', [id, c], call(c, 'submitResult', [id, hashOf('r'), CID, signatureOf('c')]));
  await ctx.submit(a, id, 'r');
  await expect('AlreadySubmitted', [id, a], call(a, 'submitResult', [id, hashOf('r'), CID, signatureOf('a')]));
  await expect('InvalidRun', [129n], call(b, 'started', [id, 'j'.repeat(129)]));
  await expect('InvalidSignatureLength', [63n], call(b, 'submitResult', [id, hashOf('r'), CID, `0x${'11'.repeat(63)}`]));
  await expect('NoConsensus', [id, 1n, 2n], call(owner, 'finalize', [id]));
  await expect('DeadlineNotPassed', [id, running.deadline], call(owner, 'refund', [id]));
  await ctx.submit(b, id, 'r'); // two agree: consensus
  await expect('NotPoster', [third.jobId, stranger], call(stranger, 'cancel', [third.jobId]));
  await expect('NothingToWithdraw', [stranger], call(stranger, 'withdraw', []));

  // b's claims (on `id`, not finalized, and on `single`) still lock its bond after the delay
  await ctx.send(b, 'unregisterNode');
  await ctx.elapse(3601);
  await expect('BondLocked', [2n], call(b, 'withdrawBond', []));
  await expect('DeadlinePassed', [third.jobId, third.deadline], call(c, 'claim', [third.jobId]));
  await expect('ConsensusReached', [id], call(owner, 'refund', [id]));

  // --- ether transfers to a contract that refuses or re-enters -------------------------------
  const receiverArtifact = loadArtifact('MaliciousReceiver');
  const { address: receiver } = await deploy(ctx, owner, receiverArtifact, [ctx.address]);
  const rcall = (fn, args = []) => encodeFunctionData({ abi: receiverArtifact.abi, functionName: fn, args });
  const sendTo = async (fn, args = [], value = 0n) => {
    const hash = await ctx.wallet.sendTransaction({ account: owner, to: receiver, data: rcall(fn, args), value, chain: ctx.pub.chain });
    const r = await ctx.pub.waitForTransactionReceipt({ hash });
    if (r.status !== 'success') throw new Error(`receiver ${fn} reverted`);
  };
  const price = parseEther('0.01');
  await sendTo('post', [hashOf('receiver job'), price, (await ctx.now()) + 3600n], price);
  const receiverJob = await ctx.read('jobCount');
  await sendTo('cancel', [receiverJob]);
  await sendTo('setMode', [1]); // RefuseEther
  await expect('TransferFailed', [getAddress(receiver), price], revertData(ctx.url, { from: owner, to: receiver, data: rcall('withdraw') }));
  await sendTo('setMode', [0]); // Reenter
  await sendTo('withdraw');
  const reentryError = await ctx.pub.readContract({ address: receiver, abi: receiverArtifact.abi, functionName: 'withdrawError' });
  await expect('Reentrancy', [], reentryError);

  const order = market.abi.filter((x) => x.type === 'error').map((x) => x.name);
  found.sort((x, y) => order.indexOf(x.name) - order.indexOf(y.name));
  return found;
}

const STANDARD_ERRORS = [
  { type: 'error', name: 'Error', inputs: [{ name: 'message', type: 'string' }] },
  { type: 'error', name: 'Panic', inputs: [{ name: 'code', type: 'uint256' }] },
];

/** Revert data → { name, args: [{ name, type, value }], display: 'Name(v, …)' }, with values
 * written as crates/sandrun-chain writes them: integers in decimal, addresses checksummed,
 * bytes in lower-case hex, strings as they are. */
export function describeError(data) {
  const abi = [...market.abi, ...STANDARD_ERRORS];
  const { errorName, args = [] } = viem.decodeErrorResult({ abi, data });
  const item = abi.find((x) => x.type === 'error' && x.name === errorName);
  const described = item.inputs.map((input, i) => ({ name: input.name, type: input.type, value: String(args[i]) }));
  return { name: errorName, args: described, display: `${errorName}(${described.map((a) => a.value).join(', ')})` };
}
