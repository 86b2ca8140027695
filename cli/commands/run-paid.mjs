// sandrun run <dir|file> --pay AMOUNT: a paid job on the Sandrun market through the SDK —
// package → IPFS → escrow → claims → nodes run it → each result verified → k-of-n → settled —
// printed stage by stage, then the consensus, the settlement and the outputs (from IPFS,
// checked against the agreed sha256s).
import { CliError, EXIT, jobExitCode } from '../exit-codes.mjs';
import { estimateLines, marketConsensusLines, settlementLines, stageLine } from '../describe-market.mjs';
import { onInterrupt } from '../interrupt.mjs';
import { buildJob } from '../job-input.mjs';
import { amount, connectMarket, marketTarget } from '../market.mjs';
import { downloadOutputs } from '../outputs.mjs';

/** `run`'s flags for paid jobs (--consensus and --out are `run`'s own). */
export const PAY_OPTIONS = {
  pay: { type: 'string', value: 'AMOUNT', help: 'pay for the job on the market: "0.03 ether", "30 gwei" or wei (see above)' },
  'max-price': { type: 'string', value: 'AMOUNT', help: 'with --pay: the most a node may ask (per node)' },
  deadline: { type: 'string', value: 'SECONDS', help: 'with --pay: the job must be settled within this (else it is refunded)' },
  estimate: { type: 'boolean', help: 'with --pay: print the nodes that qualify, the cost and the caps\' verdict; send nothing' },
  stack: { type: 'string', value: 'FILE', help: 'with --pay: the market of a local stack (its stack.json; `sandrun dev`)' },
  rpc: { type: 'string', value: 'URL', help: 'with --pay: the chain\'s JSON-RPC URL (default: $SANDRUN_RPC, the stack)' },
  market: { type: 'string', value: 'ADDRESS', help: 'with --pay: the SandrunMarket contract (default: $SANDRUN_MARKET, the stack)' },
  ipfs: { type: 'string', value: 'URL', help: 'with --pay: the IPFS (Kubo RPC) API (default: $SANDRUN_IPFS, the stack)' },
  'key-env': { type: 'string', value: 'VAR', help: 'with --pay: the environment variable holding the paying private key (default SANDRUN_PRIVATE_KEY)' },
};
const PAY_ONLY = ['max-price', 'deadline', 'estimate', 'stack', 'rpc', 'market', 'ipfs', 'key-env'];

/** How long the logs may take once the job is settled (the node's worker may be unreachable). */
const LOGS_AFTER_SETTLED_MS = 10_000;

/** The first node's run (`exec.logs()`), read to its end; the text and, if it broke, why. */
async function readLogs(exec) {
  let text = '';
  try {
    for await (const chunk of exec.logs()) text += chunk;
    return { text };
  } catch (error) {
    return { text, error };
  }
}

/** The logs between the stages and the consensus, as the unpaid `run` frames them. */
async function printLogs(t, reading) {
  const late = new Promise((resolve) => setTimeout(resolve, LOGS_AFTER_SETTLED_MS, { text: '', error: new Error('no answer from the node\'s worker') }).unref());
  const { text, error } = await Promise.race([reading, late]);
  t.note(t.style('dim', '─── logs ───'));
  if (text) t.logText(text.endsWith('\n') ? text : `${text}\n`);
  if (error) t.note(t.style('dim', `(the nodes' logs: ${error.message})`));
  t.note(t.style('dim', '────────────'));
}

/** The --deadline flag as the SDK's seconds. */
function deadlineSeconds(value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new CliError(`--deadline: a whole number of seconds, got ${JSON.stringify(value)}`, EXIT.USAGE, 'USAGE');
  return n;
}

/** Checks the flags that do not go with --pay (or need it): before anything is contacted. */
export function checkPayFlags(values, settings) {
  if (values.pay === undefined) {
    const stray = PAY_ONLY.filter((k) => values[k] !== undefined);
    if (stray.length) throw new CliError(`--${stray[0]} goes with --pay AMOUNT`, EXIT.USAGE, 'USAGE');
    return;
  }
  if (settings.sources.workers?.startsWith('--')) {
    throw new CliError('--workers does not go with --pay: a paid job\'s nodes are found on chain (use --consensus K-of-N alone)', EXIT.USAGE, 'USAGE');
  }
  if (values['no-verify']) throw new CliError('--no-verify does not go with --pay: a paid job is settled on what the SDK verified', EXIT.USAGE, 'USAGE');
}

