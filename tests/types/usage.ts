// Typed usage of @sandrun/sdk: must compile under `tsc --strict` (tests/pkg/run.mjs, "types").
// Checks the public surface as a TypeScript user meets it: the builder chain, results, logs as an
// async iterable, disposables, and the error classes; plugins, pools and nodes through the full
// entry '@sandrun/sdk/full'.
import {
  init,
  Sandrun,
  JobBuilder,
  JobExecution,
  SandrunError,
  ValidationError,
  HttpError,
  NetworkError,
} from '@sandrun/sdk';

export async function example(): Promise<void> {
  await init();
  const sandrun: Sandrun = await Sandrun.create({ endpoint: 'http://127.0.0.1:8443' });

  const base: JobBuilder = sandrun.job().file('main.py', 'print("hi")').entrypoint('main.py');
  const builder: JobBuilder = base.args(['--n', '3']).outputs(['out/*']);
  const exec: JobExecution = await builder.submit();
  const id: string = exec.id;

  for await (const chunk of exec.logs()) {
    const text: string = chunk;
    void text;
  }
  const result = await exec.wait();
  const status: string = result.status;
  const report = await exec.verify();
  const ok: boolean = report.ok;
  const bytes: Uint8Array = await exec.download('out/result.txt');
  void [id, status, ok, bytes];

  {
    using scoped = sandrun.job();
    void scoped;
  }
  exec.free();

  try {
    await Sandrun.create({ endpoint: 'not a url' });
  } catch (e) {
    if (e instanceof ValidationError) {
      const code: string = e.code;
      const retryable: boolean = e.retryable;
      const message: string = e.message;
      void [code, retryable, message];
    } else if (e instanceof HttpError || e instanceof NetworkError) {
      const base: SandrunError = e;
      void base;
    }
  }
}

// Pools, consensus, nodes and plugins (issues 4, 5): the full entry, '@sandrun/sdk/full'.
import { Sandrun as FullSandrun, Pool, Node, ConsensusError, retryPlugin, metricsPlugin } from '@sandrun/sdk/full';
import type { ConsensusReport, NodeInfo, ScheduledJob, NodeStatus, BuiltinPlugin } from '@sandrun/sdk/full';

export async function plugins(): Promise<FullSandrun> {
  const metrics: BuiltinPlugin = metricsPlugin();
  const sandrun = (await FullSandrun.create({ endpoint: 'http://127.0.0.1:8443' }))
    .use(retryPlugin({ maxAttempts: 3 }))
    .use(metrics)
    .use({ name: 'mine', onSubmit: () => {} });
  const exec = await sandrun.job().code('print(1)').use(retryPlugin()).submit();
  void exec;
  return sandrun;
}

export async function pools(sandrun: FullSandrun, src: string): Promise<void> {
  const pool: Pool = await sandrun.pool()
    .workers(['http://127.0.0.1:8443', { url: 'http://127.0.0.1:8444', workerId: 'key', region: 'eu' }])
    .discover({ minNodes: 2, maxNodes: 5, capabilities: { gpus: 1 }, regions: ['eu'], maxPrice: 1, minReputation: 0.9 })
    .region('eu').minGPUs(1).minMemory(1024).strategy('least-loaded').redundancy(3)
    .join();
  await sandrun.pool().coordinator('http://127.0.0.1:8000').join();
  await sandrun.pool().broker('http://127.0.0.1:8001').nodes(['id']).consensus({ k: 2, n: 3 }).join();
  pool.on('consensus-achieved', (e) => void e);
  const nodes: NodeInfo[] = pool.nodes;
  const healthy: boolean = nodes[0].healthy;
  const exec = await sandrun.job().file('main.py', src).entrypoint('main.py')
    .consensus('2-of-3').with(pool).submit();
  try {
    const result = await exec.wait();
    const c: ConsensusReport | undefined = result.consensus;
    const agreeing: string[] = c?.agreeing ?? [];
    const endpoint: string | undefined = result.route?.endpoint;
    void [agreeing, endpoint, healthy];
  } catch (e) {
    if (e instanceof ConsensusError) {
      const reached: boolean = e.report.reached;
      const signature: string | null | undefined = e.evidence[0]?.signature;
      void [reached, signature];
    }
  }
  const one = await pool.distribute(sandrun.job().code('print(1)'));
  const done: ScheduledJob[] = await pool.schedule([sandrun.job().code('print(2)')], { concurrency: 2 });
  const checked: NodeInfo[] = await pool.healthCheck();
  void [one, done, checked, pool.size, pool.capacity];
  pool.close();

  const node: Node = await sandrun.node().endpoint('http://127.0.0.1:8443')
    .capabilities({ gpus: 0 }).pricing({ perJob: 0.01 }).region('eu').heartbeatInterval(10_000)
    .register('http://127.0.0.1:8001');
  await node.heartbeat();
  node.on('job-completed', (e) => void e);
  node.startListening({ pollIntervalMs: 1000 });
  const status: NodeStatus = node.status();
  const id: string = node.id;
  node.stopListening();
  node.close();
  void [status, id];
}

