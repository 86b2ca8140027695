#!/usr/bin/env node
// `sandrun`: the Sandrun SDK's command line. Every command takes --help and --json.
//   sandrun run ./job --out results        sandrun status|logs|wait|verify|download|cancel <job-id>
//   sandrun health                         sandrun pool ls <urls...>
import { readFileSync } from 'node:fs';
import { resolveConfig, configFileCandidates } from './config.mjs';
import { CliError, EXIT, exitCodeOf } from './exit-codes.mjs';
import { commandHelp, parseCommand } from './options.mjs';
import { createTerminal } from './terminal.mjs';
import run from './commands/run.mjs';
import { status, logs, wait, verify, download, cancel } from './commands/job.mjs';
import { health, poolLs } from './commands/workers.mjs';
import dev from './commands/dev.mjs';

const COMMANDS = [run, status, logs, wait, verify, download, cancel, health, poolLs, dev];

const TOPICS = {
  'exit-codes': () => [
    'sandrun run and sandrun wait exit with the job\'s own exit code (a job killed outside 0-255: 255).',
    'The CLI\'s own failures have codes of their own; with --json, "error" says which it was:',
    '',
    ...Object.entries({
      USAGE: 'unknown command or flag, missing argument',
      VALIDATION: 'the job or the config was refused before anything was sent',
      NO_INPUT: 'the folder or file to run does not exist',
      NETWORK: 'a worker could not be reached (refused, reset, DNS, open circuit)',
      INTERNAL: 'an unexpected error (a bug: please report it)',
      HTTP: 'the worker answered with an error status',
      NOT_FOUND: 'no such job or output on the worker',
      VERIFICATION: 'the result failed verification (job hash, signature, output bytes, untrusted key)',
      CONSENSUS: 'k-of-n consensus was not reached',
      TEMPORARY: 'timed out or rate limited: trying again later can work',
      PROTOCOL: 'the server did not answer as a Sandrun worker does',
      UNSUPPORTED: 'not possible here (sandrun dev outside the SDK repository)',
      CONFIG: 'the config file or an environment variable is invalid',
      SPEND_LIMIT: '--pay: the payment is above a spend cap; nothing was sent',
      IPFS: '--pay: IPFS failed (before any payment when at submit)',
      CHAIN: '--pay: the chain or wallet refused or failed the escrow; nothing posted',
      DUPLICATE: '--pay: the same job is posted already and not settled; nothing paid',
      CANCELLED: 'Ctrl-C, or the job was cancelled (128 + SIGINT)',
    }).map(([k, v]) => `  ${String(EXIT[k]).padStart(3)}  ${k.padEnd(13)} ${v}`),
    '',
  ].join('\n'),
  config: () => [
    'Settings come from, in order: flags, environment variables, a config file, defaults.',
    '',
    '  flag            environment variable        config file key   default',
    '  --endpoint URL  SANDRUN_ENDPOINT            "endpoint"        http://127.0.0.1:8443',
    '  --workers URLS  SANDRUN_WORKERS (a,b,c)     "workers" [...]   none',
    '  --trust KEYS    SANDRUN_TRUSTED_WORKERS     "trustedWorkers"  none (any valid signature)',
    '  --timeout S     SANDRUN_TIMEOUT             "timeout"         600 seconds',
    'run --pay (the market):',
    '  --stack FILE    SANDRUN_STACK               "stack"           none (a stack.json of sandrun dev)',
    '  --rpc URL       SANDRUN_RPC                 "rpc"             the stack\'s',
    '  --market ADDR   SANDRUN_MARKET              "market"          the stack\'s',
    '  --ipfs URL      SANDRUN_IPFS                "ipfs"            the stack\'s',
    '  --key-env VAR   SANDRUN_KEY_ENV             "keyEnv"          SANDRUN_PRIVATE_KEY (then the stack\'s first account)',
    '  (no flag)       SANDRUN_MAX_PER_JOB         "maxPerJob"       no cap ("0.05 ether", or wei)',
    '  (no flag)       SANDRUN_MAX_TOTAL           "maxTotal"        no cap (for one run: a cap on its payment)',
    '',
    'The config file is the first that exists of: --config FILE, $SANDRUN_CONFIG,',
    ...configFileCandidates().map((f) => `  ${f}`),
    'e.g. {"endpoint": "http://127.0.0.1:8443", "workers": ["http://127.0.0.1:8443"], "timeout": 120}',
    'NO_COLOR=1 turns colour off; colour and progress bars appear only when stdout and stderr are terminals.',
    '',
  ].join('\n'),
};

