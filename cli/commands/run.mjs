// sandrun run <dir|file>: package → upload → live logs → status → verification → downloads.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { connect, waitOptions } from '../client.mjs';
import { consensusLines, resultLine, verificationLines } from '../describe.mjs';
import { CliError, EXIT, jobExitCode } from '../exit-codes.mjs';
import { TIMEOUT_OPTION } from '../options.mjs';
import { downloadOutputs } from '../outputs.mjs';
import { formatBytes } from '../terminal.mjs';
import { onInterrupt } from '../interrupt.mjs';
import { buildJob, DEFAULT_ENTRYPOINTS } from '../job-input.mjs';
import { checkPayFlags, PAY_OPTIONS, runPaid } from './run-paid.mjs';

/**
 * Prints the job's log as it arrives, until it ends or `signal` aborts (a worker that cannot
 * cancel keeps streaming; Ctrl-C must not wait for it). Says whether the last chunk ended a line.
 */
async function followLogs(t, exec, signal) {
  const logs = exec.logs();
  const aborted = new Promise((resolve) => signal.addEventListener('abort', () => resolve({ done: true }), { once: true }));
  let endsWithNewline = true;
  for (;;) {
    const next = await Promise.race([logs.next(), aborted]);
    if (next.done) break;
    t.logText(next.value);
    endsWithNewline = next.value.endsWith('\n');
  }
  if (signal.aborted) await logs.return();
  return endsWithNewline;
}

