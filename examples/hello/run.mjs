// One real job, end to end: submit → live logs → wait → verify → download.
//   SANDRUN_ENDPOINT=http://127.0.0.1:8443 node examples/hello/run.mjs
import { Sandrun, SandrunError } from '@sandrun/sdk';

const endpoint = process.env.SANDRUN_ENDPOINT ?? 'http://127.0.0.1:8443';

const code = `
import hashlib, json, os, sys
n = int(sys.argv[sys.argv.index("--n") + 1])
primes = [p for p in range(2, 10 ** n) if all(p % d for d in range(2, int(p ** 0.5) + 1))]
print(f"found {len(primes)} primes below {10 ** n}; the last is {primes[-1]}")
print("héllo from the sandbox ✓")
os.makedirs("out", exist_ok=True)
with open("out/primes.json", "w") as f:
    json.dump({"n": n, "count": len(primes), "last": primes[-1]}, f)
print("wrote out/primes.json", file=sys.stderr)
`;

try {
  const sandrun = await Sandrun.create({ endpoint });
  const health = await sandrun.health();
  console.log(`worker ${endpoint} is ${health.status}; its key is ${health.workerId ?? '(anonymous)'}`);

  const job = sandrun.job()
    .code(code, { filename: 'main.py' })
    .args(['--n', 4])
    .outputs(['out/*']);
  console.log('spec:', JSON.stringify(job.toSpec()));

  const exec = await job.submit({
    onProgress: ({ loaded, total }) => loaded === total && console.log(`uploaded ${total} bytes`),
  });
  console.log(`submitted ${exec.id} (job hash computed locally: ${exec.jobHash})`);

  // Chunks are text as it arrives (not necessarily whole lines): print it as is, indented.
  let atLineStart = true;
  for await (const chunk of exec.logs()) {
    process.stdout.write(chunk.replace(/^(?=.)/gm, () => '  | ').replace(/^  \| /, atLineStart ? '  | ' : ''));
    atLineStart = chunk.endsWith('\n');
  }

  const result = await exec.wait();
  console.log(`status ${result.status}, exit code ${result.exitCode}, cpu ${result.cpuSeconds}s, memory ${result.memoryMb} MB`);

  const report = await exec.verify({ downloadOutputs: true });
  console.log(`verified: ${report.ok} (job hash ${report.jobHash.matches ? 'matches' : 'DIFFERS'}, ` +
    `signature ${report.signature.valid ? 'valid' : 'INVALID'} over cpu=${report.signature.cpu}, ` +
    `${report.outputs.filter((o) => o.matches).length}/${report.outputs.length} outputs checked)`);
  if (!report.ok) throw new Error(`verification failed: ${report.problems.join('; ')}`);

  const bytes = await exec.download('out/primes.json');
  console.log('out/primes.json:', new TextDecoder().decode(bytes));
} catch (e) {
  if (e instanceof SandrunError) console.error(`${e.name} [${e.code}]: ${e.message}`);
  else console.error(e);
  process.exit(1);
}
