// A real anvil for the contract tests and scripts: started on a free 127.0.0.1 port, stopped
// (with every process it started) by stop().
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CHAIN_ID = 31337;

/** The anvil binary from tools/: the platform package's binary itself when present (the npm
 * wrapper in .bin is a Node process that forwards signals; spawning the binary saves ~40 ms
 * and leaves no grandchild behind if the test runner is killed). */
export function anvilBinary() {
  const platform = join(ROOT, 'tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');
  if (process.platform === 'linux' && process.arch === 'x64' && existsSync(platform)) return platform;
  const wrapper = join(ROOT, 'tools/node_modules/.bin/anvil');
  if (existsSync(wrapper)) return wrapper;
  throw new Error('anvil not found in tools/node_modules (run `make setup`)');
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** JSON-RPC over HTTP; rejects with the RPC error object (code, message, data) on an error. */
export async function rpc(url, method, params = []) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = await res.json();
  if (body.error) throw Object.assign(new Error(`${method}: ${body.error.message}`), body.error);
  return body.result;
}

/** Starts anvil (chain id 31337, automine) and resolves once its RPC answers. */
export async function startAnvil({ args = [] } = {}) {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(
      anvilBinary(),
      ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(CHAIN_ID), '--silent', ...args],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // if the test process ends without stop() (an uncaught error, process.exit), anvil goes too
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    exited.then(() => process.removeListener('exit', killOnExit));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
    };
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) break;
      try {
        await rpc(url, 'eth_chainId');
        return { url, port, stop, process: child };
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await stop();
    // Another process may have taken the port between freePort() and anvil's bind: retry once.
    if (attempt >= 1) throw new Error(`anvil did not answer on ${url}: ${stderr.slice(-2000)}`);
  }
}
