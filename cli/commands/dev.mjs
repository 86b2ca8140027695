// sandrun dev [start|stop|status]: the local Sandrun market (the `make stack` of the SDK
// repository: three dev-node workers, anvil, Kubo, the SandrunMarket contract, three node
// agents, the third faulty). It needs a checkout of the SDK repository (scripts/stack.mjs and
// what it builds: the package, the dev node); from an installed package it says so.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CliError, EXIT } from '../exit-codes.mjs';
import { publicStack } from '../market.mjs';

const DEFAULT_PORT = 47000; // scripts/stack.mjs's own default (mk/stack.mk's STACK_PORT)

/** The SDK repository holding `dir` (or one of its parents), or undefined. */
function findRepository(dir) {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'scripts', 'stack.mjs')) && existsSync(path.join(d, 'mk', 'stack.mk'))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

function printStack(t, report, file) {
  const stack = publicStack(JSON.parse(readFileSync(file, 'utf8')));
  report.stackFile = file;
  report.stack = stack;
  t.note(`${t.style('bold', 'stack')}      ${file}`);
  // stdout: the stack itself (addresses only), so that `sandrun dev > stack.json` serves a page.
  t.print(JSON.stringify(stack, null, 2));
  t.note(`pay for a job on it:  sandrun run ./job --pay "0.03 ether" --consensus 2-of-3 --stack ${file}`);
}

export default {
  name: 'dev',
  args: '[start|stop|status]',
  summary: 'the local market (workers, chain, IPFS, contract, node agents)',
  positionals: [0, 1],
  description: [
    'Starts (default), stops or shows the local Sandrun market of the SDK repository: three dev-node',
    'workers, anvil, a Kubo node, the SandrunMarket contract and three node agents (the third faulty:',
    'it alters its outputs, and a k-of-n job slashes it). Prints the path of .sandrun/stack.json and its',
    'contents without the private keys (stdout; messages on stderr). Run it inside a checkout of the SDK',
    'repository, after `make pkg devnode` (`make stack` does the same with the builds first).',
  ].join('\n'),
  options: {
    port: { type: 'string', value: 'PORT', help: `start: the base port (workers +0..+2, anvil +10, Kubo +20/+21; default $STACK_PORT or ${DEFAULT_PORT})` },
  },
  examples: [
    'sandrun dev                      # start; prints .sandrun/stack.json',
    'sandrun dev status --json',
    'sandrun run ./job --pay "0.03 ether" --consensus 2-of-3 --stack .sandrun/stack.json',
    'sandrun dev stop',
  ],
  async handler({ t, values, positionals, report }) {
    const action = positionals[0] ?? 'start';
    if (!['start', 'stop', 'status'].includes(action)) {
      throw new CliError(`sandrun dev ${action}: want start, stop or status`, EXIT.USAGE, 'USAGE');
    }
    const repo = findRepository(process.cwd());
    if (!repo) {
      throw new CliError('`sandrun dev` runs the local market of the Sandrun SDK repository (scripts/stack.mjs), ' +
        'and no folder from here up is a checkout of it: clone the repository and run it there (or `make stack`)', EXIT.UNSUPPORTED, 'UNSUPPORTED');
    }
    const dir = path.join(repo, '.sandrun');
    const stackFile = path.join(dir, 'stack.json');
    // A stack runs while its started.json (what `stop` stops) is there; stack.json stays after.
    const running = () => existsSync(path.join(dir, 'started.json'));
    Object.assign(report, { repository: repo, action });
    const stackScript = (args) => spawnSync(process.execPath, [path.join(repo, 'scripts', 'stack.mjs'), ...args],
      { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STACK_DIR: dir } });

    if (action === 'status') {
      report.running = running();
      t.note(`${t.style('bold', 'local market')} ${report.running ? t.style('green', 'running') : 'not running'} (${repo})`);
      if (report.running && existsSync(stackFile)) printStack(t, report, stackFile);
      return EXIT.OK;
    }
    if (action === 'stop') {
      const r = stackScript(['stop']);
      if (r.status !== 0) throw new CliError(`stopping the stack failed:\n${r.stderr.trim()}`, EXIT.INTERNAL, 'INTERNAL');
      report.running = false;
      t.note(r.stdout.trim());
      return EXIT.OK;
    }
    if (running()) {
      t.note(`${t.style('bold', 'local market')} already running (stop it with \`sandrun dev stop\`)`);
    } else {
      const port = values.port ?? process.env.STACK_PORT ?? String(DEFAULT_PORT);
      t.note(`starting the local market on ports ${port}..${Number(port) + 21} (workers, anvil, Kubo, contract, 3 node agents)…`);
      const r = stackScript(['start', '--port', port]);
      // stack.mjs names what is missing (make pkg, make devnode, a busy port) on stderr.
      if (r.status !== 0) throw new CliError(`the local market did not start:\n${r.stderr.trim()}`, EXIT.UNSUPPORTED, 'UNSUPPORTED');
    }
    report.running = true;
    printStack(t, report, stackFile);
    return EXIT.OK;
  },
};
