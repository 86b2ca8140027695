#!/usr/bin/env node
// The `sandrun` CLI as users get it (the packed package installed from its tarball, run through
// node_modules/.bin/sandrun) against real dev-node workers: two honest ones and one with
// `--fault alter-output`. Prints `N passed, N failed`.
// Usage: node tests/cli/run.mjs [name-filter]   (SANDRUN_PKG, DEVNODE: see harness.mjs)
// Leaves build/cli-tty.txt: what a terminal shows for `sandrun run` (the closing note quotes it).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { assert, requireTool, root, run, runSuite } from './harness.mjs';

// Each log line is one write: the worker runs Python unbuffered, and print()'s pieces would
// arrive as separate writes that stdout and stderr may interleave.
const JOB = `import os, sys, time
sys.stdout.write(f"hello from {sys.argv[1:]}\\n")
sys.stderr.write("to stderr\\n")
os.makedirs("out/sub", exist_ok=True)
open("out/result.txt", "w").write("42\\n")
open("out/sub/data.bin", "wb").write(bytes(range(256)) * 40)
if "--sleep" in sys.argv:
    time.sleep(60)
sys.exit(int(sys.argv[sys.argv.index("--exit") + 1]) if "--exit" in sys.argv else 0)
`;
const EXPECTED = { 'out/result.txt': Buffer.from('42\n'), 'out/sub/data.bin': Buffer.concat(Array(40).fill(Buffer.from([...Array(256).keys()]))) };
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const ESC = '\x1b';

let cli; // (args, opts) => { code, stdout, stderr }
let cliAsync; // (args) => child process

/** The JSON a --json command printed (the whole of stdout). */
function json(r) {
  try { return JSON.parse(r.stdout); } catch { throw new Error(`stdout is not one JSON document (exit ${r.code}):\n${r.stdout}\n${r.stderr}`); }
}
function expectExit(r, code, what) {
  assert(r.code === code, `${what}: exit ${r.code}, want ${code}\nstdout: ${r.stdout.slice(-1500)}\nstderr: ${r.stderr.slice(-1500)}`);
}

/**
 * What a terminal shows after this output: carriage returns go back to the line's start, ESC[2K
 * clears the line, colours are dropped. (Enough of a terminal for a one-line progress bar.)
 */
function screen(text) {
  const lines = [];
  for (const raw of text.replace(/\r\n/g, '\n').split('\n')) {
    let line = '';
    let col = 0;
    for (const [tok] of raw.matchAll(/\x1b\[[0-9;]*[A-Za-z]|\r|[^\x1b\r]+/g)) {
      if (tok === '\r') col = 0;
      else if (tok === `${ESC}[2K`) { line = ''; col = 0; } else if (tok.startsWith(ESC)) continue;
      else { line = line.slice(0, col) + tok + line.slice(col + tok.length); col += tok.length; }
    }
    lines.push(line);
  }
  return lines.join('\n').trimEnd();
}

/** Starts `sandrun run` on the sleeping job and resolves with the child and the job id. */
function startSleepingJob(ctx) {
  const child = cliAsync(['run', ctx.job, '--args', '--sleep']);
  const seen = { stdout: '', stderr: '' };
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal, ...seen })));
  const started = new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the job did not start in 30 s:\n${seen.stderr}`)), 30_000);
    // Running, not just queued: the id is on stderr and the job's first line on stdout.
    const check = () => {
      const id = seen.stderr.match(/job\s+(job_\S+)/)?.[1];
      if (id && seen.stdout.includes('hello from')) { clearTimeout(timer); res(id); }
    };
    child.stdout.on('data', (d) => { seen.stdout += d; check(); });
    child.stderr.on('data', (d) => { seen.stderr += d; check(); });
  });
  return { child, exited, started };
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('run a folder: live logs on stdout, verified, outputs written into --out with their paths and bytes', async (ctx) => {
  const out = join(ctx.work, 'out-run');
  const r = cli(['run', ctx.job, '--outputs', 'out/*', '--out', out, '--args', 'a', '--b']);
  expectExit(r, 0, 'run');
  assert(r.stdout.includes("hello from ['a', '--b']") && r.stdout.includes('to stderr'), `the job's log is not on stdout: ${r.stdout}`);
  assert(r.stderr.includes('✓ verified') && r.stderr.includes('matches the hash computed before sending'), `no verification shown:\n${r.stderr}`);
  for (const [path, bytes] of Object.entries(EXPECTED)) {
    const got = readFileSync(join(out, path));
    assert(got.equals(bytes), `${path}: ${got.length} bytes differ from the job's ${bytes.length}`);
  }
  assert(!r.stderr.includes('not downloaded'), `outputs not byte-checked after --out:\n${r.stderr}`);
});

