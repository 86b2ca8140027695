// Commands about workers rather than jobs: health, pool ls.
import { connect } from '../client.mjs';
import { CliError, EXIT, exitCodeOf } from '../exit-codes.mjs';

export const health = {
  name: 'health',
  summary: 'is a worker up, and what is its key',
  args: '[url...]',
  positionals: [0, Infinity],
  description: 'Asks workers\' /health: up or not, their key (worker id), whether it is trusted, and whether the live log stream works. Default: the configured endpoint. Exits 0 when every worker answered healthy, else the failure\'s code (69 for unreachable).',
  options: {},
  examples: ['sandrun health', 'sandrun health http://127.0.0.1:8443 http://127.0.0.1:8444 --json'],
  async handler({ t, positionals, settings, report }) {
    const urls = positionals.length ? positionals : [settings.endpoint];
    let exit = EXIT.OK;
    report.workers = [];
    for (const endpoint of urls) {
      try {
        const h = await (await connect({ ...settings, endpoint })).health();
        report.workers.push(h);
        const services = Object.entries(h.services ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
        const trust = h.trusted === true ? ' (trusted)' : h.trusted === false ? t.style('red', ' (NOT trusted)') : '';
        t.print(`${t.style(h.status === 'healthy' ? 'green' : 'yellow', h.status.padEnd(9))} ${endpoint}  key ${h.workerId ?? '(anonymous)'}${trust}${services ? `  ${services}` : ''}`);
        if (h.status !== 'healthy' && exit === EXIT.OK) exit = EXIT.HTTP;
      } catch (e) {
        report.workers.push({ endpoint, status: 'down', error: { code: e.code, message: e.message } });
        t.print(`${t.style('red', 'down'.padEnd(9))} ${endpoint}  ${e.message}`);
        if (exit === EXIT.OK) exit = exitCodeOf(e);
      }
    }
    if (!positionals.length) Object.assign(report, report.workers[0]);
    return exit;
  },
};

export const poolLs = {
  name: 'pool ls',
  summary: 'the workers of a pool, checked',
  args: '[url...]',
  positionals: [0, Infinity],
  description: 'Lists the workers of a pool as the SDK sees them: each worker\'s health, its key checked against what the source said, its capacity. Workers from the URLs given, --workers / $SANDRUN_WORKERS, a coordinator or a broker. Exits 0 when every worker is usable, 69 otherwise.',
  options: {
    workers: { type: 'string', value: 'URLS', help: 'comma-separated worker URLs (default: $SANDRUN_WORKERS, the config file)' },
    coordinator: { type: 'string', value: 'URL', help: 'a pool coordinator: its workers and their allow-listed keys' },
    broker: { type: 'string', value: 'URL', help: 'a broker: the workers its nodes registered' },
  },
  examples: ['sandrun pool ls http://127.0.0.1:8443 http://127.0.0.1:8444', 'sandrun pool ls --coordinator http://127.0.0.1:8000 --json'],
  async handler({ t, positionals, values, settings, report }) {
    const urls = positionals.length ? positionals : settings.workers;
    if (!urls.length && !values.coordinator && !values.broker) {
      throw new CliError('no workers: give URLs, --workers, --coordinator or --broker', EXIT.USAGE, 'USAGE');
    }
    const sandrun = await connect(urls.length ? { ...settings, endpoint: urls[0] } : settings);
    let builder = sandrun.pool().discover({ minNodes: 0 });
    if (urls.length) builder = builder.workers(urls);
    if (values.coordinator) builder = builder.coordinator(values.coordinator);
    if (values.broker) builder = builder.broker(values.broker);
    const pool = await builder.join();
    const { nodes, size, capacity } = pool;
    pool.close();
    Object.assign(report, { size, capacity, nodes });
    for (const n of nodes) {
      const state = n.healthy ? t.style('green', 'healthy  ') : t.style('red', 'unusable ');
      t.print(`${state} ${n.endpoint}  key ${n.workerId ?? '(anonymous)'}  capacity ${n.capacity}  source ${n.source}${n.problem ? t.style('red', `  ${n.problem}`) : ''}`);
    }
    t.print(`${size} of ${nodes.length} usable, ${capacity} jobs at once`);
    return nodes.length > 0 && nodes.every((n) => n.healthy) ? EXIT.OK : EXIT.NETWORK;
  },
};
