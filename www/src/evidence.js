// The evidence behind the badge: what was checked of a single worker's result (job hash,
// signature, key, each output's hash) or of a k-of-n run (who agreed, who dissented, and each
// worker's signed result).
import { el, formatBytes } from './dom.js';

const row = (label, ...value) => el('tr', {}, el('th', { scope: 'row' }, label), el('td', {}, ...value));
const mono = (text) => el('code', {}, text ?? '—');
const mark = (ok) => (ok === true ? el('span', { class: 'ok' }, '✓') : ok === false ? el('span', { class: 'bad' }, '✗') : el('span', { class: 'dim' }, '·'));

export function verificationEvidence(report) {
  const hash = report.jobHash ?? {};
  const sig = report.signature ?? {};
  return el('div', {},
    el('table', { class: 'evidence', 'data-testid': 'evidence-verification' },
      row('job hash', mark(hash.matches), ' ', mono(hash.reported), hash.matches === false ? el('div', { class: 'bad' }, 'computed before sending: ', mono(hash.expected)) : null),
      row('worker key', mono(report.workerId ?? 'anonymous'), report.trusted === false ? el('span', { class: 'bad' }, ' not trusted') : null),
      row('signature', mark(sig.valid), sig.present ? ` Ed25519, ${sig.valid ? 'valid' : 'INVALID'}${sig.cpu ? ` (cpu ${sig.cpu})` : ''}` : ' none'),
      sig.message ? row('signed message', mono(sig.message)) : null,
      ...(report.outputs ?? []).map((o) => row(o.path, mark(o.matches), ` ${formatBytes(o.size)} sha256 `, mono(o.sha256)))),
    report.problems?.length ? el('ul', { class: 'problems' }, report.problems.map((p) => el('li', {}, p))) : null);
}

export function consensusEvidence(c) {
  return el('div', {},
    el('p', {}, c.reached ? `${c.agreeing.length} of ${c.n} workers agree (${c.k} needed).` : `No ${c.k} of ${c.n} workers agree.`,
      c.resultHash ? el('span', {}, ' Result hash ', mono(c.resultHash)) : null),
    el('table', { class: 'evidence consensus-table' },
      el('thead', {}, el('tr', {}, el('th', {}, 'worker'), el('th', {}, 'verdict'), el('th', {}, 'outputs (sha256)'), el('th', {}, 'signature'))),
      el('tbody', {}, c.evidence.map((e) => {
        const agreed = c.agreeing.includes(e.workerId);
        return el('tr', { 'data-testid': 'consensus-worker', dataset: { worker: e.workerId, endpoint: e.endpoint, verdict: agreed ? 'agreed' : 'dissented' } },
          el('td', {}, mono(e.workerId), el('div', { class: 'dim' }, e.endpoint)),
          el('td', { class: agreed ? 'ok' : 'bad' }, agreed ? 'agreed' : 'dissented', e.problems?.length ? el('div', { class: 'dim' }, e.problems.join('; ')) : null),
          el('td', {}, Object.entries(e.outputs ?? {}).map(([p, h]) => el('div', {}, `${p} `, mono(h)))),
          el('td', {}, mono(e.signature)));
      }))));
}
