// The page: the editor, where to run, the run itself, and what it shows afterwards.
// `?endpoint=URL` sets the worker; `?workers=URL,URL,…&strategy=2-of-3` selects consensus;
// `?stack=URL` (a served stack.json, addresses only) selects a paid job on that market.
import { el, formatBytes } from './dom.js';
import { createFileEditor } from './files.js';
import { runJob } from './job.js';
import { consensusEvidence, verificationEvidence } from './evidence.js';
import { connectWallet, eth, listWallets, loadStack, payJob, stageText } from './market.js';

const $ = (id) => document.getElementById(id);
const ui = {
  endpoint: $('endpoint'), workers: $('workers'), strategy: $('strategy'), run: $('run'), cancel: $('cancel'),
  status: $('status'), verified: $('verified'), logs: $('logs'), outputs: $('outputs'), consensus: $('consensus'),
  evidence: $('evidence'), evidenceBody: $('evidence-body'), args: $('args'), outputGlobs: $('output-globs'),
  wallet: $('wallet'), walletList: $('wallet-list'), payAmount: $('pay-amount'), payStrategy: $('pay-strategy'),
  chainId: $('chain-id'), market: $('market'), ipfs: $('ipfs'), marketView: $('market-view'), stages: $('stages'),
  settlement: $('settlement'),
};
const editor = createFileEditor({ tabs: $('tabs'), textarea: $('code'), entrypoint: $('entrypoint'), addForm: $('add-file'), newName: $('new-file') });

const params = new URLSearchParams(location.search);
if (params.get('endpoint')) ui.endpoint.value = params.get('endpoint');
if (params.get('workers')) {
  ui.workers.value = params.get('workers').split(',').join('\n');
  document.querySelector('input[value=consensus]').checked = true;
}
if (params.get('strategy')) ui.strategy.value = params.get('strategy');
let gateways = [];
if (params.get('stack')) {
  document.querySelector('input[value=pay]').checked = true;
  loadStack(params.get('stack')).then((s) => {
    ui.market.value = s.market;
    ui.ipfs.value = s.ipfsApi;
    ui.chainId.value = s.chainId ?? '';
    gateways = s.gateways;
  }, (e) => setStatus(`could not load the stack: ${e.message}`, 'bad'));
}

let wallets = []; // from the EIP-6963 list
let wallet = null; // the connected one

async function connect() {
  try {
    if (!wallets.length) {
      wallets = await listWallets();
      if (!wallets.length) throw new Error('no wallet in this browser (none announced itself through EIP-6963)');
      ui.walletList.replaceChildren(...wallets.map((w, i) => el('option', { value: i }, w.info.name)));
      ui.walletList.hidden = wallets.length < 2;
    }
    const chosen = wallets[Number(ui.walletList.value || 0)];
    const address = await connectWallet(chosen);
    wallet = chosen;
    ui.wallet.textContent = `${chosen.info.name} · ${address.slice(0, 6)}…${address.slice(-4)}`;
    ui.wallet.dataset.address = address;
    ui.wallet.title = address;
  } catch (e) {
    setStatus(`wallet: ${e.message}`, 'bad');
  }
}
ui.wallet.addEventListener('click', connect);
ui.walletList.addEventListener('change', connect);

let evidence = null; // what the badge opens
let running = null; // { controller, exec }

function setStatus(text, state = '') {
  ui.status.textContent = text;
  ui.status.className = state;
}

function setBadge(ok, content) {
  ui.verified.hidden = false;
  ui.verified.textContent = ok ? 'verified' : 'not verified';
  ui.verified.className = `badge ${ok ? 'ok' : 'bad'}`;
  evidence = content;
}

function showOutputs(exec, outputs) {
  ui.outputs.replaceChildren(...Object.entries(outputs).map(([path, o]) => el('li', { dataset: { path } },
    el('button', { type: 'button', class: 'link', onclick: () => save(exec, path) }, path),
    ` ${formatBytes(o.size)} `, el('code', { class: 'dim' }, `sha256 ${o.sha256.slice(0, 16)}…`))));
}

/** Downloads one output (checked against its signed or agreed sha256) and hands it to the browser. */
async function save(exec, path) {
  try {
    const bytes = await exec.download(path);
    const url = URL.createObjectURL(new Blob([bytes]));
    el('a', { href: url, download: path.split('/').pop() }).click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    setStatus(`download of ${path} failed: ${e.message}`, 'bad');
  }
}

