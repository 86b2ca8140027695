// Consumer (full): Node ESM importing '@sandrun/sdk/full'; a client with built-in plugins runs a
// job through a one-worker pool. Usage: node full-esm.mjs <endpoint>; prints one JSON line.
import { Sandrun, SandrunError, ValidationError, retryPlugin, metricsPlugin, Pool } from '@sandrun/sdk/full';

const endpoint = process.argv[2];
const result = { resolved: import.meta.resolve('@sandrun/sdk/full').replace(/^file:\/\//, '') };
try {
  try {
    await Sandrun.create({ endpoint: 'not a url' });
    result.errorClass = 'Sandrun.create({ endpoint: "not a url" }) resolved';
  } catch (e) {
    result.errorClass = (e instanceof ValidationError && e instanceof SandrunError) || `${e?.constructor?.name}: ${e?.message ?? e}`;
  }
  const metrics = metricsPlugin();
  const s = (await Sandrun.create({ endpoint })).use(retryPlugin({ maxAttempts: 2 })).use(metrics);
  const pool = await s.pool().workers([endpoint]).join();
  result.isPool = pool instanceof Pool;
  result.poolSize = pool.size;
  const e = await s.job().file('main.py', 'print("hi")').entrypoint('main.py').with(pool).submit();
  const r = await e.wait();
  const v = await e.verify();
  let logs = '';
  for await (const chunk of e.logs()) logs += chunk;
  result.routed = r.route?.endpoint ?? null;
  result.requests = [...metrics.prometheus().matchAll(/^\w*requests_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  pool.close();
  Object.assign(result, { status: r.status, ok: v.ok, workerId: v.workerId, problems: v.problems, logs });
} catch (err) {
  result.error = `${err?.stack ?? err}${err?.code ? ` (code ${err.code})` : ''}`;
}
console.log(JSON.stringify(result));
