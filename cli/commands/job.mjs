// The commands that act on a job already submitted, by its id: status, logs, wait, verify,
// download, cancel. The id is the worker's (`job_…`); --endpoint says which worker.
import { connect, waitOptions } from '../client.mjs';
import { resultLine, verificationLines } from '../describe.mjs';
import { EXIT, jobExitCode } from '../exit-codes.mjs';
import { TIMEOUT_OPTION } from '../options.mjs';
import { downloadOutputs } from '../outputs.mjs';
import { formatBytes } from '../terminal.mjs';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** A command on one job: `act(exec, ctx)` does the work and returns the exit code. */
function jobCommand({ name, summary, description, options = {}, examples, act, extraArgs }) {
  return {
    name,
    summary,
    args: extraArgs ? `<job-id> ${extraArgs}` : '<job-id>',
    positionals: [1, extraArgs ? Infinity : 1],
    description,
    options,
    examples,
    async handler(ctx) {
      const id = ctx.positionals[0];
      ctx.report.id = id;
      const sandrun = await connect(ctx.settings);
      return act(sandrun.execution(id), ctx);
    },
  };
}

function resultReport(result) {
  const { id, status, exitCode, cpuSeconds, memoryMb, jobHash, workerId, signed, outputs } = result;
  return { id, status, exitCode, cpuSeconds, memoryMb, jobHash, workerId, signed, outputs };
}

function printOutputs(t, outputs) {
  for (const [path, o] of Object.entries(outputs)) t.print(`  output     ${path}  ${formatBytes(o.size)}  sha256 ${o.sha256}`);
}

export const status = jobCommand({
  name: 'status',
  summary: "a job's status (and result once it ended)",
  description: 'Shows a job\'s status; once it has ended, its exit code, resources and outputs. Exits 0 when the worker answered.',
  examples: ['sandrun status job_1764547200_3', 'sandrun status job_1764547200_3 --json | jq -r .status'],
  async act(exec, { t, report }) {
    const now = await exec.refresh();
    report.status = now;
    if (!TERMINAL.has(now)) {
      t.print(`${t.style('bold', 'status')}     ${now}`);
      return EXIT.OK;
    }
    const result = await exec.wait();
    Object.assign(report, resultReport(result));
    t.print(resultLine(t, result));
    printOutputs(t, result.outputs);
    return EXIT.OK;
  },
});

export const logs = jobCommand({
  name: 'logs',
  summary: "a job's log, live while it runs",
  description: 'Prints a job\'s log (stdout and stderr as the job wrote them); follows it live while the job runs.',
  examples: ['sandrun logs job_1764547200_3', 'sandrun logs job_1764547200_3 --json | jq -r .logs'],
  async act(exec, { t, report }) {
    let text = '';
    for await (const chunk of exec.logs()) {
      if (t.json) text += chunk;
      else t.logText(chunk);
    }
    report.logs = text;
    return EXIT.OK;
  },
});

export const wait = jobCommand({
  name: 'wait',
  summary: 'wait for a job; exit with its exit code',
  description: 'Waits for a job to end and exits with its exit code (130 if it was cancelled).',
  options: TIMEOUT_OPTION,
  examples: ['sandrun wait job_1764547200_3 && echo "it worked"', 'sandrun wait job_1764547200_3 --timeout 60 --json'],
  async act(exec, { t, report, settings }) {
    const result = await exec.wait(waitOptions(settings));
    Object.assign(report, resultReport(result));
    t.print(resultLine(t, result));
    return jobExitCode(result);
  },
});

export const verify = jobCommand({
  name: 'verify',
  summary: "check a job's signed result and outputs",
  description: [
    'Verifies a finished job: the worker\'s Ed25519 signature over its result, the key against',
    '--trust, and every output\'s bytes against the signed sha256 (they are downloaded, not kept).',
    'The job hash cannot be recomputed for a job re-attached by id: `sandrun run` checks it.',
    'Exits 0 when every check passed, 73 otherwise.',
  ].join('\n'),
  examples: ['sandrun verify job_1764547200_3', 'sandrun verify job_1764547200_3 --trust "$WORKER_KEY" --json'],
  async act(exec, { t, report }) {
    await exec.wait();
    const verification = await exec.verify({ downloadOutputs: true });
    Object.assign(report, { verified: verification.ok, verification });
    for (const line of verificationLines(t, verification)) t.print(line);
    return verification.ok ? EXIT.OK : EXIT.VERIFICATION;
  },
});

export const download = jobCommand({
  name: 'download',
  summary: "fetch a job's outputs (sha256-checked)",
  extraArgs: '[path...]',
  description: 'Downloads a finished job\'s outputs (all, or the paths named) into --out (default ./<job-id>), keeping their paths; each file is checked against the sha256 the worker signed.',
  options: { out: { type: 'string', value: 'DIR', help: 'where to write (default: ./<job-id>)' } },
  examples: ['sandrun download job_1764547200_3 --out results', 'sandrun download job_1764547200_3 out/model.bin --out .'],
  async act(exec, { t, report, values, positionals }) {
    const result = await exec.wait();
    const written = await downloadOutputs(t, exec, result.outputs, values.out ?? exec.id, positionals.slice(1));
    report.downloaded = written;
    for (const w of written) t.print(`  ${w.file}  ${formatBytes(w.size)}  sha256 ${w.sha256}`);
    return EXIT.OK;
  },
});

export const cancel = jobCommand({
  name: 'cancel',
  summary: 'cancel a queued or running job',
  description: 'Cancels a queued or running job. Workers that cannot cancel (the public Sandrun worker has no cancel) say so; exits 0 either way once asked.',
  examples: ['sandrun cancel job_1764547200_3'],
  async act(exec, { t, report }) {
    const r = await exec.cancel();
    Object.assign(report, r);
    t.print(r.stoppedOnServer ? `cancelled ${exec.id}: the worker stopped it` : `${exec.id}: ${r.message}`);
    return EXIT.OK;
  },
});
