// 2-of-3 consensus over three workers, with the evidence: each worker's signed result, who agreed,
// who dissented. By default it starts three dev-node workers itself (distinct keys; the third with
// --fault alter-output, so it signs a different result) and stops them at the end:
//   node examples/multi-node/run.mjs                 (DEVNODE=path/to/sandrun-devnode to choose the binary)
// or uses workers that already run:
//   SANDRUN_WORKERS=http://127.0.0.1:8443,http://…,http://… node examples/multi-node/run.mjs
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandrun, ConsensusError, SandrunError } from '@sandrun/sdk/full';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const children = [];
const work = mkdtempSync(path.join(tmpdir(), 'sandrun-multi-'));

function startWorker(name, extra = []) {
  const devnode = path.resolve(root, process.env.DEVNODE ?? 'target/debug/sandrun-devnode');
  const key = path.join(work, `${name}.pem`);
  execFileSync(devnode, ['--generate-key', key], { stdio: 'ignore' });
  const child = spawn(devnode, ['worker', '--port', '0', '--worker-key', key, ...extra], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/worker: (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`${name}: dev node exited (${code})`)));
  });
}

const code = `
import hashlib, os
digest = hashlib.sha256(b"sandrun" * 1000).hexdigest()
os.makedirs("out", exist_ok=True)
open("out/digest.txt", "w").write(digest)
print("digest", digest)
`;

try {
  const urls = process.env.SANDRUN_WORKERS?.split(',') ??
    await Promise.all([startWorker('alice'), startWorker('bob'), startWorker('mallory', ['--fault', 'alter-output'])]);
  const sandrun = await Sandrun.create({ endpoint: urls[0] });
  const pool = await sandrun.pool().workers(urls).join();
  for (const n of pool.nodes) console.log(`worker ${n.endpoint}: ${n.healthy ? 'healthy' : n.problem}, key ${n.workerId}`);
  pool.on('consensus-achieved', (r) => console.log(`consensus-achieved: ${r.agreeing.length} of ${r.n} agree`));

  const exec = await sandrun.job().file('main.py', code).entrypoint('main.py').outputs(['out/*'])
    .consensus('2-of-3').with(pool).submit();
  const result = await exec.wait();
  const c = result.consensus;
  console.log(`\nconsensus ${c.k}-of-${c.n}: reached=${c.reached}, result hash ${c.resultHash}`);
  console.log(`  agreeing:   ${c.agreeing.join(', ')}`);
  console.log(`  dissenting: ${c.dissenting.join(', ') || '(none)'}`);
  console.log('  evidence:');
  for (const e of c.evidence) {
    console.log(`  - ${e.workerId} (${e.endpoint}, job ${e.jobId}) verified=${e.verified}`);
    console.log(`      resultHash ${e.resultHash}`);
    console.log(`      outputs    ${JSON.stringify(e.outputs)}`);
    console.log(`      signature  ${e.signature}`);
    if (e.signedMessage) console.log(`      signed     ${e.signedMessage}`);
  }
  const bytes = await exec.download('out/digest.txt'); // from an agreeing worker, checked against the agreed hash
  console.log(`\nout/digest.txt (agreed): ${new TextDecoder().decode(bytes)}`);
  pool.close();
} catch (e) {
  if (e instanceof ConsensusError) console.error('no consensus:', JSON.stringify(e.report, null, 2));
  else if (e instanceof SandrunError) console.error(`${e.name} (${e.code}): ${e.message}`);
  else console.error(e);
  process.exitCode = 1;
} finally {
  for (const c of children) c.kill();
  rmSync(work, { recursive: true, force: true });
}
