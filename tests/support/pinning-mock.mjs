#!/usr/bin/env node
// The IPFS Pinning Service API's own mock (npm mock-ipfs-pinning-service, from tools/) for the
// IPFS scenarios (tests/common/ipfs.rs), served on 127.0.0.1 only (its CLI listens on every
// interface) with `Cross-Origin-Resource-Policy: cross-origin` added for the browser suite's page
// (the mock's own `cors()` answers preflights).
//
// The mock leaves a pin `queued` forever unless its name starts with `pinned-` or `failed-`. So
// that a client's wait is exercised, this wrapper moves each queued request to `pinning`, then to
// `pinned`, STEP_MS apart (a name starting with `queued-` stays queued, as in the mock).
//
//   node tests/support/pinning-mock.mjs --port N --token T [--step-ms 300]
// prints `pinning-mock: http://127.0.0.1:N` once it listens; stops on SIGTERM.
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tools = createRequire(path.join(root, 'tools/package.json'));
const { setup } = tools('mock-ipfs-pinning-service');

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const port = Number(arg('port', '0'));
const token = arg('token');
const stepMs = Number(arg('step-ms', '300'));
if (!token) {
  console.error('usage: pinning-mock.mjs --port N --token T [--step-ms MS]');
  process.exit(2);
}

const app = await setup({ token, loglevel: 'error' });

const next = { queued: 'pinning', pinning: 'pinned' };
setInterval(() => {
  // The mock swaps its whole state on every change (never mutates it): do the same.
  const state = app.locals.state;
  let changed = false;
  const pins = new Map();
  for (const [key, pin] of state.pins) {
    const to = next[pin.status];
    if (to && !pin.pin.name?.startsWith('queued-')) {
      pins.set(key, { ...pin, status: to });
      changed = true;
    } else {
      pins.set(key, pin);
    }
  }
  if (changed) app.locals.state = { ...state, pins };
}, stepMs).unref();

const server = http.createServer((req, res) => {
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
  app(req, res);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`pinning-mock: http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
