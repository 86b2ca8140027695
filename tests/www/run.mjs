#!/usr/bin/env node
// The browser app (www/), built with Vite on the package (SANDRUN_PKG), served from its own
// origin and driven in headless Chromium (playwright-core, /usr/bin/chromium) against dev-node
// workers: two honest ones and one with `--fault alter-output`, plus an honest one behind a
// proxy that alters downloaded bytes in transit. Prints `N passed, N failed`.
// Usage: node tests/www/run.mjs [name-filter]
// Leaves build/www-verified.png (the app after a verified job), www-evidence.png (its evidence)
// www-consensus.png (a 2-of-3 run) and www-paid.png (a paid 2-of-3 job on a local market the
// suite starts: scripts/stack.mjs); docs/images/ has committed copies.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { assert, must, pkgDir, root, runSuite } from '../cli/harness.mjs';

/** Opens the app with `query`, presses Run and waits until the run has ended. */
async function runFromPage(ctx, query) {
  const page = await ctx.context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`[pageerror] ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`[console] ${m.text()}`));
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(`${ctx.origin}/?${new URLSearchParams(query)}`);
  await page.getByTestId('run').click();
  try {
    // The Run button is enabled again once the run has ended, whatever the outcome.
    await page.waitForFunction(() => !document.querySelector('[data-testid=run]').disabled &&
      document.querySelector('[data-testid=status]').textContent !== 'idle', null, { timeout: 60_000 });
  } catch (e) {
    throw new Error(`${e.message.split('\n')[0]}; status ${await page.getByTestId('status').textContent()}\n${problems.join('\n')}`);
  }
  const text = async (id) => (await page.getByTestId(id).textContent()).trim();
  return { page, status: await text('status'), badge: await text('verified'), logs: await text('logs'), problems };
}

/** The evidence dialog's text, opened from the badge (and a screenshot of it, if `shot` names one). */
async function evidence(page, shot) {
  await page.getByTestId('verified').click();
  const dialog = page.getByTestId('evidence');
  await dialog.waitFor({ state: 'visible' });
  const shown = await dialog.textContent();
  if (shot) await page.screenshot({ path: join(root, 'build', shot) });
  await dialog.getByRole('button', { name: 'Close' }).click();
  return shown;
}

/**
 * An HTTP proxy in front of a worker that flips one byte of every downloaded file (a network
 * attacker, or a broken cache): everything else, the log socket included, passes unchanged.
 */
async function tamperingProxy(h, target) {
  const to = new URL(target);
  const server = createServer((req, res) => {
    const up = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      if (!req.url.startsWith('/download/')) {
        res.writeHead(upRes.statusCode, upRes.headers);
        upRes.pipe(res);
        return;
      }
      const chunks = [];
      upRes.on('data', (c) => chunks.push(c)).on('end', () => {
        const body = Buffer.concat(chunks);
        if (body.length) body[0] ^= 0x01;
        res.writeHead(upRes.statusCode, { ...upRes.headers, 'content-length': body.length });
        res.end(body);
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('upgrade', (req, socket, head) => {
    const up = connect(Number(to.port), to.hostname, () => {
      up.write(`${req.method} ${req.url} HTTP/1.1\r\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
      up.write(head);
      up.pipe(socket).pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  h.defer(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
  return `http://127.0.0.1:${server.address().port}`;
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('a job runs from the page: live logs, completed, badge "verified" with its evidence, an output downloads', async (ctx) => {
  const r = await runFromPage(ctx, { endpoint: ctx.honest[0].endpoint });
  try {
    assert(r.status === 'completed (exit 0)', `status ${JSON.stringify(r.status)}\n${r.problems.join('\n')}`);
    assert(r.logs.includes('hello from the browser'), `logs: ${r.logs}`);
    assert(r.badge === 'verified', `badge ${JSON.stringify(r.badge)}`);
    await r.page.screenshot({ path: join(root, 'build', 'www-verified.png') });
    const shown = await evidence(r.page, 'www-evidence.png');
    assert(shown.includes(ctx.honest[0].workerId) && shown.includes('valid') && shown.includes('out/result.txt'), `evidence: ${shown}`);
    const [download] = await Promise.all([r.page.waitForEvent('download'), r.page.getByTestId('outputs').getByRole('button', { name: 'out/result.txt' }).click()]);
    const bytes = readFileSync(await download.path(), 'utf8');
    assert(bytes === '42\n', `downloaded ${JSON.stringify(bytes)}`);
  } finally {
    await r.page.close();
  }
});

test('an output altered in transit (proxy between page and worker) shows "not verified" and which output', async (ctx) => {
  const r = await runFromPage(ctx, { endpoint: ctx.proxied });
  try {
    assert(r.status.startsWith('completed'), `status ${r.status}`);
    assert(r.badge === 'not verified', `badge ${JSON.stringify(r.badge)}`);
    const shown = await evidence(r.page);
    assert(shown.includes('out/result.txt') && shown.includes('✗'), `evidence does not name the altered output: ${shown}`);
  } finally {
    await r.page.close();
  }
});

test('a worker that alters its output (--fault alter-output): its own signature holds, 2-of-2 with an honest worker is "not verified"', async (ctx) => {
  // One worker's signature proves who produced a result, not that it is right: only a
  // comparison with independent workers exposes a worker that signs a wrong result.
  const alone = await runFromPage(ctx, { endpoint: ctx.faulty.endpoint });
  await alone.page.close();
  assert(alone.badge === 'verified', `a validly signed result from the faulty worker shows ${JSON.stringify(alone.badge)}`);
  const r = await runFromPage(ctx, { workers: `${ctx.honest[0].endpoint},${ctx.faulty.endpoint}`, strategy: '2-of-2' });
  try {
    assert(r.badge === 'not verified', `badge ${JSON.stringify(r.badge)} (status ${r.status})`);
    assert(r.status.startsWith('error (CONSENSUS)'), `status ${r.status}`);
    const rows = await r.page.getByTestId('consensus-worker').evaluateAll((els) => els.map((e) => [e.dataset.worker, e.dataset.verdict]));
    assert(rows.length === 2 && rows.every(([, v]) => v === 'dissented'), `rows ${JSON.stringify(rows)}`);
  } finally {
    await r.page.close();
  }
});

test('k-of-n consensus view: 2-of-3 with a faulty worker is verified; the faulty worker dissents, the others agree', async (ctx) => {
  const workers = [...ctx.honest, ctx.faulty].map((w) => w.endpoint).join(',');
  const r = await runFromPage(ctx, { workers, strategy: '2-of-3' });
  try {
    assert(r.badge === 'verified' && r.status === 'completed (exit 0)', `badge ${JSON.stringify(r.badge)}, status ${r.status}`);
    const rows = Object.fromEntries(await r.page.getByTestId('consensus-worker').evaluateAll((els) => els.map((e) => [e.dataset.worker, e.dataset.verdict])));
    assert(rows[ctx.faulty.workerId] === 'dissented', `faulty worker: ${rows[ctx.faulty.workerId]}`);
    for (const w of ctx.honest) assert(rows[w.workerId] === 'agreed', `honest worker ${w.workerId}: ${rows[w.workerId]}`);
    await r.page.getByTestId('consensus').scrollIntoViewIfNeeded();
    await r.page.screenshot({ path: join(root, 'build', 'www-consensus.png'), fullPage: true });
    const [download] = await Promise.all([r.page.waitForEvent('download'), r.page.getByTestId('outputs').getByRole('button', { name: 'out/result.txt' }).click()]);
    assert(readFileSync(await download.path(), 'utf8') === '42\n', 'the agreed output did not download');
  } finally {
    await r.page.close();
  }
});

/**
 * The test wallet (tests/support/wallet.js: EIP-1193 over the stack's anvil, announced through
 * EIP-6963) as a page script that runs before the app, giving `address` (an unlocked anvil
 * account of the stack that no agent uses).
 */
function walletScript(stack, address) {
  const source = readFileSync(join(root, 'tests', 'support', 'wallet.js'), 'utf8').replace(/^export /gm, '');
  return `(() => {\n${source}\nconst { provider, controls } = createWallet(${JSON.stringify(stack.rpcUrl)}, ${Number(stack.chainId)});\n` +
    `controls.accounts = [${JSON.stringify(address)}];\nannounceWallet(provider, 'Test wallet', 'org.sandrun.test');\n})();`;
}

test('a paid 2-of-3 job from the page: wallet from EIP-6963, stages up to done, the first node\'s logs, faulty node slashed in the settlement', async (ctx) => {
  const page = await ctx.context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`[pageerror] ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`[console] ${m.text()}`));
  await page.addInitScript({ content: walletScript(ctx.stack, ctx.stack.accounts[2].address) });
  await page.setViewportSize({ width: 1280, height: 900 });
  try {
    await page.goto(`${ctx.origin}/?stack=./stack.json`);
    await page.getByTestId('wallet').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=wallet]').dataset.address, null, { timeout: 15_000 })
      .catch(async (e) => { throw new Error(`${e.message.split('\n')[0]}: status ${await page.getByTestId('status').textContent()}\n${problems.join('\n')}`); });
    const address = await page.getByTestId('wallet').getAttribute('data-address');
    assert(address.toLowerCase() === ctx.stack.accounts[2].address.toLowerCase(), `wallet account ${address}`);
    assert(await page.getByTestId('pay').isChecked(), '?stack= did not select the paid mode');
    await page.waitForFunction(() => document.querySelector('[data-testid=market]').value.startsWith('0x'), null, { timeout: 10_000 });
    // Every status the page shows, in order: the stages before the escrow come live (onStage).
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid=status]');
      window.statusesSeen = [];
      new MutationObserver(() => window.statusesSeen.push(el.textContent.trim())).observe(el, { childList: true, characterData: true, subtree: true });
    });
    await page.getByTestId('run').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=settlement]').dataset.outcome ||
      document.querySelector('[data-testid=status]').textContent.startsWith('error'), null, { timeout: 90_000 });
    const status = (await page.getByTestId('status').textContent()).trim();
    const stages = await page.getByTestId('stages').locator('li').evaluateAll((els) => els.map((e) => e.dataset.stage));
    assert(status === 'completed (exit 0)', `status ${status}; stages ${stages}\n${problems.join('\n')}`);
    for (const s of ['packaging', 'uploading', 'escrow', 'claims', 'running', 'verifying', 'settling', 'done']) assert(stages.includes(s), `no ${s} in the stages: ${stages}`);
    assert(stages.at(-1) === 'done', `last stage ${stages.at(-1)}`);
    const seen = await page.evaluate(() => window.statusesSeen);
    const at = ['packaging', 'uploading', 'escrow: confirm the payment in the wallet', 'escrow', 'claims'].map((s) => seen.indexOf(s));
    assert(at.every((i, n) => i >= 0 && (n === 0 || i > at[n - 1])), `statuses out of order (${at}): ${seen}`);
    const settlement = await page.getByTestId('settlement').textContent();
    const faulty = ctx.stack.agents.find((a) => a.faulty).address;
    assert(await page.getByTestId('settlement').getAttribute('data-outcome') === 'finalized', settlement);
    assert(settlement.includes(`0.01 ETH from ${faulty}`) && settlement.includes('0.02 ETH to'), `settlement: ${settlement}`);
    assert((await page.getByTestId('verified').textContent()).trim() === 'verified', 'badge');
    const logs = await page.getByTestId('logs').textContent();
    assert(logs.includes('hello from the browser'), `the first node's logs: ${logs}`);
    const rows = Object.fromEntries(await page.getByTestId('consensus-worker').evaluateAll((els) => els.map((e) => [e.dataset.endpoint, e.dataset.verdict])));
    const faultyWorker = ctx.stack.agents.find((a) => a.faulty).worker;
    assert(rows[faultyWorker] === 'dissented', `consensus rows ${JSON.stringify(rows)}`);
    await page.getByTestId('stages').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(root, 'build', 'www-paid.png'), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('outputs').getByRole('button', { name: 'out/result.txt' }).click()]);
    assert(readFileSync(await download.path(), 'utf8') === '42\n', 'the agreed output did not download from IPFS');
  } finally {
    await page.close();
  }
});

await runSuite('www', {
  tests,
  async setup(h) {
    const dist = join(h.tmp, 'dist');
    const vite = join(root, 'tools', 'node_modules', 'vite', 'bin', 'vite.js');
    const [honestA, honestB, faulty, stackFile] = await Promise.all([h.startWorker(), h.startWorker(), h.startWorker(['--fault', 'alter-output']),
      h.startStack(Number(process.env.WWW_STACK_PORT ?? 44300))]);
    must(process.execPath, [vite, 'build', 'www', '--logLevel', 'warn', '--outDir', dist, '--emptyOutDir'],
      { cwd: root, env: { ...process.env, SANDRUN_PKG: pkgDir }, timeout: 180_000 });
    // The page reads the market from ?stack=: served with the app, addresses only (no keys).
    const stack = JSON.parse(readFileSync(stackFile, 'utf8'));
    writeFileSync(join(dist, 'stack.json'), JSON.stringify({ ...stack, accounts: stack.accounts.map((a) => ({ address: a.address })) }));
    return {
      stack,
      origin: await h.serve(dist),
      context: await h.browser(),
      honest: [honestA, honestB],
      faulty,
      proxied: await tamperingProxy(h, honestA.endpoint),
    };
  },
});
