// A custom plugin (adds an argument, times requests), a middleware, and built-ins, on one job.
// Run: make pkg && (cd examples/custom-plugins && npm install) && SANDRUN_ENDPOINT=http://127.0.0.1:8443 node run.mjs
import { Sandrun, retryPlugin, metricsPlugin, loggingPlugin, PluginError } from '@sandrun/sdk/full';

const timings = [];
const stamp = {
  name: 'stamp',
  version: '1.0.0',
  priority: 10,
  onSubmit(spec) { return { ...spec, args: [...spec.args, '--stamped'] }; },
  onRequest(req, ctx) { ctx.started = performance.now(); },
  onResponse(res, ctx) { timings.push(`${ctx.operation} ${res.status} ${res.durationMs.toFixed(1)} ms`); },
  async onResult(result) { console.log(`stamp: job ${result.id} ended ${result.status}`); },
};
const audit = {
  name: 'audit',
  async execute(next, ctx) {
    const r = await next();
    if (ctx.operation === 'submit') console.log(`audit: submitted to ${ctx.endpoint} (${r.status})`);
    return r;
  },
};

const metrics = metricsPlugin();
const sandrun = (await Sandrun.create({ endpoint: process.env.SANDRUN_ENDPOINT ?? 'http://127.0.0.1:8443' }))
  .use(retryPlugin({ maxAttempts: 4 }))
  .use(metrics)
  .use(loggingPlugin({ level: 'warn', sink: (e) => console.warn('log:', e.event, e.message ?? '') }));

try {
  const exec = await sandrun.job()
    .code('import sys\nprint("args:", sys.argv[1:])\n')
    .env({ API_TOKEN: 'never-logged' })
    .use(stamp)
    .with(audit)
    .submit();
  for await (const chunk of exec.logs()) process.stdout.write(chunk);
  await exec.wait();
} catch (e) {
  if (e instanceof PluginError) console.error(`plugin ${e.plugin} failed:`, e.cause);
  throw e;
}
console.log(timings.join('\n'));
console.log(metrics.prometheus());
await sandrun.destroy();
