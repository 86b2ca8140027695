// The paid market job from the page: a wallet from the EIP-6963 list, then package → IPFS →
// escrow (signed in the wallet) → nodes → k-of-n verification → settlement, reported stage by
// stage. The market (contract, IPFS API, chain id) comes from `?stack=URL` (a served
// stack.json of `sandrun dev` / `make stack`, addresses only) or from the fields.
import { Sandrun, formatEther, init } from '@sandrun/sdk/full';

export const eth = (wei) => (wei === undefined || wei === null ? '?' : `${formatEther(BigInt(wei))} ETH`);

/** The wallets the page has (EIP-6963 announcements, else window.ethereum). */
export async function listWallets() {
  // Sandrun.wallets() is a wasm export: the module must be loaded first (only Sandrun.create()
  // loads it by itself), else "reading 'sandrun_wallets'" of undefined.
  await init();
  return Sandrun.wallets();
}

/** Asks the wallet for its account; resolves with the address the job will pay from. */
export async function connectWallet(wallet) {
  const [address] = await wallet.provider.request({ method: 'eth_requestAccounts' });
  if (!address) throw new Error(`${wallet.info.name} gave no account`);
  return address;
}

/** The market of a served stack.json: only what a page needs (no keys are read even if present). */
export async function loadStack(url) {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`stack ${url}: HTTP ${res.status}`);
  const s = await res.json();
  return { market: s.market, ipfsApi: s.ipfsApi, gateways: s.gateways ?? [], chainId: s.chainId };
}

/**
 * `request`: { files, entrypoint, args, outputs, amount, strategy, market, ipfsApi, gateways, chainId }
 * `on`: { status(text), submitted(exec), stage(event), log(chunk), result(result), consensus(report),
 *   settlement(settlement) }. Rejects with the SDK's error (a refund: CONSENSUS, with both reports).
 */
export async function payJob(request, wallet, on) {
  const sandrun = await Sandrun.create({
    // The wallet signs; the page never sees a key. One chain read every 250 ms: each stage
    // shows soon after it happened on chain.
    chain: { provider: wallet.provider, pollIntervalMs: 250, ...(request.chainId ? { chainId: request.chainId } : {}) },
    ipfs: { api: request.ipfsApi, ...(request.gateways?.length ? { gateways: request.gateways } : {}) },
    market: request.market,
  });
  // Plain digits are wei (the SDK takes a bigint for those, a string only with a unit).
  const amount = /^\d+$/.test(request.amount) ? BigInt(request.amount) : request.amount;
  let job = sandrun.job().files(request.files).entrypoint(request.entrypoint).payment(amount);
  if (request.strategy) job = job.consensus(request.strategy);
  if (request.args.length) job = job.args(request.args);
  if (request.outputs.length) job = job.outputs(request.outputs);

  // Each stage as it happens: packaging, uploading and escrow (confirm in the wallet) while
  // submit() runs, then the nodes' stages until done.
  on.status('packaging');
  const exec = await job.submit({
    onStage: (e) => {
      on.stage(e);
      // Once the inputs are on IPFS, the next step waits for the wallet.
      if (e.stage === 'uploading' && e.cid) on.status('escrow: confirm the payment in the wallet');
      else if (e.stage !== 'done') on.status(e.stage);
    },
  });
  on.submitted(exec);
  // The first node's run, from its worker, while the stages go on (a job nobody ran has none:
  // NOT_FOUND once it is settled, which is not the job's failure).
  const logs = (async () => {
    try {
      for await (const chunk of exec.logs()) on.log?.(chunk);
    } catch (e) {
      if (e?.code !== 'NOT_FOUND') on.log?.(`(logs: ${e?.message ?? e})\n`);
    }
  })();
  let result;
  try {
    result = await exec.wait();
  } catch (e) {
    await logs;
    if (e?.report) on.consensus(e.report);
    if (e?.settlement) on.settlement(e.settlement);
    throw e;
  }
  await logs;
  on.result(result);
  on.consensus(result.consensus);
  on.settlement(result.settlement);
  on.status(`${result.status} (exit ${result.exitCode})`);
  return exec;
}

/** A stage event as one line of the list. */
export function stageText(e, t0) {
  const when = `+${((e.at - t0) / 1000).toFixed(1)} s`;
  const short = (h) => (typeof h === 'string' && h.length > 20 ? `${h.slice(0, 10)}…${h.slice(-6)}` : h);
  const what = {
    packaging: () => `job hash ${short(e.jobHash)}, ${e.bytes} B`,
    uploading: () => `${e.bytes} of ${e.total} B to IPFS${e.cid ? `, CID ${short(e.cid)}` : ''}`,
    escrow: () => `tx ${short(e.txHash)}, ${e.confirmations} confirmation(s)${e.escrow !== undefined ? `, ${eth(e.escrow)} in escrow` : ''}`,
    claims: () => `${e.claimed}/${e.n} nodes claimed`,
    running: () => `node ${short(e.node)}${e.workerJob ? `, run ${e.workerJob} on ${e.endpoint}` : ''}`,
    verifying: () => `node ${short(e.node)}${e.valid === undefined ? '' : e.valid ? ' ✓ valid' : ` ✗ invalid: ${(e.problems ?? []).join('; ')}`}`,
    settling: () => e.action,
    done: () => `${e.outcome}${e.txHash ? ` in ${short(e.txHash)}` : ''}${e.error ? `: ${e.error}` : ''}`,
  }[e.stage];
  return `${e.stage} ${when} ${what ? what() : ''}`;
}
