// Settings, in order of precedence: command-line flags > environment variables > a config file
// > defaults. The config file is the first of these that exists (they are not merged):
//   --config FILE, $SANDRUN_CONFIG, ./sandrun.config.json,
//   $XDG_CONFIG_HOME/sandrun/config.json (default ~/.config/sandrun/config.json)
import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { CliError, EXIT } from './exit-codes.mjs';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8443';

/** Each setting: its flag, its environment variable, its key in the config file, its kind. */
const SETTINGS = {
  endpoint: { flag: 'endpoint', env: 'SANDRUN_ENDPOINT', kind: 'string' },
  workers: { flag: 'workers', env: 'SANDRUN_WORKERS', kind: 'list' },
  trustedWorkers: { flag: 'trust', env: 'SANDRUN_TRUSTED_WORKERS', kind: 'list' },
  timeout: { flag: 'timeout', env: 'SANDRUN_TIMEOUT', kind: 'seconds' },
  // The market, for `run --pay` (cli/market.mjs): a stack file (`sandrun dev`, `make stack`) or
  // its parts. The private key is never a setting: only the NAME of the variable that holds it.
  stack: { flag: 'stack', env: 'SANDRUN_STACK', kind: 'string' },
  rpc: { flag: 'rpc', env: 'SANDRUN_RPC', kind: 'string' },
  market: { flag: 'market', env: 'SANDRUN_MARKET', kind: 'string' },
  ipfs: { flag: 'ipfs', env: 'SANDRUN_IPFS', kind: 'string' },
  keyEnv: { flag: 'key-env', env: 'SANDRUN_KEY_ENV', kind: 'string' },
  // Spend caps (the SDK's config.limits, checked before anything is sent): no flag on purpose,
  // so that a cap set for a machine or a user is not lifted by a command line.
  maxPerJob: { env: 'SANDRUN_MAX_PER_JOB', kind: 'string' },
  maxTotal: { env: 'SANDRUN_MAX_TOTAL', kind: 'string' },
};

export function configFileCandidates(env = process.env, cwd = process.cwd()) {
  const xdg = env.XDG_CONFIG_HOME || path.join(homedir(), '.config');
  return [path.join(cwd, 'sandrun.config.json'), path.join(xdg, 'sandrun', 'config.json')];
}

function findConfigFile(flagPath, env, cwd) {
  const named = flagPath ?? env.SANDRUN_CONFIG;
  if (named) {
    const file = path.resolve(cwd, named);
    if (!existsSync(file)) {
      const from = flagPath ? '--config' : 'SANDRUN_CONFIG';
      throw new CliError(`config file ${file} (from ${from}) does not exist`, EXIT.CONFIG, 'CONFIG');
    }
    return file;
  }
  return configFileCandidates(env, cwd).find((f) => existsSync(f));
}

function readConfigFile(file) {
  let data;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`config file ${file}: ${e.message}`, EXIT.CONFIG, 'CONFIG');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new CliError(`config file ${file}: want a JSON object such as {"endpoint": "${DEFAULT_ENDPOINT}"}`, EXIT.CONFIG, 'CONFIG');
  }
  const unknown = Object.keys(data).filter((k) => !(k in SETTINGS));
  if (unknown.length) {
    throw new CliError(`config file ${file}: unknown key ${unknown.map((k) => JSON.stringify(k)).join(', ')} ` +
      `(known: ${Object.keys(SETTINGS).join(', ')})`, EXIT.CONFIG, 'CONFIG');
  }
  return data;
}

/** Turns a flag, env or file value into the setting's type; `where` names its origin in errors. */
function coerce(name, value, where) {
  const { kind } = SETTINGS[name];
  const bad = (want) => new CliError(`${where}: ${name} must be ${want}, got ${JSON.stringify(value)}`,
    where.startsWith('--') ? EXIT.USAGE : EXIT.CONFIG, where.startsWith('--') ? 'USAGE' : 'CONFIG');
  if (kind === 'string') {
    if (typeof value !== 'string' || value === '') throw bad('a non-empty string');
    return value;
  }
  if (kind === 'list') {
    const items = typeof value === 'string' ? value.split(',') : value;
    if (!Array.isArray(items) || items.some((v) => typeof v !== 'string')) throw bad('a list of strings (or one comma-separated string)');
    return items.map((v) => v.trim()).filter(Boolean);
  }
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n <= 0 || value === '') throw bad('a number of seconds greater than 0');
  return n;
}

/**
 * The settings for one command. `flags` are the parsed command-line values (a missing flag is
 * undefined); `sources` says where each setting came from (for `--json` and error messages).
 */
export function resolveConfig(flags, env = process.env, cwd = process.cwd()) {
  const file = findConfigFile(flags.config, env, cwd);
  // Every value in the file is checked, also those a flag or variable overrides: a typo in
  // the file should not wait for the day it matters.
  const fromFile = file ? readConfigFile(file) : {};
  for (const [name, value] of Object.entries(fromFile)) fromFile[name] = coerce(name, value, `config file ${file}`);
  const settings = { endpoint: DEFAULT_ENDPOINT, workers: [], trustedWorkers: [], timeout: undefined };
  const sources = { endpoint: 'default' };
  for (const [name, s] of Object.entries(SETTINGS)) {
    if (s.flag && flags[s.flag] !== undefined) {
      settings[name] = coerce(name, flags[s.flag], `--${s.flag}`);
      sources[name] = `--${s.flag}`;
    } else if (env[s.env] !== undefined && env[s.env] !== '') {
      settings[name] = coerce(name, env[s.env], `$${s.env}`);
      sources[name] = `$${s.env}`;
    } else if (fromFile[name] !== undefined) {
      settings[name] = fromFile[name];
      sources[name] = file;
    }
  }
  return { ...settings, sources, file };
}
