// The market a paid job goes to (`sandrun run --pay`): from a stack file (`sandrun dev`,
// `make stack`) or its parts (--rpc, --market, --ipfs), and the paying account's private key.
// The key is read from an environment variable (named by --key-env, default
// $SANDRUN_PRIVATE_KEY) or, for a local stack, its first funded account; never from a flag's
// value (it would sit in the shell history and the process list), and it is never printed.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CliError, EXIT } from './exit-codes.mjs';
import { Sandrun } from './sdk.mjs';

export const DEFAULT_KEY_ENV = 'SANDRUN_PRIVATE_KEY';
// How often the chain is read while the job runs: each stage shows at most this long after it
// happened on chain (a local chain mines at once; a public one every few seconds anyway).
const POLL_MS = 250;

const configError = (message) => new CliError(message, EXIT.CONFIG, 'CONFIG');

/** stack.json as `sandrun dev` / `make stack` write it; `file` is added (its absolute path). */
export function readStack(file) {
  const p = path.resolve(file);
  if (!existsSync(p)) throw configError(`stack file ${p} does not exist (start a local market with \`sandrun dev\` or \`make stack\`)`);
  let stack;
  try {
    stack = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw configError(`stack file ${p}: ${e.message}`);
  }
  const missing = ['rpcUrl', 'market', 'ipfsApi'].filter((k) => typeof stack?.[k] !== 'string');
  if (missing.length) throw configError(`stack file ${p}: no ${missing.join(', ')} (want the stack.json of \`sandrun dev\`)`);
  return { ...stack, file: p };
}

/** The stack without its private keys: what may be printed or served to a page. */
export function publicStack(stack) {
  const { accounts = [], file: _file, ...rest } = stack;
  return { ...rest, accounts: accounts.map((a) => ({ address: a.address })) };
}

/** An amount as the SDK takes it: plain digits are wei (a bigint), else a string with a unit. */
export const amount = (v) => (/^\d+$/.test(String(v).trim()) ? BigInt(String(v).trim()) : v);

/** Where the market is and which key pays (`keyFrom` names the source, for messages). */
export function marketTarget(settings, env = process.env) {
  const stack = settings.stack ? readStack(settings.stack) : undefined;
  const rpcUrl = settings.rpc ?? stack?.rpcUrl;
  const market = settings.market ?? stack?.market;
  const ipfsApi = settings.ipfs ?? stack?.ipfsApi;
  const missing = [!rpcUrl && '--rpc URL', !market && '--market ADDRESS', !ipfsApi && '--ipfs URL'].filter(Boolean);
  if (missing.length) {
    throw new CliError(`--pay needs a market: --stack FILE (the stack.json of \`sandrun dev\`) or ${missing.join(', ')} ` +
      '(or $SANDRUN_STACK, $SANDRUN_RPC, $SANDRUN_MARKET, $SANDRUN_IPFS, or the config file)', EXIT.USAGE, 'USAGE');
  }
  const keyEnv = settings.keyEnv ?? DEFAULT_KEY_ENV;
  let privateKey = env[keyEnv];
  let keyFrom = `$${keyEnv}`;
  if (!privateKey) {
    // A variable named on purpose must be there; the default one may be left unset for a stack.
    if (settings.keyEnv) throw configError(`the private key variable ${keyEnv} (from ${settings.sources.keyEnv}) is not set`);
    privateKey = stack?.accounts?.[0]?.privateKey;
    keyFrom = `${stack?.file} (accounts[0], ${stack?.accounts?.[0]?.address})`;
  }
  if (!privateKey) {
    throw configError(`--pay needs the paying account's private key in $${DEFAULT_KEY_ENV} (or in a variable named by --key-env VAR, or a --stack file with accounts)`);
  }
  // The stack's deployment block, for its own market: every read of the market's logs starts there.
  const fromBlock = market === stack?.market && Number.isInteger(stack?.marketBlock) ? stack.marketBlock : undefined;
  return { rpcUrl, market, fromBlock, ipfsApi, gateways: stack?.gateways, chainId: stack?.chainId, privateKey, keyFrom };
}

/** A client on the market; the spend caps of the settings become the SDK's config.limits. */
export function connectMarket(target, settings) {
  const limits = {};
  if (settings.maxPerJob) limits.maxPerJob = amount(settings.maxPerJob);
  if (settings.maxTotal) limits.maxTotal = amount(settings.maxTotal);
  return Sandrun.create({
    chain: { rpcUrl: target.rpcUrl, privateKey: target.privateKey, pollIntervalMs: POLL_MS, ...(target.chainId ? { chainId: target.chainId } : {}) },
    ipfs: { api: target.ipfsApi, ...(target.gateways?.length ? { gateways: target.gateways } : {}) },
    market: target.fromBlock === undefined ? target.market : { address: target.market, fromBlock: target.fromBlock },
    ...(Object.keys(limits).length ? { limits } : {}),
  });
}