// The chain layer (issue 9): the full entry's Market, wallets, units and chain errors.
import {
  Market,
  parseEther,
  parseUnits,
  formatEther,
  RevertError,
  UserRejectedError,
  WrongChainError,
  ReplacedError,
  InsufficientFundsError,
} from '@sandrun/sdk/full';
import type {
  AnnouncedWallet,
  Eip1193Provider,
  JobInfo,
  JobSettlement,
  MarketLog,
  MarketNode,
  PostedJob,
  TxReceipt,
} from '@sandrun/sdk/full';

export async function chain(fallback: Eip1193Provider, key: string): Promise<void> {
  const wallets: AnnouncedWallet[] = await FullSandrun.wallets({ timeoutMs: 100 });
  const provider: Eip1193Provider = wallets[0]?.provider ?? fallback;
  const name: string | undefined = wallets[0]?.info.rdns;
  const viaWallet = await FullSandrun.create({
    chain: { provider, chainId: 31337, confirmations: 2, maxFeePerGas: '50 gwei', addChain: { chainName: 'anvil', rpcUrls: ['http://127.0.0.1:8545'] } },
  });
  const local = await FullSandrun.create({ chain: { rpcUrl: 'http://127.0.0.1:8545', privateKey: key, chainId: 31337n, pollIntervalMs: 500 } });
  const address: string = await local.deployMarket({ minBond: parseEther('0.1'), claimBond: '0.01 ether', unbondingDelay: 60 });
  const market: Market = await viaWallet.market(address);
  const chainId: bigint = market.chainId;
  const registered: TxReceipt = await market.registerNode(
    { workerKey: 'base64 key', endpoint: 'http://127.0.0.1:8443', price: '0.01 ether', bond: parseEther('0.1') },
    { confirmations: 1, maxFeePerGas: parseUnits('30 gwei') },
  );
  const gas: bigint = registered.gasUsed;
  const status: 'success' | 'reverted' = registered.status;
  const deadline = new Date(Date.now() + 3_600_000);
  const posted: PostedJob = await market.postJob(
    { jobHash: '0x' + '11'.repeat(32), inputCid: 'bafy', k: 2, n: 3, pricePerNode: parseEther('0.01'), deadline },
    { onSent: (hash: string) => void hash },
  );
  const jobId: bigint = posted.jobId;
  await market.claim(jobId);
  await market.submitResult(jobId, { resultHash: '0x' + '22'.repeat(32), outputCid: 'bafy', signature: 'base64 sig' });
  const settled: JobSettlement = await market.finalize(jobId);
  const agreeing: string[] = settled.agreeing;
  const paid: bigint = settled.paid;
  const job: JobInfo = await market.job(1);
  const state: 'open' | 'claimed' | 'finalized' | 'refunded' | 'cancelled' = job.state;
  const node: MarketNode = await market.node(agreeing[0]);
  const earned: bigint = await market.balanceOf(agreeing[0]);
  const stop: () => void = market.watch('JobPosted', { fromBlock: 0, confirmations: 2, args: { poster: address } }, (log: MarketLog) => {
    if (log.event === 'JobPosted') {
      const price: bigint = log.args.pricePerNode;
      const removed: boolean = log.removed;
      void [price, removed];
    }
  });
  stop();
  const faster: string = await market.speedUp(posted.txHash, { maxFeePerGas: '100 gwei' });
  await market.cancelTransaction(faster);
  const text: string = formatEther(paid + gas);
  try {
    await market.withdraw();
  } catch (e) {
    if (e instanceof RevertError) {
      const errorName: string = e.errorName;
      void [errorName, e.args];
    } else if (e instanceof WrongChainError) {
      const expected: bigint | undefined = e.expectedChainId;
      void expected;
    } else if (e instanceof ReplacedError) {
      const reason: 'repriced' | 'cancelled' | 'replaced' | undefined = e.reason;
      void reason;
    } else if (e instanceof UserRejectedError || e instanceof InsufficientFundsError) {
      const txHash: string | undefined = e.txHash;
      void txHash;
    }
  }
  market.free();
  void [name, chainId, status, state, node.workerKey, earned, text];
}

// IPFS (issue 10): `sandrun.ipfs()` in the full entry.
import { IpfsError, CidMismatchError } from '@sandrun/sdk/full';
import type { Ipfs, AddResult, DirectoryContents, IpfsAttempt, IpfsHealth, IpfsStat, PinList, PinResult, PinStatus } from '@sandrun/sdk/full';

