// Command-line parsing with node:util parseArgs (no dependency), and the --help text of every
// command, both from the same table of options so that they cannot disagree.
import { parseArgs } from 'node:util';
import { CliError, EXIT } from './exit-codes.mjs';

/** Options every command takes. */
export const COMMON_OPTIONS = {
  endpoint: { type: 'string', value: 'URL', help: 'the worker (default: $SANDRUN_ENDPOINT, the config file, http://127.0.0.1:8443)' },
  trust: { type: 'string', value: 'KEYS', help: 'comma-separated worker keys (base64) whose signatures are trusted; others fail verification' },
  config: { type: 'string', value: 'FILE', help: 'config file (default: ./sandrun.config.json, then ~/.config/sandrun/config.json)' },
  json: { type: 'boolean', help: 'print one JSON object on stdout instead of text' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};
export const TIMEOUT_OPTION = {
  timeout: { type: 'string', value: 'SECONDS', help: 'give up waiting after this long (default: $SANDRUN_TIMEOUT, else 600)' },
};

const usageError = (message, command) =>
  new CliError(`${message}\nsee: sandrun ${command.name} --help`, EXIT.USAGE, 'USAGE');

/**
 * Parses `argv` for `command`. With `command.jobArgs`, everything after `--args` (or `--`) is
 * kept verbatim as the job's arguments, so they may start with dashes.
 */
export function parseCommand(command, argv) {
  let own = argv;
  let jobArgs;
  if (command.jobArgs) {
    const cut = argv.findIndex((a) => a === '--args' || a === '--');
    if (cut >= 0) [own, jobArgs] = [argv.slice(0, cut), argv.slice(cut + 1)];
  }
  const options = { ...command.options, ...COMMON_OPTIONS };
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      options: Object.fromEntries(Object.entries(options).map(([k, { type, short, multiple }]) =>
        [k, { type, ...(short ? { short } : {}), ...(multiple ? { multiple } : {}) }])),
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw usageError(e.message.split('\n')[0], command);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  const [min, max] = command.positionals ?? [0, 0];
  if (positionals.length < min) throw usageError(`missing ${command.args}`, command);
  if (positionals.length > max) throw usageError(`unexpected argument ${JSON.stringify(positionals[max])}`, command);
  return { values, positionals, jobArgs: jobArgs ?? [] };
}

export function commandHelp(command) {
  const options = { ...command.options, ...COMMON_OPTIONS };
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`;
    return `  ${flag.padEnd(28)} ${o.help}`;
  });
  return [
    `usage: sandrun ${command.name}${command.args ? ` ${command.args}` : ''} [options]${command.jobArgs ? ' [--args ARG...]' : ''}`,
    '',
    command.description,
    '',
    'options:',
    ...rows,
    '',
    'examples:',
    ...command.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}
