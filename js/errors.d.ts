// The SDK's error classes (js/errors.js). Which code maps to which class is declared once, in
// Rust (src/core/boundary/error.rs); a test checks this file and errors.js against that list.

/** Base class of every error the SDK throws or rejects with. */
export declare class SandrunError extends Error {
  /** Stable machine-readable code: `VALIDATION`, `NETWORK`, `TIMEOUT`, `HTTP`, `RATE_LIMITED`, … */
  readonly code: string;
  /** Whether trying again later can succeed. */
  readonly retryable: boolean;
  readonly operation?: string;
  readonly endpoint?: string;
  readonly jobId?: string;
  /** HTTP status, when the server answered. */
  readonly status?: number;
  readonly retryAfterMs?: number;
  /** For validation errors: every problem found, each naming its field. */
  readonly errors?: { field: string; message: string }[];
  /** For verification errors: the full report; for consensus errors: the consensus evidence. */
  readonly report?: unknown;
  /** Which attempt failed (1 = the first), when a retry plugin is in use. */
  readonly attempt?: number;
  /** For plugin errors: the plugin (or middleware) that threw. */
  readonly plugin?: string;
  constructor(message: string, details?: Record<string, unknown>);
}
/** Bad input (config, job spec), found before anything was sent; `errors` lists each field. */
export declare class ValidationError extends SandrunError {
  /** The first offending field, e.g. `config.endpoint`, `args[2]`. */
  readonly field: string | undefined;
}
/** The request never got an answer (refused, reset, DNS, CORS). */
export declare class NetworkError extends SandrunError {}
export declare class TimeoutError extends SandrunError {}
/** The server answered with an error status. */
export declare class HttpError extends SandrunError {}
export declare class RateLimitError extends HttpError {}
export declare class NotFoundError extends HttpError {}
/** A result failed verification (job hash, signature, output bytes, untrusted worker key). */
export declare class VerificationError extends SandrunError {}
/** k-of-n consensus was not reached: `report` holds the evidence, `evidence` each worker's part. */
export declare class ConsensusError extends SandrunError {
  readonly report: { reached: boolean; k: number; n: number; agreeing: string[]; dissenting: string[]; evidence: Record<string, unknown>[] } & Record<string, unknown>;
  readonly evidence: ({ workerId: string; signature: string | null } & Record<string, unknown>)[];
}
/** Aborted through an `AbortSignal` or `cancel()`. */
export declare class CancelledError extends SandrunError {}
/** The server answered, but not with what was asked for. */
export declare class ProtocolError extends SandrunError {}
/**
 * This platform, server or build cannot do that (e.g. `directory()` in a browser; `pool()` in the
 * core entry — import from `@sandrun/sdk/full`).
 */
export declare class UnsupportedError extends SandrunError {}
/** The circuit breaker refuses calls to this endpoint for now; `retryAfterMs` says for how long. */
export declare class CircuitOpenError extends SandrunError {}
/** A plugin or middleware threw; `plugin` names it, `cause` is what it threw. */
export declare class PluginError extends SandrunError {}
/** A chain call failed (JSON-RPC error, no contract at the address, a dropped transaction). */
export declare class ChainError extends SandrunError {
  /** The transaction, when one was sent. */
  readonly txHash?: string;
}
/** The contract reverted with one of its custom errors (or `Error(string)`, `Panic(uint256)`). */
export declare class RevertError extends ChainError {
  /** The custom error's name, e.g. `AlreadyClaimed`. */
  readonly errorName: string;
  /** Its arguments by name (bigint for numbers, hex strings for bytes and addresses). */
  readonly args: Record<string, unknown>;
}
/** The user rejected the request in their wallet (EIP-1193 code 4001). */
export declare class UserRejectedError extends ChainError {}
/** The wallet or RPC is on another chain than the one expected. */
export declare class WrongChainError extends ChainError {
  readonly expectedChainId?: bigint;
  readonly chainId?: bigint;
}
/** The account cannot pay for the transaction (value plus gas). */
export declare class InsufficientFundsError extends ChainError {}
/** A transaction was replaced by another with the same nonce. */
export declare class ReplacedError extends ChainError {
  readonly reason?: 'repriced' | 'cancelled' | 'replaced';
  readonly replacement?: string;
}
/** An IPFS node, gateway or pinning service failed; `attempts` lists each source tried. */
export declare class IpfsError extends SandrunError {
  readonly attempts?: { source: string; problem: string }[];
}
/** Content did not match its CID. */
export declare class CidMismatchError extends IpfsError {}
/** A paid job would exceed the client's spend caps (`config.limits`); nothing was sent. */
export declare class SpendLimitError extends SandrunError {
  /** Which cap: `maxPerJob` or `maxTotal`. */
  readonly limit?: 'maxPerJob' | 'maxTotal';
}
/** The same job is already posted and not settled; nothing was paid. */
export declare class DuplicateJobError extends SandrunError {
  /** The market job already posted (`market:<id>` re-attaches to it). */
  readonly existingJobId?: bigint;
  readonly inputCid?: string;
}
/** Builds the error instance for a code (used by the wasm; exported for tests and tooling). */
export declare function makeError(code: string, message: string, details?: Record<string, unknown>): SandrunError;