function request() {
  const mode = document.querySelector('input[name=mode]:checked').value;
  const split = (text, sep) => text.split(sep).map((s) => s.trim()).filter(Boolean);
  return {
    mode,
    endpoint: ui.endpoint.value.trim(),
    workers: split(ui.workers.value, /[\s,]+/),
    strategy: ui.strategy.value.trim(),
    files: editor.files(),
    entrypoint: editor.entrypoint(),
    args: split(ui.args.value, /\s+/),
    outputs: split(ui.outputGlobs.value, /[\s,]+/),
    amount: ui.payAmount.value.trim(),
    payStrategy: ui.payStrategy.value.trim(),
    market: ui.market.value.trim(),
    ipfsApi: ui.ipfs.value.trim(),
    gateways,
    chainId: ui.chainId.value.trim() ? Number(ui.chainId.value) : undefined,
  };
}

/** A stage event in the list: a repeated stage (bytes, confirmations, claims) updates its line. */
function showStage(e, t0) {
  const key = `${e.stage}${e.node ?? ''}`;
  const last = ui.stages.lastElementChild;
  const item = last?.dataset.key === key ? last : ui.stages.appendChild(el('li', { dataset: { key, stage: e.stage } }));
  item.textContent = stageText(e, t0);
  item.className = e.stage === 'done' ? (e.outcome === 'finalized' ? 'ok' : 'bad') : e.valid === false ? 'bad' : '';
}

function showSettlement(s) {
  ui.settlement.dataset.outcome = s.outcome;
  ui.settlement.replaceChildren(el('table', { class: 'evidence' },
    ...[['outcome', s.outcome], ['transaction', s.txHash], ['paid', `${eth(s.paid)} to ${s.agreeing.join(', ') || 'nobody'}`],
      ['slashed', `${eth(s.slashed)}${s.slashedNodes.length ? ` from ${s.slashedNodes.join(', ')}` : ''}`],
      ['refunded', `${eth(s.refunded)} (credited to the poster in the market)`], ['gas', `${s.gasUsed} (${eth(s.gasCost)})`]]
      .map(([k, v]) => el('tr', { dataset: { field: k } }, el('th', { scope: 'row' }, k), el('td', {}, el('code', {}, String(v)))))));
}

/** The paid mode's run (the wallet signs the escrow). */
async function pay(req, on) {
  if (!wallet) await connect();
  if (!wallet) throw new Error('connect a wallet first');
  ui.marketView.hidden = false;
  const t0 = Date.now();
  return payJob({ ...req, strategy: req.payStrategy }, wallet, {
    ...on,
    stage: (e) => showStage(e, t0),
    settlement: showSettlement,
  });
}

async function start() {
  const controller = new AbortController();
  running = { controller, exec: null };
  ui.run.disabled = true;
  ui.cancel.disabled = false;
  ui.logs.textContent = '';
  ui.outputs.replaceChildren();
  ui.consensus.hidden = true;
  ui.verified.hidden = true;
  ui.stages.replaceChildren();
  ui.settlement.replaceChildren();
  delete ui.settlement.dataset.outcome;
  ui.marketView.hidden = true;
  evidence = null;
  const req = request();
  try {
    await (req.mode === 'pay' ? pay : runJob)(req, {
      status: (text) => setStatus(text),
      log: (chunk) => { ui.logs.textContent += chunk; ui.logs.scrollTop = ui.logs.scrollHeight; },
      submitted: (exec) => { running.exec = exec; },
      result: (result) => showOutputs(running.exec, result.outputs),
      verification: (report) => setBadge(report.ok, verificationEvidence(report)),
      consensus: (report) => {
        const view = consensusEvidence(report);
        ui.consensus.replaceChildren(el('h3', {}, `Consensus ${report.k}-of-${report.n}`), view);
        ui.consensus.hidden = false;
        setBadge(report.reached, consensusEvidence(report));
      },
    }, controller.signal);
    const s = ui.status.textContent;
    setStatus(s, s.startsWith('completed') ? 'ok' : 'bad');
  } catch (e) {
    // The code, not the class name: a minifying bundler renames classes.
    const what = e?.code === 'CANCELLED' ? 'cancelled' : `error (${e?.code ?? 'unexpected'}): ${e?.message ?? e}`;
    setStatus(what, 'bad');
    for (const p of e?.errors ?? []) ui.logs.append(`${p.field}: ${p.message}\n`);
  } finally {
    ui.run.disabled = false;
    ui.cancel.disabled = true;
    running = null;
  }
}

ui.run.addEventListener('click', start);
ui.cancel.addEventListener('click', async () => {
  if (!running) return;
  setStatus('cancelling');
  if (running.exec) await running.exec.cancel().catch(() => {});
  running?.controller.abort();
});
ui.verified.addEventListener('click', () => {
  if (!evidence) return;
  ui.evidenceBody.replaceChildren(evidence);
  ui.evidence.showModal();
});