test('run --json: one JSON object with id, status, exitCode, verified, verification and outputs', async (ctx) => {
  const r = cli(['run', ctx.job, '--outputs', 'out/*', '--json']);
  expectExit(r, 0, 'run --json');
  const j = json(r);
  assert(/^job_\S+$/.test(j.id), `id ${j.id}`);
  assert(j.status === 'completed' && j.exitCode === 0 && j.verified === true, `status ${j.status}, exitCode ${j.exitCode}, verified ${j.verified}`);
  assert(j.verification.signature.valid === true && j.verification.jobHash.matches === true, `verification ${JSON.stringify(j.verification)}`);
  assert(j.verification.workerId === ctx.honest[0].workerId, `signed by ${j.verification.workerId}, want ${ctx.honest[0].workerId}`);
  for (const [path, bytes] of Object.entries(EXPECTED)) assert(j.outputs[path]?.sha256 === sha256(bytes), `outputs[${path}] ${JSON.stringify(j.outputs[path])}`);
  assert(r.stderr.includes('hello from'), 'with --json the job log goes to stderr');
});

test('a failing job: the process exits with the job\'s exit code, and --json says so without an error', async (ctx) => {
  expectExit(cli(['run', ctx.job, '--args', '--exit', '3']), 3, 'run (job exits 3)');
  const r = cli(['run', ctx.job, '--json', '--args', '--exit', '7']);
  expectExit(r, 7, 'run --json (job exits 7)');
  const j = json(r);
  assert(j.status === 'failed' && j.exitCode === 7 && j.verified === true && j.error === undefined, JSON.stringify(j));
});

test('SDK and CLI failures have their own exit codes (network 69, validation 65, no input 66, usage 64, unsupported 77, config 78)', async (ctx) => {
  const dead = cli(['run', ctx.job, '--endpoint', ctx.dead, '--json']);
  expectExit(dead, 69, 'unreachable worker');
  assert(json(dead).error.code === 'NETWORK', dead.stdout);
  const noEntry = join(ctx.work, 'no-entry');
  mkdirSync(noEntry, { recursive: true });
  writeFileSync(join(noEntry, 'data.txt'), 'x');
  const invalid = cli(['run', noEntry, '--json']);
  expectExit(invalid, 65, 'a folder with nothing to run');
  assert(json(invalid).error.errors?.[0]?.field === 'entrypoint', invalid.stdout);
  expectExit(cli(['run', ctx.job, '--endpoint', 'ftp://x']), 65, 'bad endpoint');
  expectExit(cli(['run', join(ctx.work, 'missing')]), 66, 'missing folder');
  expectExit(cli(['run', ctx.job, '--bogus']), 64, 'unknown flag');
  expectExit(cli(['status']), 64, 'missing job id');
  expectExit(cli(['run', ctx.job, '--pay', '1']), 64, '--pay without a market');
  expectExit(cli(['run', ctx.job, '--estimate']), 64, '--estimate without --pay');
  const outside = cli(['dev']);
  expectExit(outside, 77, 'sandrun dev outside the SDK repository');
  assert(outside.stderr.includes('checkout'), outside.stderr);
  writeFileSync(join(ctx.work, 'bad.json'), '{"endpoint": 5}');
  expectExit(cli(['health', '--config', join(ctx.work, 'bad.json')]), 78, 'bad config value');
  writeFileSync(join(ctx.work, 'typo.json'), '{"endpont": "http://x"}');
  const typo = cli(['health', '--config', join(ctx.work, 'typo.json')]);
  expectExit(typo, 78, 'unknown config key');
  assert(typo.stderr.includes('"endpont"'), typo.stderr);
});

