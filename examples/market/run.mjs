// A paid, verified 2-of-3 market job end to end on the local market (`make stack`: three dev-node
// workers, anvil, Kubo, SandrunMarket, three node agents, the third faulty):
//   make demo-market       (or: node examples/market/run.mjs, after make pkg)
// It reads .sandrun/stack.json (STACK_JSON to use another), starting the stack first when there
// is none and stopping it again at the end. It prints every stage of the job as it happens, each
// node's result as the SDK verified it, the consensus and the settlement, and the balances before
// and after (the poster's account, the market's credits, the agents' bonds). Exits 1 when a check
// fails: the job must be finalized with the honest agents paid and the faulty one slashed.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandrun, formatEther } from '@sandrun/sdk/full';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const stackJson = process.env.STACK_JSON ?? join(root, '.sandrun', 'stack.json');
// A stack runs while its started.json (what `make stack-stop` stops) is there; stack.json stays
// after a stop.
const running = process.env.STACK_JSON ? existsSync(stackJson) : existsSync(join(root, '.sandrun', 'started.json'));
let startedHere = false;
if (!running) {
  if (!existsSync(join(root, 'scripts', 'stack.mjs'))) {
    // A copy outside the repository (the docs tests run every example from an installed
    // package): there is no stack to start, and starting one is `make stack`'s job.
    console.log('demo-market: no .sandrun/stack.json and no scripts/stack.mjs here: run it from the repository (make demo-market)');
    process.exit(0);
  }
  console.log('demo-market: no stack running; starting one (make stack)…');
  execFileSync(process.execPath, [join(root, 'scripts', 'stack.mjs'), 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  startedHere = true;
}
const stack = JSON.parse(readFileSync(stackJson, 'utf8'));
const stop = () => {
  if (startedHere) execFileSync(process.execPath, [join(root, 'scripts', 'stack.mjs'), 'stop'], { stdio: 'inherit' });
};

let failed = false;
const check = (ok, what) => {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failed = true;
};
const eth = (wei) => `${formatEther(wei)} ETH`;
const short = (a) => `${a.slice(0, 8)}…${a.slice(-4)}`;

try {
  const poster = stack.accounts[0];
  const sandrun = await Sandrun.create({
    chain: { rpcUrl: stack.rpcUrl, privateKey: poster.privateKey, chainId: stack.chainId, pollIntervalMs: 200 },
    ipfs: { api: stack.ipfsApi, gateways: stack.gateways },
    // The deployment block: every read of the market's logs starts there, not at block 0.
    market: { address: stack.market, fromBlock: stack.marketBlock },
    limits: { maxPerJob: '0.1 ether', maxTotal: '1 ether' },
  });
  const market = await sandrun.market(stack.market);
  const rpc = async (method, params) => {
    const res = await fetch(stack.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
    return (await res.json()).result;
  };
  const balances = async () => {
    const out = { poster: BigInt(await rpc('eth_getBalance', [poster.address, 'latest'])), credit: await market.balanceOf(poster.address), agents: [] };
    for (const a of stack.agents) {
      const n = await market.node(a.address);
      out.agents.push({ ...a, bond: n.bond, credit: await market.balanceOf(a.address) });
    }
    return out;
  };

  console.log(`market ${stack.market} on chain ${stack.chainId} (${stack.rpcUrl}); IPFS ${stack.ipfsApi}`);
  const health = await sandrun.marketHealth();
  console.log(`health: ${health.status} (chain ${health.chain.status}, head ${health.chain.headBlock}; IPFS ${health.ipfs.status}; workers ${health.workers.map((w) => w.status).join(', ')})`);

  const job = sandrun.job()
    .code([
      'import hashlib',
      "data = b'sandrun market demo\\n' * 1000",
      "open('digest.txt', 'w').write(hashlib.sha256(data).hexdigest() + '\\n')",
      "print('digest written')",
      `# run ${Date.now()}`,
    ].join('\n'))
    .outputs(['digest.txt'])
    .payment('0.03 ether')
    .consensus('2-of-3')
    .deadline(300);

  const estimate = await job.estimate();
  console.log(`\nestimate: ${estimate.nodes.length} qualifying nodes, payment ${eth(estimate.payment)} (${eth(estimate.pricePerNode)} per node), gas ≤ ${estimate.gas.postJob} + ${estimate.gas.finalize} at ${formatEther(estimate.gas.pricePerGas * 1_000_000_000n)} gwei → total ≤ ${eth(estimate.total)}; allowed: ${estimate.allowed}${estimate.reasons.length ? ` (${estimate.reasons.join('; ')})` : ''}`);

  const before = await balances();
  const t0 = Date.now();
  const exec = await job.submit();
  console.log(`\nsubmitted as ${exec.id}; stages:`);
  for await (const e of exec.progress()) {
    const t = `+${String(e.at - t0).padStart(5)} ms`;
    const { stage, at, ...rest } = e;
    const text = Object.entries(rest)
      .filter(([k]) => k !== 'pins')
      .map(([k, v]) => `${k}=${typeof v === 'string' && v.startsWith('0x') && v.length > 20 ? short(v) : v}`)
      .join(' ');
    console.log(`  ${t}  ${stage.padEnd(10)} ${text}`);
  }
  const result = await exec.wait();
  console.log('\nverification (each node\'s result, checked by the SDK):');
  for (const ev of result.consensus.evidence) {
    console.log(`  node ${short(ev.jobId)}  ${ev.verified ? 'VALID  ' : 'INVALID'}  resultHash ${short(ev.resultHash)}${ev.problems.length ? `  — ${ev.problems.join('; ')}` : ''}`);
  }
  const s = result.settlement;
  console.log(`consensus: ${result.consensus.reached ? 'reached' : 'not reached'} (${result.consensus.agreeing.length} of ${result.consensus.n} agree, k = ${result.consensus.k})`);
  console.log(`settlement: ${s.outcome} in ${short(s.txHash)} (${s.gasUsed} gas): paid ${eth(s.paid)}, slashed ${eth(s.slashed)}, refunded ${eth(s.refunded)}; slashed nodes ${s.slashedNodes.map(short).join(', ') || 'none'}`);
  const digest = new TextDecoder().decode(await exec.download('digest.txt')).trim();
  console.log(`output digest.txt (from IPFS, checked against the agreed sha256): ${digest}`);

  const after = await balances();
  console.log('\nbalances            before                 after');
  console.log(`  poster account    ${eth(before.poster).padEnd(22)} ${eth(after.poster)}`);
  console.log(`  poster credit     ${eth(before.credit).padEnd(22)} ${eth(after.credit)}   (refunds; market.withdraw())`);
  for (const [i, a] of after.agents.entries()) {
    const b = before.agents[i];
    console.log(`  agent ${i + 1}${a.faulty ? ' (faulty)' : '         '} credit ${eth(b.credit).padEnd(15)} ${eth(a.credit).padEnd(14)} bond ${eth(b.bond)} → ${eth(a.bond)}`);
  }

  console.log('\nchecks:');
  check(s.outcome === 'finalized', 'the job was finalized');
  check(result.consensus.reached && result.consensus.agreeing.length >= 2, '2 of 3 verified results agree');
  const faulty = stack.agents.find((a) => a.faulty);
  check(s.slashedNodes.map((x) => x.toLowerCase()).includes(faulty.address.toLowerCase()), 'the faulty agent was slashed');
  const honest = after.agents.filter((a) => !a.faulty);
  check(honest.every((a, i) => a.credit - before.agents.filter((x) => !x.faulty)[i].credit === 10n ** 16n), 'each honest agent was credited its 0.01 ETH');
  check(after.credit - before.credit === s.refunded, "the faulty agent's share was credited back to the poster");
  check(digest.length === 64, 'the output downloaded and checked');
  console.log(`\ntime from submit() to settled: ${Date.now() - t0} ms; poster paid ${eth(before.poster - after.poster)} (escrow and gas)`);
} catch (e) {
  console.error('demo-market failed:', e);
  failed = true;
} finally {
  stop();
}
process.exit(failed ? 1 : 0);
