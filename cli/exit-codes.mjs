// Exit codes. `sandrun run` and `sandrun wait` exit with the job's own exit code; the CLI's own
// failures use the codes below (after sysexits(3) where one fits), so a script can tell "the job
// failed" from "the SDK could not run or trust the job". A job that itself exits with one of
// these codes looks the same by code alone: `--json` tells them apart (`error` is set only for
// the CLI's failures).

export const EXIT = {
  OK: 0,
  USAGE: 64, // unknown command or flag, missing argument
  VALIDATION: 65, // the job or the client config was refused before anything was sent
  NO_INPUT: 66, // the folder or file to run does not exist
  NETWORK: 69, // the worker could not be reached (refused, reset, DNS, open circuit)
  INTERNAL: 70, // anything else: a bug, please report it
  HTTP: 71, // the worker answered with an error status
  NOT_FOUND: 72, // no such job (or output) on the worker
  VERIFICATION: 73, // the result failed verification (job hash, signature, output bytes, key)
  CONSENSUS: 74, // k-of-n consensus was not reached
  TEMPORARY: 75, // timed out or rate limited: trying again later can work
  PROTOCOL: 76, // the server answered, but not as a Sandrun worker does
  UNSUPPORTED: 77, // not possible here (`sandrun dev` outside the SDK's repository)
  CONFIG: 78, // the config file or an environment variable is invalid
  // The paid market job (`run --pay`), past sysexits' range:
  SPEND_LIMIT: 79, // the payment is above a spend cap (maxPerJob, maxTotal): nothing was sent
  IPFS: 80, // IPFS failed (down, or content not matching its CID): before payment at submit
  CHAIN: 81, // the chain or the wallet refused or failed the escrow (reverted, rejected, no funds, wrong chain)
  DUPLICATE: 82, // the same job is already posted and not settled: nothing was paid again
  CANCELLED: 130, // Ctrl-C, or the job was cancelled (128 + SIGINT, as shells do)
};

/** The SDK's error codes (SandrunError.code) → exit code. */
const BY_SDK_CODE = {
  VALIDATION: EXIT.VALIDATION,
  NETWORK: EXIT.NETWORK,
  CIRCUIT_OPEN: EXIT.NETWORK,
  TIMEOUT: EXIT.TEMPORARY,
  RATE_LIMITED: EXIT.TEMPORARY,
  HTTP: EXIT.HTTP,
  NOT_FOUND: EXIT.NOT_FOUND,
  VERIFICATION: EXIT.VERIFICATION,
  CONSENSUS: EXIT.CONSENSUS,
  CANCELLED: EXIT.CANCELLED,
  PROTOCOL: EXIT.PROTOCOL,
  UNSUPPORTED: EXIT.UNSUPPORTED,
  SPEND_LIMIT: EXIT.SPEND_LIMIT,
  IPFS: EXIT.IPFS,
  CID_MISMATCH: EXIT.VERIFICATION,
  CHAIN: EXIT.CHAIN,
  REVERTED: EXIT.CHAIN,
  REJECTED: EXIT.CHAIN,
  WRONG_CHAIN: EXIT.CHAIN,
  INSUFFICIENT_FUNDS: EXIT.CHAIN,
  REPLACED: EXIT.CHAIN,
  DUPLICATE_JOB: EXIT.DUPLICATE,
};

/** A failure of the CLI itself (bad flags, config, input), with the exit code it maps to. */
export class CliError extends Error {
  constructor(message, exitCode, code) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.code = code;
  }
}

export function exitCodeOf(error) {
  if (error instanceof CliError) return error.exitCode;
  return BY_SDK_CODE[error?.code] ?? EXIT.INTERNAL;
}

/**
 * A finished job's exit code as a process exit code. A cancelled job (the worker reports -1)
 * exits like Ctrl-C; other codes outside 0–255 (a killed job) become 255, since a process exit
 * status is one byte.
 */
export function jobExitCode(result) {
  if (result.status === 'cancelled') return EXIT.CANCELLED;
  const code = result.exitCode;
  if (code === undefined || code === null) return result.status === 'completed' ? 0 : 1;
  return code >= 0 && code <= 255 ? code : 255;
}