test('configuration: flags > environment > config file (./sandrun.config.json)', async (ctx) => {
  const dir = join(ctx.work, 'configured');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'sandrun.config.json'), JSON.stringify({ endpoint: ctx.honest[1].endpoint, timeout: 30 }));
  const key = (r) => json(r).workerId;
  const none = { SANDRUN_ENDPOINT: '' };
  assert(key(cli(['health', '--json'], { cwd: dir, env: none })) === ctx.honest[1].workerId, 'the config file is not used');
  assert(key(cli(['health', '--json'], { cwd: dir, env: { SANDRUN_ENDPOINT: ctx.honest[0].endpoint } })) === ctx.honest[0].workerId, 'the environment does not win over the file');
  const flag = cli(['health', '--json', '--endpoint', ctx.faulty.endpoint], { cwd: dir, env: { SANDRUN_ENDPOINT: ctx.dead } });
  assert(key(flag) === ctx.faulty.workerId, `the flag does not win over the environment: ${flag.stdout}`);
  expectExit(cli(['health'], { cwd: dir, env: { SANDRUN_ENDPOINT: ctx.dead } }), 69, 'SANDRUN_ENDPOINT pointing nowhere');
});

test('status, logs, wait, verify, download on a finished job; unknown job → 72', async (ctx) => {
  const first = json(cli(['run', ctx.job, '--outputs', 'out/*', '--json', '--args', '--exit', '4']));
  const id = first.id;
  const st = json(cli(['status', id, '--json']));
  assert(st.status === 'failed' && st.exitCode === 4 && st.outputs['out/result.txt'], `status: ${JSON.stringify(st)}`);
  const logs = cli(['logs', id]);
  expectExit(logs, 0, 'logs');
  assert(logs.stdout.includes("hello from ['--exit', '4']") && logs.stdout.includes('to stderr'), `logs: ${logs.stdout}`);
  expectExit(cli(['wait', id]), 4, 'wait (the job exited 4)');
  const v = cli(['verify', id, '--json']);
  expectExit(v, 0, 'verify');
  const vr = json(v);
  assert(vr.verified && vr.verification.outputs.every((o) => o.checked && o.matches), `verify: ${v.stdout}`);
  expectExit(cli(['verify', id, '--trust', ctx.faulty.workerId]), 73, 'verify with another trusted key');
  const out = join(ctx.work, 'dl');
  expectExit(cli(['download', id, 'out/sub/data.bin', '--out', out]), 0, 'download');
  assert(readFileSync(join(out, 'out/sub/data.bin')).equals(EXPECTED['out/sub/data.bin']), 'downloaded bytes differ');
  expectExit(cli(['download', id, 'out/none.txt', '--out', out]), 72, 'download of a missing output');
  const unknown = cli(['status', 'job_0_0', '--json']);
  expectExit(unknown, 72, 'status of an unknown job');
  assert(json(unknown).error.code === 'NOT_FOUND', unknown.stdout);
});

test('cancel a running job: the worker stops it, `sandrun run` following it exits 130', async (ctx) => {
  const { exited, started } = startSleepingJob(ctx);
  const id = await started;
  const c = cli(['cancel', id, '--json']);
  expectExit(c, 0, 'cancel');
  assert(json(c).stoppedOnServer === true, c.stdout);
  const r = await exited;
  assert(r.code === 130, `the following run exited ${r.code}, want 130\n${r.stderr}`);
  assert(json(cli(['status', id, '--json'])).status === 'cancelled', 'status is not cancelled');
});

test('Ctrl-C (SIGINT) during `sandrun run` cancels the job on the worker, says so, exits 130', async (ctx) => {
  const { child, exited, started } = startSleepingJob(ctx);
  const id = await started;
  child.kill('SIGINT');
  const r = await exited;
  assert(r.code === 130, `exit ${r.code} (signal ${r.signal}), want 130\n${r.stderr}`);
  assert(r.stderr.includes(`cancelling job ${id}`) && r.stderr.includes('the worker stopped it'), `stderr:\n${r.stderr}`);
  assert(json(cli(['status', id, '--json'])).status === 'cancelled', 'the job is not cancelled on the worker');
});