function version() {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function mainHelp() {
  const rows = COMMANDS.map((c) => `  ${`${c.name} ${c.args ?? ''}`.padEnd(30)} ${c.summary}`);
  return [
    'usage: sandrun <command> [options]',
    '',
    'Runs jobs on Sandrun workers and verifies their signed results.',
    '',
    'commands:',
    ...rows,
    '',
    'sandrun <command> --help    options and examples of a command',
    'sandrun help config         flags, environment variables, config file',
    'sandrun help exit-codes     what the exit code means',
    '',
  ].join('\n');
}

function findCommand(argv) {
  const two = `${argv[0]} ${argv[1]}`;
  const command = COMMANDS.find((c) => c.name === two) ?? COMMANDS.find((c) => c.name === argv[0]);
  if (!command) {
    const hint = argv[0] === 'pool' ? 'did you mean `sandrun pool ls`?' : 'see: sandrun --help';
    throw new CliError(`unknown command ${JSON.stringify(argv.slice(0, 2).join(' '))}; ${hint}`, EXIT.USAGE, 'USAGE');
  }
  return { command, rest: argv.slice(command.name.split(' ').length) };
}

function describeError(e, code) {
  const error = { name: e.name, code: e.code ?? 'INTERNAL', message: e.message, exit: code };
  for (const k of ['errors', 'status', 'jobId', 'endpoint', 'operation', 'report', 'stage', 'inputCid', 'limit', 'existingJobId', 'settlement']) {
    if (e[k] !== undefined) error[k] = e[k];
  }
  return error;
}

async function main(argv) {
  if (argv[0] === '--version' || argv[0] === '-v') {
    process.stdout.write(`${version()}\n`);
    return EXIT.OK;
  }
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || (argv[0] === 'help' && argv.length === 1)) {
    (argv.length ? process.stdout : process.stderr).write(mainHelp());
    return argv.length ? EXIT.OK : EXIT.USAGE;
  }
  if (argv[0] === 'help') {
    if (TOPICS[argv[1]]) {
      process.stdout.write(TOPICS[argv[1]]());
      return EXIT.OK;
    }
    argv = [...argv.slice(1), '--help'];
  }
  // Until the flags are parsed, guess --json from argv so that a usage error can be JSON too.
  let json = argv.includes('--json');
  const report = {};
  try {
    const { command, rest } = findCommand(argv);
    const parsed = parseCommand(command, rest);
    if (parsed.help) {
      process.stdout.write(commandHelp(command));
      return EXIT.OK;
    }
    json = Boolean(parsed.values.json);
    const t = createTerminal({ json });
    const settings = resolveConfig(parsed.values);
    const code = await command.handler({ ...parsed, t, settings, report });
    if (t.json) t.printJson(report);
    return code;
  } catch (e) {
    const code = exitCodeOf(e);
    if (json) {
      createTerminal({ json }).printJson({ ...report, error: describeError(e, code) });
    } else {
      process.stderr.write(`sandrun: ${e.message}\n`);
      // The message names the first problem; list them all when there are more.
      if (e.errors?.length > 1) for (const p of e.errors) process.stderr.write(`  ${p.field}: ${p.message}\n`);
      if (code === EXIT.INTERNAL) process.stderr.write(`${e.stack}\n`);
    }
    return code;
  }
}

const code = await main(process.argv.slice(2));
// Exit explicitly (a pool's health timer or an idle socket must not keep the process alive),
// once what was written has been flushed.
process.stdout.write('', () => process.exit(code));
