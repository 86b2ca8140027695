// Human-readable lines for a paid market job: its stage events, the estimate, the consensus of
// the nodes' results and the settlement. Amounts in ether; full hashes and addresses, since
// they are the evidence (a transaction or node can be looked up with them).
import { formatEther } from './sdk.mjs';
import { formatBytes } from './terminal.mjs';

export const eth = (wei) => (wei === undefined || wei === null ? '?' : `${formatEther(BigInt(wei))} ETH`);

/** One line per stage event; `t0` is when submit() was called. */
export function stageLine(t, e, t0) {
  const when = t.style('dim', `+${((e.at - t0) / 1000).toFixed(1).padStart(5)} s`);
  const head = `${t.style('bold', e.stage.padEnd(10))} ${when}`;
  switch (e.stage) {
    case 'packaging': return `${head}  job hash ${e.jobHash}, ${formatBytes(e.bytes)}`;
    case 'uploading': return `${head}  ${formatBytes(e.bytes)} of ${formatBytes(e.total)} to IPFS${e.cid ? `, input CID ${e.cid}` : ''}`;
    case 'escrow': return `${head}  tx ${e.txHash}, ${e.confirmations} confirmation${e.confirmations === 1 ? '' : 's'}` +
      `${e.jobId !== undefined ? `, market job ${e.jobId}` : ''}${e.escrow !== undefined ? `, ${eth(e.escrow)} in escrow` : ''}${e.gasUsed !== undefined ? `, ${e.gasUsed} gas` : ''}`;
    case 'claims': return `${head}  ${e.claimed}/${e.n} nodes claimed`;
    case 'running': return `${head}  node ${e.node}${e.workerJob ? `, its worker's job ${e.workerJob} on ${e.endpoint}` : ''}`;
    case 'verifying': {
      const verdict = e.valid === undefined ? '' : e.valid ? t.style('green', ' ✓ valid') : t.style('red', ` ✗ INVALID${e.problems?.length ? `: ${e.problems.join('; ')}` : ''}`);
      return `${head}  node ${e.node}${verdict}`;
    }
    case 'settling': return `${head}  ${e.action}`;
    case 'done': return `${head}  ${e.outcome === 'finalized' ? t.style('green', e.outcome) : t.style('red', e.outcome)}${e.txHash ? ` in ${e.txHash}` : ''}${e.error ? `: ${e.error}` : ''}`;
    default: return `${head}  ${JSON.stringify(e, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`;
  }
}

export function estimateLines(t, est) {
  const lines = [
    `${t.style('bold', 'estimate')}   ${est.allowed ? t.style('green', 'allowed') : t.style('red', 'NOT allowed')}; nothing was sent`,
    `  payment    ${eth(est.payment)} (${eth(est.pricePerNode)} per node)`,
    `  gas        postJob ${est.gas.postJob} + finalize ${est.gas.finalize} at ${formatEther(BigInt(est.gas.pricePerGas) * 1_000_000_000n)} gwei = ${eth(est.gas.cost)}`,
    `  total      ${eth(est.total)}`,
    `  nodes      ${est.nodes.length} qualify`,
  ];
  for (const n of est.nodes) lines.push(`             ${n.address}  ${n.endpoint}  price ${eth(n.price)}`);
  for (const r of est.reasons ?? []) lines.push(t.style('red', `  refused    ${r}`));
  return lines;
}

/** Each node's result as the SDK checked it, and who agreed (the evidence's jobId is the node's account). */
export function marketConsensusLines(t, c) {
  const head = c.reached ? t.style('green', `✓ ${c.k}-of-${c.n} consensus reached`) : t.style('red', `✗ ${c.k}-of-${c.n} consensus NOT reached`);
  const lines = [`${t.style('bold', 'consensus')}  ${head}${c.resultHash ? `, result hash ${c.resultHash}` : ''}`];
  for (const e of c.evidence ?? []) {
    const agreed = (c.agreeing ?? []).includes(e.workerId);
    const mark = agreed ? t.style('green', 'agreed   ') : t.style('red', 'dissented');
    lines.push(`  ${mark}  node ${e.jobId}  ${e.verified ? 'valid  ' : t.style('red', 'INVALID')}  exit ${e.exitCode ?? '?'}  result hash ${e.resultHash ?? '?'}`);
    lines.push(`             worker ${e.workerId}  ${e.endpoint ?? ''}`);
    for (const p of e.problems ?? []) lines.push(t.style('red', `             problem: ${p}`));
  }
  return lines;
}

export function settlementLines(t, s) {
  const lines = [
    `${t.style('bold', 'settlement')} ${s.outcome === 'finalized' ? t.style('green', s.outcome) : t.style('red', s.outcome)} in tx ${s.txHash}${s.sentHere ? '' : ' (settled by another client)'}`,
    `  paid       ${eth(s.paid)} to ${(s.agreeing ?? []).join(', ') || 'nobody'}`,
    `  slashed    ${eth(s.slashed)}${s.slashedNodes?.length ? ` from ${s.slashedNodes.join(', ')}` : ''}`,
    `  refunded   ${eth(s.refunded)} (credited to the poster in the market: withdraw it with market.withdraw())`,
  ];
  if (s.gasUsed) lines.push(`  gas        ${s.gasUsed} (${eth(s.gasCost)})`);
  return lines;
}