test('health and pool ls: keys, a dead worker shown as such (exit 69)', async (ctx) => {
  const h = json(cli(['health', '--json']));
  assert(h.status === 'healthy' && h.workerId === ctx.honest[0].workerId, JSON.stringify(h));
  const two = cli(['health', ctx.honest[1].endpoint, ctx.dead]);
  expectExit(two, 69, 'health with a dead worker');
  assert(two.stdout.includes(ctx.honest[1].workerId) && /down\s+http/.test(two.stdout), two.stdout);
  const urls = [ctx.honest[0].endpoint, ctx.honest[1].endpoint];
  const ok = cli(['pool', 'ls', ...urls, '--json']);
  expectExit(ok, 0, 'pool ls');
  const pool = json(ok);
  assert(pool.size === 2 && pool.nodes.map((n) => n.workerId).sort().join() === ctx.honest.map((w) => w.workerId).sort().join(), ok.stdout);
  const bad = cli(['pool', 'ls', '--workers', [...urls, ctx.dead].join(',')]);
  expectExit(bad, 69, 'pool ls with a dead worker');
  assert(bad.stdout.includes('2 of 3 usable') && bad.stdout.includes('unusable'), bad.stdout);
});

test('--consensus 2-of-3 with a worker that alters its output: reached, the faulty one dissents, agreed bytes downloaded', async (ctx) => {
  const workers = [...ctx.honest, ctx.faulty].map((w) => w.endpoint).join(',');
  const out = join(ctx.work, 'consensus');
  const r = cli(['run', ctx.job, '--outputs', 'out/*', '--consensus', '2-of-3', '--workers', workers, '--out', out, '--json']);
  expectExit(r, 0, 'consensus run');
  const c = json(r).verification;
  assert(json(r).verified === true && c.reached === true, JSON.stringify(c));
  assert(c.dissenting.length === 1 && c.dissenting[0] === ctx.faulty.workerId, `dissenting ${c.dissenting}, want the faulty ${ctx.faulty.workerId}`);
  assert(c.agreeing.sort().join() === ctx.honest.map((w) => w.workerId).sort().join(), `agreeing ${c.agreeing}`);
  assert(readFileSync(join(out, 'out/result.txt')).equals(EXPECTED['out/result.txt']), 'downloaded the altered output');
  const human = cli(['run', ctx.job, '--outputs', 'out/*', '--consensus', '2-of-2', '--workers', `${ctx.honest[0].endpoint},${ctx.faulty.endpoint}`]);
  expectExit(human, 74, '2-of-2 with the faulty worker');
  assert(human.stderr.includes('consensus NOT reached') && human.stderr.includes(ctx.faulty.workerId), human.stderr);
});

test('output that is not a terminal has no escape codes and no progress bar', async (ctx) => {
  const r = cli(['run', ctx.job, '--outputs', 'out/*', '--out', join(ctx.work, 'plain')]);
  expectExit(r, 0, 'run');
  assert(!r.stdout.includes(ESC) && !r.stderr.includes(ESC) && !r.stderr.includes('█'), `escape codes in piped output:\n${JSON.stringify(r.stderr)}`);
});

test('on a terminal (under script(1)): colours, progress bars, and the screen it leaves (build/cli-tty.txt)', async (ctx) => {
  const out = join(ctx.work, 'tty-out');
  const command = [ctx.bin, 'run', ctx.job, '--outputs', "'out/*'", '--out', out, '--args', '--n', '3'].join(' ');
  const r = run('script', ['-qec', command, '/dev/null'], { cwd: ctx.work, env: ctx.env({ TERM: 'xterm-256color' }) });
  expectExit(r, 0, 'script -qec sandrun run');
  assert(r.stdout.includes(`${ESC}[32m`) && r.stdout.includes('█') && r.stdout.includes('100%'), `no colour or bar on a terminal:\n${JSON.stringify(r.stdout.slice(0, 600))}`);
  const shown = screen(r.stdout).replaceAll(ctx.work, '.');
  assert(/^upload\s+\d+ B to http/m.test(shown) && shown.includes('✓ verified') && !shown.includes('█'), `the bar was not replaced by its closing line:\n${shown}`);
  mkdirSync(join(root, 'build'), { recursive: true });
  writeFileSync(join(root, 'build', 'cli-tty.txt'), `$ sandrun run ./job --outputs 'out/*' --out ./tty-out --args --n 3\n${shown}\n`);
});