export async function ipfs(file: Blob, stream: ReadableStream<Uint8Array>): Promise<void> {
  const sandrun = await FullSandrun.create({
    ipfs: {
      api: 'http://127.0.0.1:5001',
      apiHeaders: { Authorization: 'Basic dXNlcjpwYXNz' },
      gateways: ['http://127.0.0.1:8080'],
      pinning: [{ endpoint: 'https://pins.example', token: 't' }],
      timeoutMs: 10_000,
      race: false,
    },
  });
  const ipfs: Ipfs = sandrun.ipfs();
  const v0: string = await ipfs.cid('hello sandrun\n');
  const v1: string = await ipfs.cid(stream, { cidVersion: 1, rawLeaves: true, chunker: 'size-262144', wrapWithDirectory: true, name: 'a.txt' });
  const tree: string = await ipfs.cid({ 'a.txt': 'a', 'sub/b.bin': new Uint8Array(1), empty: null });
  const added: AddResult = await ipfs.add(file, { pin: true, progress: (bytes: number) => void bytes, signal: AbortSignal.timeout(1000) });
  const dir = await ipfs.addDirectory({ 'main.py': 'print(1)' }, { cidVersion: 1 });
  const paths: string[] = dir.entries.map((e) => e.path);
  const bytes: Uint8Array = await ipfs.get(added.cid);
  const body: ReadableStream<Uint8Array> = await ipfs.get(added.cid, { stream: true, format: 'raw', race: true });
  const part: Uint8Array = await ipfs.cat(added.cid, { offset: 10, length: 5, onAttempt: (a: IpfsAttempt) => void [a.source, a.ok, a.problem] });
  const contents: DirectoryContents = await ipfs.getDirectory(dir.cid);
  const file0: Uint8Array | undefined = contents.files['main.py'];
  const names: string[] = (await ipfs.ls(dir.cid)).map((e) => e.name);
  const stat: IpfsStat = await ipfs.stat(added.cid);
  const pinned: PinResult[] = await ipfs.pin(added.cid, { name: 'x', meta: { app: 'sandrun' }, origins: [], wait: false, node: false });
  const lists: PinList[] = await ipfs.pins({ cid: [added.cid], status: ['pinned', 'failed'], name: 'x', match: 'ipartial', before: new Date(), limit: 5 });
  const first: PinStatus | undefined = lists[0]?.results[0];
  await ipfs.replacePin(added.cid, v1, { name: 'y' });
  const removed: number = (await ipfs.unpin(added.cid))[0]?.removed ?? 0;
  const health: IpfsHealth = await ipfs.health({ timeoutMs: 500 });
  const up: 'up' | 'degraded' | 'down' = health.status;
  try {
    await ipfs.get('bafy…');
  } catch (e) {
    if (e instanceof CidMismatchError) {
      void e.message;
    } else if (e instanceof IpfsError) {
      const problems: string[] = (e.attempts ?? []).map((a) => a.problem);
      void problems;
    }
  }
  void [v0, tree, bytes, body, part, file0, names, stat.type, stat.cumulativeSize, pinned[0]?.kind, first?.pin.cid, removed, up, paths];
}

// The paid market job (issue 11): `.payment()` on a client with `market`, estimate, progress,
// settlement, re-attaching by `market:<id>`, market health and the new error classes.
import { SpendLimitError, DuplicateJobError } from '@sandrun/sdk/full';
import type { MarketEstimate, MarketHealth, MarketProgress, MarketSettlement } from '@sandrun/sdk/full';

export async function paidJob(): Promise<void> {
  const sandrun = await FullSandrun.create({
    chain: { rpcUrl: 'http://127.0.0.1:8545', privateKey: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' },
    ipfs: { api: 'http://127.0.0.1:5001' },
    market: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    limits: { maxPerJob: '0.1 ether', maxTotal: parseEther('1') },
  });
  const job = sandrun.job().code('print(1)')
    .payment('0.03 ether', { allowDuplicate: false })
    .maxPrice(parseEther('0.01'))
    .deadline(new Date(Date.now() + 600_000))
    .deadline(600)
    .consensus('2-of-3');
  const estimate: MarketEstimate = await job.estimate();
  const total: bigint = estimate.total;
  const allowed: boolean = estimate.allowed;
  const exec = await job.submit({
    onStage: (e: MarketProgress) => { if (e.stage === 'running') void (e.workerJob satisfies string | undefined); },
    onProgress: ({ loaded, total }) => void (loaded / total),
  });
  const located = await FullSandrun.create({ market: { address: '0x5FbDB2315678afecb367f032d93F642f64180aa3', fromBlock: 1 } });
  void located;
  exec.on('progress', (e: MarketProgress) => {
    if (e.stage === 'escrow') void (e.txHash satisfies string);
    if (e.stage === 'claims') void (e.claimed satisfies number);
  });
  for await (const e of exec.progress()) {
    if (e.stage === 'done') void e.outcome;
  }
  try {
    const result = await exec.wait();
    const settlement: MarketSettlement | undefined = result.settlement;
    const consensus: ConsensusReport | undefined = result.consensus;
    const paid: bigint | undefined = settlement?.paid;
    const cid: string | undefined = result.market?.inputCid;
    void [paid, cid, consensus?.reached];
  } catch (e) {
    if (e instanceof SpendLimitError) void e.limit;
    if (e instanceof DuplicateJobError) void (e.existingJobId satisfies bigint | undefined);
  }
  const again = sandrun.execution(`market:${1n}`);
  const health: MarketHealth = await sandrun.marketHealth();
  const up: 'up' | 'degraded' | 'down' = health.chain.status;
  const all = await sandrun.health();
  const marketUp: 'up' | 'degraded' | 'down' | undefined = all.market?.status;
  void [total, allowed, again.id, up, health.workers[0]?.endpoint, marketUp];
}
