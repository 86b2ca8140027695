// Consumer (a): Node ESM. Usage: node esm.mjs <endpoint>; prints one JSON line.
import { Sandrun, SandrunError, ValidationError, UnsupportedError } from '@sandrun/sdk';
import * as core from '@sandrun/sdk';

const endpoint = process.argv[2];
const result = { resolved: import.meta.resolve('@sandrun/sdk').replace(/^file:\/\//, '') };
try {
  try {
    await Sandrun.create({ endpoint: 'not a url' });
    result.errorClass = 'Sandrun.create({ endpoint: "not a url" }) resolved';
  } catch (e) {
    result.errorClass = (e instanceof ValidationError && e instanceof SandrunError) || `${e?.constructor?.name}: ${e?.message ?? e}`;
  }
  const s = await Sandrun.create({ endpoint });
  // The core entry has no pools or plugins: pool() throws an UnsupportedError naming the full entry.
  try {
    s.pool();
    result.corePool = 'pool() returned';
  } catch (e) {
    result.corePool = (e instanceof UnsupportedError && e.code === 'UNSUPPORTED' && e.message.includes("'@sandrun/sdk/full'")) ||
      `${e?.constructor?.name}: ${e?.message ?? e}`;
  }
  result.coreExports = ['Pool', 'retryPlugin', 'metricsPlugin', 'BuiltinPlugin'].filter((n) => n in core);
  const e = await s.job().file('main.py', 'print("hi")').entrypoint('main.py').submit();
  const r = await e.wait();
  const v = await e.verify();
  let logs = '';
  for await (const chunk of e.logs()) logs += chunk;
  Object.assign(result, { status: r.status, ok: v.ok, workerId: v.workerId, problems: v.problems, logs });
} catch (err) {
  result.error = `${err?.stack ?? err}${err?.code ? ` (code ${err.code})` : ''}`;
}
console.log(JSON.stringify(result));