export async function runPaid({ t, values, input, jobArgs, settings, report }) {
  const target = marketTarget(settings);
  const sandrun = await connectMarket(target, settings);
  let job = buildJob(sandrun.job(), input, values, jobArgs).payment(amount(values.pay));
  if (values.consensus) job = job.consensus(values.consensus);
  if (values['max-price'] !== undefined) job = job.maxPrice(amount(values['max-price']));
  if (values.deadline !== undefined) job = job.deadline(deadlineSeconds(values.deadline));
  t.note(`${t.style('bold', 'market')}     ${target.market} on ${target.rpcUrl}, IPFS ${target.ipfsApi}; paying with the key from ${target.keyFrom}`);

  if (values.estimate) {
    const est = await job.estimate();
    report.estimate = est;
    for (const line of estimateLines(t, est)) t.note(line);
    // Not allowed (too few nodes, a spend cap): refused before sending, as a submit would be.
    return est.allowed ? EXIT.OK : EXIT.VALIDATION;
  }

  // Every stage is printed as it happens: onStage hears packaging, uploading and escrow while
  // submit() is still running (it resolves once the payment is in escrow), then the rest.
  const t0 = Date.now();
  const stages = [];
  report.stages = stages;
  const onStage = (e) => {
    stages.push(e);
    // Byte counts of the upload: only the last one (with the CID) is worth a line.
    if (e.stage === 'uploading' && !e.cid) return;
    t.note(stageLine(t, e, t0));
  };
  let exec;
  let interrupted = false;
  const interrupt = onInterrupt(() => {
    interrupted = true;
    // A paid job is the chain's, not this process's: it goes on (or is refunded after its
    // deadline) without us. Say how to come back to it.
    t.note(t.style('yellow', `\nCtrl-C: no longer watching${exec ? ` ${exec.id}; it stays in escrow and settles (or is refunded after its deadline) without this process` : '; the job may already be in escrow'}`));
    process.exit(EXIT.CANCELLED);
  });
  try {
    exec = await job.submit({ onStage });
    report.id = exec.id;
    // Read beside the stages (a live log would interleave with their lines), printed after.
    const logs = t.json ? null : readLogs(exec);
    let result;
    try {
      result = await exec.wait();
    } catch (e) {
      // Refunded or not verifiable: the consensus and the settlement say why.
      if (logs) await printLogs(t, logs);
      if (e.report) Object.assign(report, { verified: false, consensus: e.report });
      if (e.settlement) report.settlement = e.settlement;
      if (e.report) for (const line of marketConsensusLines(t, e.report)) t.note(line);
      if (e.settlement) for (const line of settlementLines(t, e.settlement)) t.note(line);
      throw e;
    }
    if (logs) await printLogs(t, logs);
    Object.assign(report, {
      id: result.id, status: result.status, exitCode: result.exitCode, verified: Boolean(result.consensus?.reached),
      consensus: result.consensus, settlement: result.settlement, market: result.market, outputs: result.outputs,
    });
    for (const line of marketConsensusLines(t, result.consensus)) t.note(line);
    for (const line of settlementLines(t, result.settlement)) t.note(line);
    if (values.out) {
      report.downloaded = await downloadOutputs(t, exec, result.outputs, values.out);
    } else if (Object.keys(result.outputs ?? {}).length) {
      t.note(`${t.style('bold', 'outputs')}    ${Object.keys(result.outputs).length} file(s) on IPFS (${result.market?.outputCid}); fetch them with --out DIR`);
    }
    t.note(`${t.style('bold', 'time')}       ${((Date.now() - t0) / 1000).toFixed(1)} s from submit to settled`);
    return jobExitCode(result);
  } finally {
    interrupt.dispose();
    if (interrupted) report.status = 'detached';
  }
}
