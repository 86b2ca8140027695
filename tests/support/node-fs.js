// Node-only helpers for tests/node.rs: a real folder to submit with `.directory()` and to
// download into with `downloadTo()`.
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Makes a temp folder holding `files` (relative path → text); returns its path. */
export function makeTree(files) {
  const dir = mkdtempSync(path.join(tmpdir(), 'sandrun-tree-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

export function tempDir() {
  return mkdtempSync(path.join(tmpdir(), 'sandrun-out-'));
}

/** The text of `rel` under `dir`, or null when it does not exist. */
export function readText(dir, rel) {
  const p = path.join(dir, rel);
  return existsSync(p) ? readFileSync(p, 'utf8') : null;
}

export function removeTree(dir) {
  rmSync(dir, { recursive: true, force: true });
}
