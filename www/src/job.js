// One run from the page: build the job, submit it (to one worker, or to n workers of a pool for
// k-of-n consensus), follow its logs, wait, verify. Reports each step through `on`.
import { Sandrun } from '@sandrun/sdk/full';

/**
 * `request`: { mode: 'single' | 'consensus', endpoint, workers: [url], strategy: '2-of-3',
 *   files: { path: text }, entrypoint, args: [string], outputs: [glob] }
 * `on`: { status(text), log(chunk), submitted(exec), result(result), verification(report),
 *   consensus(report) }. Resolves with the execution (for downloads); rejects with the SDK's error.
 */
export async function runJob(request, on, signal) {
  try {
    return await run(request, on, signal);
  } catch (e) {
    // No k agreed: the error carries the consensus report with every worker's evidence. (It
    // can come from wait() or already from the log stream of a consensus job.)
    if (e?.code === 'CONSENSUS' && e.report) on.consensus(e.report);
    throw e;
  }
}

async function run(request, on, signal) {
  const consensus = request.mode === 'consensus';
  const sandrun = await Sandrun.create({ endpoint: consensus ? request.workers[0] : request.endpoint });
  let job = sandrun.job().files(request.files).entrypoint(request.entrypoint).signal(signal);
  if (request.args.length) job = job.args(request.args);
  if (request.outputs.length) job = job.outputs(request.outputs);
  if (consensus) {
    on.status(`checking ${request.workers.length} workers`);
    const pool = await sandrun.pool().workers(request.workers).join();
    job = job.consensus(request.strategy).with(pool);
  }

  on.status('uploading');
  const exec = await job.submit({
    onProgress: ({ loaded, total }) => on.status(`uploading ${total ? Math.round((100 * loaded) / total) : 100}%`),
  });
  on.submitted(exec);
  on.status('running');
  for await (const chunk of exec.logs()) on.log(chunk);

  const result = await exec.wait({ signal });
  on.result(result);
  const ended = `${result.status} (exit ${result.exitCode})`;
  if (result.consensus) {
    on.consensus(result.consensus);
    on.status(ended);
    return exec;
  }
  on.status(`${ended}, verifying`);
  try {
    // Downloading every output makes "verified" cover the bytes too, not only the signed hashes.
    on.verification(await exec.verify({ downloadOutputs: true }));
  } catch (e) {
    if (e?.code !== 'VERIFICATION') throw e;
    on.verification(e.report ?? { ok: false, problems: [e.message], outputs: [], jobHash: {}, signature: {} });
  }
  on.status(ended);
  return exec;
}
