// Consumer (b): Node CommonJS. Usage: node cjs.cjs <endpoint>; prints one JSON line.
'use strict';
const { Sandrun, SandrunError, ValidationError } = require('@sandrun/sdk');

(async () => {
  const endpoint = process.argv[2];
  const result = { resolved: require.resolve('@sandrun/sdk') };
  try {
    try {
      await Sandrun.create({ endpoint: 'not a url' });
      result.errorClass = 'Sandrun.create({ endpoint: "not a url" }) resolved';
    } catch (e) {
      result.errorClass = (e instanceof ValidationError && e instanceof SandrunError) || `${e?.constructor?.name}: ${e?.message ?? e}`;
    }
    const s = await Sandrun.create({ endpoint });
    const e = await s.job().file('main.py', 'print("hi")').entrypoint('main.py').submit();
    const r = await e.wait();
    const v = await e.verify();
    let logs = '';
    for await (const chunk of e.logs()) logs += chunk;
    Object.assign(result, { status: r.status, ok: v.ok, workerId: v.workerId, problems: v.problems, logs });
    // The full entry through require: its own node.cjs, with the pool and plugin exports.
    result.fullResolved = require.resolve('@sandrun/sdk/full');
    const full = require('@sandrun/sdk/full');
    result.fullExports = ['Pool', 'retryPlugin', 'metricsPlugin'].filter((n) => typeof full[n] === 'function');
  } catch (err) {
    result.error = `${err?.stack ?? err}${err?.code ? ` (code ${err.code})` : ''}`;
  }
  console.log(JSON.stringify(result));
})();