// --- The paid market job (`run --pay`) on a local market this suite starts (scripts/stack.mjs).

/** A transaction count (nonce): it moves with every transaction the account sends. */
async function nonceOf(stack, address) {
  const res = await fetch(stack.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getTransactionCount', params: [address, 'latest'] }) });
  return Number((await res.json()).result);
}
/** No private key of the stack in what the CLI printed. */
function assertNoKey(ctx, r) {
  for (const a of ctx.stack.accounts) assert(!(r.stdout + r.stderr).includes(a.privateKey.slice(2)), 'a private key was printed');
}
const STAGES = ['packaging', 'uploading', 'escrow', 'claims', 'running', 'verifying', 'settling', 'done'];

test('run --pay 2-of-3 on the local market: every stage, verified, the faulty agent slashed, outputs from IPFS in --out', async (ctx) => {
  const out = join(ctx.work, 'paid');
  const r = cli(['run', ctx.job, '--pay', '0.03 ether', '--consensus', '2-of-3', '--stack', ctx.stackFile, '--outputs', 'out/*', '--out', out, '--json', '--args', '--paid', 'json']);
  expectExit(r, 0, 'paid run');
  assertNoKey(ctx, r);
  const j = json(r);
  assert(j.id.startsWith('market:') && j.status === 'completed' && j.exitCode === 0 && j.verified === true, JSON.stringify({ ...j, stages: undefined }));
  const seen = j.stages.map((e) => e.stage);
  assert(STAGES.every((s) => seen.includes(s)) && seen.at(-1) === 'done', `stages ${seen}`);
  assert(STAGES.map((s) => seen.indexOf(s)).every((i, n, all) => n === 0 || i > all[n - 1]), `stages out of order: ${seen}`);
  const faulty = ctx.stack.agents.find((a) => a.faulty).address;
  const s = j.settlement;
  assert(s.outcome === 'finalized' && s.slashedNodes.includes(faulty) && s.dissenting.includes(faulty), JSON.stringify(s));
  assert(s.agreeing.length === 2 && BigInt(s.paid) === 2n * 10n ** 16n && BigInt(s.slashed) > 0n, JSON.stringify(s));
  assert(j.consensus.reached && j.consensus.evidence.find((e) => e.jobId === faulty)?.verified === false, 'the faulty node\'s result was not found invalid');
  for (const [path, bytes] of Object.entries(EXPECTED)) {
    const got = readFileSync(join(out, path));
    assert(got.equals(bytes) && j.consensus.outputs[path] === sha256(got), `${path}: not the agreed bytes`);
  }
  // The same, as a person reads it (and for the docs: build/cli-pay.txt).
  const human = cli(['run', ctx.job, '--pay', '0.03 ether', '--consensus', '2-of-3', '--stack', ctx.stackFile, '--outputs', 'out/*', '--out', join(ctx.work, 'paid-human'), '--args', '--paid', 'human']);
  expectExit(human, 0, 'paid run (text)');
  assertNoKey(ctx, human);
  for (const s of STAGES) assert(new RegExp(`^${s}\\s+\\+`, 'm').test(human.stderr), `no ${s} line:\n${human.stderr}`);
  // The first node's run, on stdout, framed between the stages and the consensus (stderr).
  assert(human.stdout.includes("hello from ['--paid', 'human']") && /^done .*\n─── logs ───\n────────────\nconsensus /m.test(screen(human.stderr)), `logs:\n${human.stdout}\n${human.stderr}`);
  assert(human.stderr.includes('2-of-3 consensus reached') && new RegExp(`dissented\\s+node ${faulty}`).test(human.stderr) && human.stderr.includes(`slashed    0.01 ETH from ${faulty}`), human.stderr);
  mkdirSync(join(root, 'build'), { recursive: true });
  // As a terminal shows it: the logs (stdout) inside their frame (stderr).
  const screenText = human.stderr.replace('─── logs ───\n', `─── logs ───\n${human.stdout}`);
  writeFileSync(join(root, 'build', 'cli-pay.txt'), `$ sandrun run ./job --pay "0.03 ether" --consensus 2-of-3 --stack .sandrun/stack.json --outputs 'out/*' --out ./paid-human --args --paid human\n${screenText.replaceAll(ctx.work, '.').replaceAll(ctx.stackDir, '.sandrun')}`);
});

test('run --pay --estimate: the nodes, the cost and the verdict; nothing is sent (the nonce stays)', async (ctx) => {
  const payer = ctx.stack.accounts[1];
  const before = await nonceOf(ctx.stack, payer.address);
  const r = cli(['run', ctx.job, '--pay', '0.03 ether', '--consensus', '2-of-3', '--stack', ctx.stackFile, '--key-env', 'PAYER_KEY', '--estimate', '--json'], { env: { PAYER_KEY: payer.privateKey } });
  expectExit(r, 0, 'estimate');
  assertNoKey(ctx, r);
  const e = json(r).estimate;
  assert(e.allowed === true && e.nodes.length === 3 && BigInt(e.payment) === 3n * 10n ** 16n && BigInt(e.total) > BigInt(e.payment), JSON.stringify(e));
  assert(await nonceOf(ctx.stack, payer.address) === before, 'the estimate sent a transaction');
  const unset = cli(['run', ctx.job, '--pay', '0.03 ether', '--stack', ctx.stackFile, '--key-env', 'NO_SUCH_KEY_VAR', '--estimate']);
  expectExit(unset, 78, 'a --key-env variable that is not set');
});

test('run --pay refused before sending: spend cap (env 79, config file 79), IPFS down (80); the nonce stays', async (ctx) => {
  const payer = ctx.stack.accounts[0].address;
  const before = await nonceOf(ctx.stack, payer);
  // (Flags go before --args: what follows it is the job's.)
  const args = (...more) => ['run', ctx.job, '--pay', '0.03 ether', '--consensus', '2-of-3', '--stack', ctx.stackFile, '--json', ...more, '--args', '--paid', 'refused'];
  const capped = cli(args(), { env: { SANDRUN_MAX_PER_JOB: '0.01 ether' } });
  expectExit(capped, 79, 'maxPerJob from the environment');
  assert(json(capped).error.code === 'SPEND_LIMIT' && json(capped).error.limit === 'maxPerJob', capped.stdout);
  writeFileSync(join(ctx.work, 'capped.json'), JSON.stringify({ maxTotal: '20000000000000000' }));
  const total = cli(args('--config', join(ctx.work, 'capped.json')));
  expectExit(total, 79, 'maxTotal from the config file');
  assert(json(total).error.limit === 'maxTotal', total.stdout);
  const ipfsDown = cli(args('--ipfs', ctx.dead));
  expectExit(ipfsDown, 80, 'IPFS down');
  assert(json(ipfsDown).error.stage === 'uploading', ipfsDown.stdout);
  assert(await nonceOf(ctx.stack, payer) === before, 'a refused job sent a transaction');
});

test('run --pay: escrow refused by the chain (a key with no funds) → 81 at the escrow stage, the input CID kept, nothing sent', async (ctx) => {
  const { privateKeyToAccount } = requireTool('viem/accounts');
  const key = `0x${randomBytes(32).toString('hex')}`;
  const poor = privateKeyToAccount(key).address;
  const r = cli(['run', ctx.job, '--pay', '0.03 ether', '--consensus', '2-of-3', '--stack', ctx.stackFile, '--key-env', 'POOR_KEY', '--json', '--args', '--paid', 'poor'],
    { env: { POOR_KEY: key } });
  expectExit(r, 81, 'a key with no funds');
  assert(!(r.stdout + r.stderr).includes(key.slice(2)), 'the private key was printed');
  const e = json(r).error;
  assert(['INSUFFICIENT_FUNDS', 'CHAIN', 'REVERTED'].includes(e.code) && e.stage === 'escrow' && /^baf/.test(e.inputCid ?? ''), JSON.stringify(e));
  assert(await nonceOf(ctx.stack, poor) === 0, 'the poor key sent a transaction');
});

test('run --pay: the same job again while it is in escrow → 82, nothing paid; nobody claims by --deadline → refunded, 74; stages printed live', async (ctx) => {
  // 0.003 ether for 3 nodes is 0.001 per node, below the stack agents' price (0.01): nobody claims.
  const payer = ctx.stack.accounts[2];
  const env = { PAYER_KEY: payer.privateKey };
  const args = ['run', ctx.job, '--pay', '0.003 ether', '--max-price', '0.001 ether', '--consensus', '2-of-3', '--deadline', '10',
    '--stack', ctx.stackFile, '--key-env', 'PAYER_KEY'];
  const first = cliAsync([...args, '--args', '--paid', 'unclaimed'], { env });
  const seen = { stdout: '', stderr: '' };
  const exited = new Promise((r) => first.on('exit', (code) => r(code)));
  first.stdout.on('data', (d) => { seen.stdout += d; });
  first.stderr.on('data', (d) => { seen.stderr += d; });
  const t0 = Date.now();
  while (!/^escrow .*market job \d+/m.test(seen.stderr)) {
    assert(Date.now() - t0 < 30_000 && first.exitCode === null, `the first run did not reach the escrow:\n${seen.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const jobId = seen.stderr.match(/market job (\d+)/)[1];
  const nonce = await nonceOf(ctx.stack, payer.address);
  const again = cli([...args, '--json', '--args', '--paid', 'unclaimed'], { env });
  expectExit(again, 82, 'the same job while the first is in escrow');
  const e = json(again).error;
  assert(e.code === 'DUPLICATE_JOB' && String(e.existingJobId) === jobId && /^baf/.test(e.inputCid ?? ''), JSON.stringify(e));
  assert(await nonceOf(ctx.stack, payer.address) === nonce, 'the duplicate sent a transaction');
  const code = await exited;
  assert(code === 74, `the unclaimed job's run exited ${code}, want 74 (refunded)\n${seen.stderr}`);
  assert(/^done .*refunded/m.test(seen.stderr) && /^settlement .*refunded/m.test(seen.stderr) && seen.stderr.includes('refunded   0.003 ETH'), seen.stderr);
  // Live, one line per stage event: no "submitting…" line, packaging → uploading → escrow → claims in order.
  assert(!seen.stderr.includes('submitting:'), seen.stderr);
  const order = ['packaging', 'uploading', 'escrow', 'claims', 'settling', 'done'].map((s) => seen.stderr.search(new RegExp(`^${s}\\s+\\+`, 'm')));
  assert(order.every((i, n) => i >= 0 && (n === 0 || i > order[n - 1])), `stages out of order (${order}):\n${seen.stderr}`);
});

test('sandrun dev start, status, stop from a checkout: the local market runs, answers, and is gone after stop', async (ctx, h) => {
  // A checkout of its own (scripts/ and mk/ linked to this one): `sandrun dev` writes .sandrun/
  // there, so nothing is left in (or stopped from) this repository's own .sandrun/.
  const checkout = join(h.tmp, 'checkout');
  mkdirSync(checkout);
  for (const d of ['scripts', 'mk']) symlinkSync(join(root, d), join(checkout, d));
  const dir = join(checkout, '.sandrun');
  h.defer(() => run(process.execPath, [join(root, 'scripts', 'stack.mjs'), 'stop', '--dir', dir]));
  // (Its own folder, not the linked scripts/: a process's cwd is the real path.)
  const inside = checkout;
  // The CLI runs with HOME in the suite's folder: name the Kubo that setup installed under the real one.
  const env = { IPFS_BIN: run('bash', [join(root, 'scripts', 'kubo.sh'), 'bin']).stdout.trim() };
  const status = () => json(cli(['dev', 'status', '--json'], { cwd: inside, env }));
  assert(status().running === false, 'running before start');
  const port = await h.freeStackBase(Number(process.env.CLI_STACK_PORT ?? 44100) + 60);
  const started = cli(['dev', 'start', '--port', String(port), '--json'], { cwd: inside, env });
  expectExit(started, 0, 'dev start');
  const j = json(started);
  assert(j.running === true && j.stackFile === join(dir, 'stack.json') && j.stack.rpcUrl === `http://127.0.0.1:${port + 10}`, JSON.stringify(j));
  assert(j.stack.accounts.length > 0 && j.stack.accounts.every((a) => a.privateKey === undefined), 'dev start printed private keys');
  const rpc = async (method, params) => (await (await fetch(j.stack.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })).json()).result;
  assert((await rpc('eth_getCode', [j.stack.market, 'latest'])).length > 2, 'no market contract on the stack\'s chain');
  for (const w of j.stack.workers) assert((await fetch(`${w}/health`)).ok, `worker ${w} is not up`);
  const s = status();
  assert(s.running === true && s.stack.market === j.stack.market, JSON.stringify(s));
  const stopped = cli(['dev', 'stop', '--json'], { cwd: inside, env });
  expectExit(stopped, 0, 'dev stop');
  assert(status().running === false, 'running after stop');
  assert(!existsSync(join(dir, 'started.json')) && !existsSync(join(dir, 'stack.json')), 'stop left started.json or stack.json');
  const down = await fetch(j.stack.rpcUrl, { method: 'POST' }).then(() => 'answers', () => 'down');
  assert(down === 'down', `anvil still answers after stop (${j.stack.rpcUrl})`);
});

test('--help on every command, with examples', async () => {
  for (const c of ['run', 'status', 'logs', 'wait', 'verify', 'download', 'cancel', 'health', 'pool ls', 'dev']) {
    const r = cli([...c.split(' '), '--help']);
    expectExit(r, 0, `${c} --help`);
    assert(r.stdout.includes(`usage: sandrun ${c}`) && r.stdout.includes('examples:') && r.stdout.includes('--json'), `${c} --help:\n${r.stdout}`);
  }
  expectExit(cli(['help', 'exit-codes']), 0, 'help exit-codes');
});

await runSuite('cli', {
  tests,
  async setup(h) {
    const [installed, a, b, faulty, stackFile] = await Promise.all([
      Promise.resolve().then(() => h.installPackage()),
      h.startWorker(), h.startWorker(), h.startWorker(['--fault', 'alter-output']),
      h.startStack(Number(process.env.CLI_STACK_PORT ?? 44100)),
    ]);
    const work = join(h.tmp, 'work');
    const job = join(work, 'job');
    mkdirSync(job, { recursive: true });
    writeFileSync(join(job, 'main.py'), JOB);
    // No config file or colour settings from the machine running the tests.
    const env = (extra = {}) => {
      const e = { ...process.env, HOME: work, XDG_CONFIG_HOME: join(work, '.config'), SANDRUN_ENDPOINT: a.endpoint, ...extra };
      for (const k of ['NO_COLOR', 'FORCE_COLOR', 'SANDRUN_CONFIG', 'SANDRUN_WORKERS', 'SANDRUN_TRUSTED_WORKERS', 'SANDRUN_TIMEOUT',
        'SANDRUN_STACK', 'SANDRUN_RPC', 'SANDRUN_MARKET', 'SANDRUN_IPFS', 'SANDRUN_KEY_ENV', 'SANDRUN_PRIVATE_KEY', 'SANDRUN_MAX_PER_JOB', 'SANDRUN_MAX_TOTAL']) if (!(k in extra)) delete e[k];
      return e;
    };
    cli = (args, { cwd = work, env: extra } = {}) => run(installed.bin, args, { cwd, env: env(extra), timeout: 90_000 });
    cliAsync = (args, { env: extra } = {}) => spawn(installed.bin, args, { cwd: work, env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
    const stack = JSON.parse(readFileSync(stackFile, 'utf8'));
    return { ...installed, work, job, env, honest: [a, b], faulty, dead: await h.deadEndpoint(), stackFile, stackDir: dirname(stackFile), stack };
  },
});
