import { Sandrun, SandrunError, ValidationError } from '@sandrun/sdk';

async function main() {
  const endpoint = new URLSearchParams(location.search).get('endpoint');
  const result = {};
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
  } catch (err) {
    result.error = `${err?.stack ?? err}${err?.code ? ` (code ${err.code})` : ''}`;
  }
  document.getElementById('out').textContent = JSON.stringify(result, null, 2);
  window.__result = result;
}
main();
