// Gas of every market function on a real anvil, and of one whole 2-of-3 lifecycle (post, 3
// claims, 3 results with one dissenter, finalize). Shared by scripts/gas-report.mjs (prints it)
// and tests/contracts/gas.test.mjs (checks the lifecycle budget).
import { setupMarket, hashOf, viem } from './market.mjs';

const { parseEther } = viem;

/** The budget for the 2-of-3 lifecycle. */
export const LIFECYCLE_BUDGET = 450_000n;

/** Resolves to { rows: [{ fn, note, gas }], lifecycle: { steps: [{ fn, gas }], total } }. */
export async function measureGas() {
  const ctx = await setupMarket();
  try {
    const [owner, poster, a, b, c, d] = ctx.accounts;
    const rows = [];
    const row = (fn, note, receipt) => {
      rows.push({ fn, note, gas: receipt.gasUsed });
      return receipt;
    };
    row('deploy', 'constructor', ctx.deployReceipt);
    const regs = await ctx.registerNodes([a, b, c, d]);
    row('registerNode', 'first node (creates nodeCount)', regs[0]);
    row('registerNode', 'later node', regs[1]);
    row('updateNode', 'new key, endpoint and price, +0.05 ether bond', await ctx.send(
      d, 'updateNode', [hashOf('new key'), 'http://127.0.0.1:9100', parseEther('0.002')], parseEther('0.05')));

    const steps = [];
    const step = (fn, note, receipt) => {
      steps.push({ fn, note, gas: receipt.gasUsed });
      return row(fn, note, receipt);
    };
    const { jobId, receipt } = await ctx.postJob(poster, { k: 2, n: 3 });
    step('postJob', '2-of-3, 59-char CIDv1', receipt);
    step('claim', '1st of 3', await ctx.send(a, 'claim', [jobId]));
    step('claim', '2nd of 3', await ctx.send(b, 'claim', [jobId]));
    step('claim', '3rd of 3', await ctx.send(c, 'claim', [jobId]));
    row('started', 'a claimant announces its 16-byte worker job id', await ctx.send(a, 'started', [jobId, 'job_1764586800_1']));
    step('submitResult', '1st (new result hash)', await ctx.submit(a, jobId, 'good'));
    step('submitResult', '2nd (agrees: k reached)', await ctx.submit(b, jobId, 'good'));
    step('submitResult', '3rd (dissents: new hash)', await ctx.submit(c, jobId, 'bad'));
    step('finalize', '2 paid, 1 slashed, 1 share refunded', await ctx.send(owner, 'finalize', [jobId]));

    row('withdraw', 'node earnings', await ctx.send(a, 'withdraw'));
    row('withdraw', 'poster refund', await ctx.send(poster, 'withdraw'));
    const cancelled = await ctx.postJob(poster, { k: 1, n: 1, label: 'cancelled' });
    row('cancel', 'before any claim', await ctx.send(poster, 'cancel', [cancelled.jobId]));
    const late = await ctx.postJob(poster, { k: 2, n: 3, ttl: 60n, label: 'late' });
    await ctx.send(a, 'claim', [late.jobId]);
    await ctx.send(b, 'claim', [late.jobId]);
    await ctx.submit(a, late.jobId, 'late');
    await ctx.elapse(61);
    row('refund', 'after the deadline, 2 claims, 1 non-submitter slashed', await ctx.send(owner, 'refund', [late.jobId]));
    row('unregisterNode', 'starts unbonding', await ctx.send(d, 'unregisterNode'));
    await ctx.elapse(61);
    row('withdrawBond', 'after the delay', await ctx.send(d, 'withdrawBond'));

    const total = steps.reduce((sum, s) => sum + s.gas, 0n);
    return { rows, lifecycle: { steps, total } };
  } finally {
    await ctx.stop();
  }
}
