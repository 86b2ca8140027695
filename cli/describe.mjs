// Human-readable lines for what the SDK returns: a job's result, its verification report and a
// consensus report. Full hashes and keys are printed on purpose: they are the evidence.
import { formatBytes } from './terminal.mjs';

export function resultLine(t, result) {
  const colour = result.status === 'completed' ? 'green' : 'red';
  const parts = [t.style(colour, result.status), `exit ${result.exitCode ?? '?'}`];
  if (result.cpuSeconds !== undefined) parts.push(`cpu ${result.cpuSeconds} s`);
  if (result.memoryMb !== undefined) parts.push(`memory ${result.memoryMb} MB`);
  return `${t.style('bold', 'status')}     ${parts.join(' · ')}`;
}

export function verificationLines(t, report) {
  const head = report.ok ? t.style('green', '✓ verified') : t.style('red', '✗ NOT verified');
  const hash = report.jobHash;
  const hashNote = hash.matches === true ? 'matches the hash computed before sending'
    : hash.matches === false ? t.style('red', `DIFFERS from ${hash.expected}`) : 'not compared: the job was re-attached by id';
  const sig = report.signature;
  const sigNote = !sig.present ? t.style('red', 'none (anonymous worker)')
    : sig.valid ? `valid Ed25519 over cpu=${sig.cpu}` : t.style('red', 'INVALID');
  const lines = [
    `${t.style('bold', 'verify')}     ${head}`,
    `  job hash   ${hash.reported}, ${hashNote}`,
    `  worker     ${report.workerId ?? '(anonymous)'}${report.trusted === true ? ' (trusted)' : report.trusted === false ? t.style('red', ' (NOT trusted)') : ''}`,
    `  signature  ${sigNote}`,
  ];
  for (const o of report.outputs) {
    const check = o.matches === true ? t.style('green', '✓ bytes checked') : o.matches === false ? t.style('red', '✗ bytes DIFFER') : t.style('dim', 'not downloaded');
    lines.push(`  output     ${o.path}  ${formatBytes(o.size)}  sha256 ${o.sha256}  ${check}`);
  }
  for (const p of report.problems) lines.push(t.style('red', `  problem    ${p}`));
  return lines;
}

export function consensusLines(t, c) {
  const head = c.reached ? t.style('green', `✓ ${c.k}-of-${c.n} consensus reached`) : t.style('red', `✗ ${c.k}-of-${c.n} consensus NOT reached`);
  const lines = [`${t.style('bold', 'consensus')}  ${head}${c.resultHash ? `, result hash ${c.resultHash}` : ''}`];
  for (const e of c.evidence) {
    const agreed = c.agreeing.includes(e.workerId);
    const mark = agreed ? t.style('green', 'agreed   ') : t.style('red', 'dissented');
    lines.push(`  ${mark}  ${e.workerId}  ${e.endpoint}  job ${e.jobId}  exit ${e.exitCode ?? '?'}`);
    for (const [path, sha] of Object.entries(e.outputs ?? {})) lines.push(`             ${path}  sha256 ${sha}`);
    if (e.signature) lines.push(`             signature ${e.signature}`);
    for (const p of e.problems ?? []) lines.push(t.style('red', `             problem: ${p}`));
  }
  return lines;
}
