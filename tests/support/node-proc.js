// Node-only helpers for tests/node.rs: a broker the test starts and stops itself (by pid), for
// the broker-restart test.
import { spawn } from 'node:child_process';
import net from 'node:net';

const children = new Map();

function listening(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

export async function startBroker(devnode, port, db) {
  const child = spawn(devnode, ['broker', '--port', String(port), '--db', db], { stdio: 'ignore' });
  children.set(child.pid, child);
  for (let i = 0; i < 300; i++) {
    if (await listening(port)) return child.pid;
    if (child.exitCode !== null) throw new Error(`broker exited (${child.exitCode})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error(`broker not listening on ${port}`);
}

export async function stopBroker(pid) {
  const child = children.get(pid);
  if (!child) return;
  children.delete(pid);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
