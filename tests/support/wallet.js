// The chain scenarios' test wallet (tests/common/chain.rs): an EIP-1193 provider that forwards to
// a real anvil over HTTP, as a browser wallet forwards to its node, and that a test can make
// misbehave the ways real wallets do: reject a request (code 4001), sit on another chain and
// switch (or refuse to, or not know the chain: 4902), emit `chainChanged` / `accountsChanged` /
// `disconnect`, and lose its connection for a while. In a page it announces itself through
// EIP-6963. Also: plain JSON-RPC to anvil (its test methods) and fresh random keys.

/**
 * One JSON-RPC request to `url`; a JSON-RPC error is thrown as `{ code, message, data }`, as
 * wallets throw them. (tests/contracts/lib/anvil.mjs has Node's; this file also loads in a page.)
 */
export async function rpc(url, method, params = []) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = await res.json();
  if (body.error) throw providerError(body.error.code, body.error.message, body.error.data);
  return body.result;
}

function providerError(code, message, data) {
  const e = new Error(message);
  e.code = code;
  if (data !== undefined) e.data = data;
  return e;
}

/** 32 random bytes as 0x hex: a private key no node manages. */
export function randomKey() {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return `0x${[...b].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

const hex = (n) => `0x${Number(n).toString(16)}`;

/**
 * A wallet over anvil at `url`, whose real chain id is `chainId`. `controls` (not EIP-1193) lets
 * a test change its behaviour:
 *   reject: methods answered with 4001 (the user said no)
 *   pretendChainId: a chain the wallet says it is on instead of the real one (null: the real one)
 *   switchPolicy: 'accept' | 'refuse' (4001) | 'unknown' (4902 until added) | 'fail' (-32603)
 *   down: every request fails as a lost connection (TypeError, as fetch throws)
 *   accounts: the accounts it gives (default: anvil's unlocked ones, asked once)
 *   calls: every method asked, in order
 *   emit(event, payload): fires the wallet's event listeners
 */
export function createWallet(url, chainId) {
  const listeners = new Map();
  const controls = {
    reject: new Set(),
    pretendChainId: null,
    switchPolicy: 'accept',
    added: new Set(),
    down: false,
    accounts: null,
    calls: [],
    emit(event, payload) {
      for (const f of listeners.get(event) ?? []) f(payload);
    },
    listenerCount(event) {
      return (listeners.get(event) ?? []).length;
    },
  };
  const provider = {
    async request({ method, params = [] }) {
      controls.calls.push(method);
      if (controls.down) throw new TypeError('Failed to fetch (the test wallet is disconnected)');
      if (controls.reject.has(method)) throw providerError(4001, 'User rejected the request.');
      switch (method) {
        case 'eth_chainId':
          return hex(controls.pretendChainId ?? chainId);
        case 'eth_accounts':
        case 'eth_requestAccounts':
          controls.accounts ??= await rpc(url, 'eth_accounts');
          return controls.accounts;
        case 'wallet_addEthereumChain': {
          const id = Number(BigInt(params[0].chainId));
          controls.added.add(id);
          return null;
        }
        case 'wallet_switchEthereumChain': {
          const id = Number(BigInt(params[0].chainId));
          const policy = controls.switchPolicy;
          if (policy === 'refuse') throw providerError(4001, 'User rejected the request.');
          if (policy === 'fail') throw providerError(-32603, 'the wallet could not switch');
          if (policy === 'unknown' && !controls.added.has(id)) throw providerError(4902, `Unrecognized chain ID ${hex(id)}`);
          if (id !== chainId) throw providerError(4902, `Unrecognized chain ID ${hex(id)}`);
          controls.pretendChainId = null;
          controls.emit('chainChanged', hex(id));
          return null;
        }
        default:
          if (controls.pretendChainId !== null && method.startsWith('eth_send')) {
            throw providerError(-32000, 'the wallet is on another chain');
          }
          return rpc(url, method, params);
      }
    },
    on(event, f) {
      if (!listeners.has(event)) listeners.set(event, []);
      listeners.get(event).push(f);
      return provider;
    },
    removeListener(event, f) {
      listeners.set(event, (listeners.get(event) ?? []).filter((g) => g !== f));
      return provider;
    },
  };
  return { provider, controls };
}

/**
 * Announces `provider` in the page as EIP-6963 says a wallet does: now, and again on every
 * `eip6963:requestProvider`. Returns the function that stops answering. (No page: a no-op.)
 */
export function announceWallet(provider, name, rdns) {
  if (typeof window === 'undefined') return () => {};
  const uuid = crypto.randomUUID();
  const icon = 'data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=';
  const detail = Object.freeze({ info: Object.freeze({ uuid, name, icon, rdns }), provider });
  const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail }));
  window.addEventListener('eip6963:requestProvider', announce);
  announce();
  return () => window.removeEventListener('eip6963:requestProvider', announce);
}

/** A watch handler and `onError` that keep what they get: `{ handler, onError, logs, errors }`. */
export function collector() {
  const c = { logs: [], errors: [] };
  c.handler = (log) => { c.logs.push(log); };
  c.onError = (e) => { c.errors.push(e); };
  return c;
}

/** `{ done, value, error }` of a promise, kept up to date (to see that a call has not resolved yet). */
export function track(promise) {
  const t = { done: false, value: undefined, error: undefined, promise };
  promise.then((v) => { t.done = true; t.value = v; }, (e) => { t.done = true; t.error = e; });
  return t;
}

/** An `onSent` option that keeps the hashes it is given: `{ onSent, hashes }`. */
export function sentLog() {
  const s = { hashes: [] };
  s.onSent = (hash) => { s.hashes.push(hash); };
  return s;
}
