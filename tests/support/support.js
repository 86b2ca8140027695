// Helpers for the wasm-bindgen-test suites (tests/node.rs, tests/browser.rs): things that are
// plain JS for a user and clumsy from Rust.

/** Calls `obj[name](...args)` (a method of an SDK object, as JS code would). */
export function callMethod(obj, name, args) {
  const f = obj[name];
  if (typeof f !== 'function') throw new TypeError(`${obj?.constructor?.name ?? typeof obj} has no method ${name}()`);
  return f.apply(obj, args);
}

export function newAbortController() {
  return new AbortController();
}

export function isNode() {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

/** A line that shows in the runner's output whether or not the test fails (timings). */
export function report(line) {
  if (isNode()) {
    process.stderr.write(`  note: ${line}\n`);
    return;
  }
  console.info(line);
  const out = typeof document !== 'undefined' && document.getElementById('output');
  if (out) out.textContent += `  note: ${line}\n`;
}

export function describe(v) {
  if (v instanceof Error) return `${v.name}: ${v.message} (code ${v.code})`;
  try { return JSON.stringify(v); } catch { return String(v); }
}

/**
 * A timer for a scenario's time limit (tests/common/mod.rs, `within`): `promise` resolves after
 * `ms`; `cancel()` clears it, so a finished scenario leaves no timer that keeps Node running.
 */
export function limitTimer(ms) {
  let id;
  const promise = new Promise((resolve) => { id = setTimeout(resolve, ms); });
  return { promise, cancel: () => clearTimeout(id) };
}

export function now() {
  return (typeof performance !== 'undefined' ? performance : Date).now();
}