export default {
  name: 'run',
  summary: 'run a folder or file as a job: logs, verification, outputs',
  args: '<dir|file>',
  positionals: [1, 1],
  jobArgs: true,
  description: [
    'Runs a folder (every file under it, packaged deterministically) or a single file as a job:',
    'uploads it, streams its logs live, waits for the result, verifies it (job hash, the worker\'s',
    'Ed25519 signature, each output\'s sha256) and, with --out, downloads the outputs (paths kept).',
    'The job\'s output goes to stdout, the CLI\'s messages to stderr. Exits with the job\'s exit code,',
    'or with an SDK failure code (see `sandrun help exit-codes`). Ctrl-C cancels the job.',
    'Everything after --args (or --) is passed to the job as its arguments.',
    '',
    'With --pay AMOUNT the job goes to the Sandrun market instead: its inputs are put on IPFS, the',
    'payment into the market\'s escrow, nodes claim and run it, the SDK verifies every signed result',
    'and settles k-of-n (the agreeing nodes paid, the dissenting slashed). Each stage is printed as',
    'it happens; the outputs come from IPFS, checked against the agreed sha256s. The paying key comes',
    'from $SANDRUN_PRIVATE_KEY (or the variable --key-env names) or, for a local stack, its file.',
  ].join('\n'),
  options: {
    entrypoint: { type: 'string', value: 'FILE', help: `the file to run (default for a folder: the first of ${DEFAULT_ENTRYPOINTS.join(', ')})` },
    interpreter: { type: 'string', value: 'NAME', help: 'python3, node, bash… (default: from the entrypoint\'s extension)' },
    outputs: { type: 'string', value: 'GLOB', multiple: true, help: 'which files are results (repeat or comma-separate): out/*, *.csv…' },
    out: { type: 'string', value: 'DIR', help: 'download the outputs into DIR, keeping their paths' },
    consensus: { type: 'string', value: 'K-of-N', help: 'run on N workers of --workers and accept what K agree on' },
    workers: { type: 'string', value: 'URLS', help: 'comma-separated worker URLs for --consensus (default: $SANDRUN_WORKERS)' },
    'no-verify': { type: 'boolean', help: 'do not verify the result (the exit code is then the job\'s alone)' },
    ...PAY_OPTIONS,
    ...TIMEOUT_OPTION,
  },
  examples: [
    'sandrun run ./job --out results                 # a folder; outputs land in results/',
    'sandrun run train.py --outputs "out/*" --args --epochs 3',
    'sandrun run ./job --json > result.json          # one JSON object; logs on stderr',
    'sandrun run ./job --consensus 2-of-3 --workers http://a:8443,http://b:8443,http://c:8443',
    'SANDRUN_ENDPOINT=https://worker.example sandrun run script.sh --interpreter bash',
    'sandrun run ./job --pay "0.03 ether" --consensus 2-of-3 --stack .sandrun/stack.json --out results',
    'sandrun run ./job --pay "0.01 ether" --rpc URL --market 0x… --ipfs URL --estimate   # key: $SANDRUN_PRIVATE_KEY',
  ],
  async handler({ t, values, positionals, jobArgs, settings, report }) {
    const input = path.resolve(positionals[0]);
    if (!existsSync(input)) throw new CliError(`${positionals[0]}: no such file or folder`, EXIT.NO_INPUT, 'NO_INPUT');
    checkPayFlags(values, settings);
    if (values.pay !== undefined) return runPaid({ t, values, input, jobArgs, settings, report });
    const consensus = values.consensus;
    if (consensus && settings.workers.length === 0) {
      throw new CliError('--consensus needs workers: --workers URL,URL,… (or $SANDRUN_WORKERS, or "workers" in the config file)', EXIT.USAGE, 'USAGE');
    }

    // Ctrl-C before the job exists aborts the upload; after, it cancels the job on the worker
    // (which makes wait() reject with a CancelledError) and stops following its logs. The job's
    // own signal must not be aborted then: it would abort the cancel request too.
    const stopUpload = new AbortController();
    const stopFollowing = new AbortController();
    let exec;
    let cancelling;
    let interrupted = false;
    const interrupt = onInterrupt(() => {
      interrupted = true;
      if (exec) {
        t.note(t.style('yellow', `\nCtrl-C: cancelling job ${exec.id}…`));
        cancelling = exec.cancel().catch((e) => ({ stoppedOnServer: false, message: e.message }));
        stopFollowing.abort();
      } else {
        t.note(t.style('yellow', '\nCtrl-C: stopping the upload…'));
        stopUpload.abort();
      }
    });
    try {
      const sandrun = await connect({ ...settings, endpoint: consensus && settings.sources.endpoint === 'default' ? settings.workers[0] : settings.endpoint });
      let job = buildJob(sandrun.job().signal(stopUpload.signal), input, values, jobArgs);
      let pool;
      if (consensus) {
        pool = await sandrun.pool().workers(settings.workers).join();
        job = job.consensus(consensus).with(pool);
      }

      const where = consensus ? `${settings.workers.length} workers` : settings.endpoint;
      const upload = t.progress(`${t.style('bold', 'upload')}    `);
      let sent = 0;
      exec = await job.submit({ onProgress: ({ loaded, total }) => { sent = total; upload.update(loaded, total); } });
      // A consensus submit sends the same package to each worker and reports no byte progress.
      upload.end(`${t.style('bold', 'upload')}     ${sent ? `${formatBytes(sent)} ` : ''}to ${where}`);
      Object.assign(report, { id: exec.id, endpoint: consensus ? undefined : settings.endpoint, jobHash: exec.jobHash });
      t.note(`${t.style('bold', 'job')}        ${exec.id} (job hash ${exec.jobHash}, computed before sending)`);

      t.note(t.style('dim', '─── logs ───'));
      const endsWithNewline = await followLogs(t, exec, stopFollowing.signal);
      if (!endsWithNewline) t.logText('\n');
      t.note(t.style('dim', '────────────'));

      const result = await exec.wait(waitOptions(settings));
      // The worker may end the job as `cancelled` (wait() resolves) or wait() may reject.
      if (interrupted) throw new CliError('cancelled', EXIT.CANCELLED, 'CANCELLED');
      Object.assign(report, { id: result.id, status: result.status, exitCode: result.exitCode, cpuSeconds: result.cpuSeconds, memoryMb: result.memoryMb, workerId: result.workerId, outputs: result.outputs });
      t.note(resultLine(t, result));

      let verified = false;
      if (result.consensus) {
        verified = result.consensus.reached;
        report.verification = result.consensus;
        for (const line of consensusLines(t, result.consensus)) t.note(line);
      } else if (!values['no-verify']) {
        // The signature first, so that nothing from a forged result is written; after the
        // downloads once more, so that the report says each output's bytes were checked.
        let verification = await exec.verify();
        if (verification.ok && values.out) {
          report.downloaded = await downloadOutputs(t, exec, result.outputs, values.out);
          verification = await exec.verify();
        }
        verified = verification.ok;
        report.verification = verification;
        for (const line of verificationLines(t, verification)) t.note(line);
      }
      report.verified = verified;
      if (!verified && !values['no-verify']) {
        throw new CliError('the result failed verification: its outputs are not downloaded', EXIT.VERIFICATION, 'VERIFICATION');
      }
      if (values.out && !report.downloaded) {
        report.downloaded = await downloadOutputs(t, exec, result.outputs, values.out);
      } else if (!values.out && Object.keys(result.outputs).length) {
        t.note(`${t.style('bold', 'outputs')}    ${Object.keys(result.outputs).length} file(s) on the worker; fetch them with --out DIR or \`sandrun download ${result.id} --out DIR\``);
      }
      pool?.close();
      return jobExitCode(result);
    } catch (e) {
      if (interrupted) {
        const stopped = await cancelling;
        report.status = 'cancelled';
        t.note(t.style('yellow', exec
          ? `cancelled job ${exec.id}: ${stopped?.stoppedOnServer ? 'the worker stopped it' : `the worker could not stop it (${stopped?.message ?? 'no answer'}); no longer watching`}`
          : 'cancelled before the job was submitted'));
        throw new CliError('cancelled (Ctrl-C)', EXIT.CANCELLED, 'CANCELLED');
      }
      if (e.code === 'CONSENSUS' && e.report) {
        Object.assign(report, { verified: false, verification: e.report });
        for (const line of consensusLines(t, e.report)) t.note(line);
      }
      throw e;
    } finally {
      interrupt.dispose();
    }
  },
};
