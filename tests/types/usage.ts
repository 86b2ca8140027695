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
