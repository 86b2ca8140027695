// @sandrun/sdk — public TypeScript surface of the core entry. The same for every condition
// (browser/bundler ESM, Node ESM, Node CJS). `@sandrun/sdk/full` (full/index.d.ts, generated from
// this file by scripts/assemble-pkg.mjs) adds plugins, pools, consensus and nodes; the IIFE's
// global `Sandrun` is the full entry's namespace plus `create`.
// Classes and data types come from the wasm-bindgen/tsify output (sandrun_sdk.d.ts); this file
// adds what the JS glue patches in (async iteration of logs) and the error classes.
// Consumers need TypeScript >= 5.2 with lib `esnext.disposable` (or `skipLibCheck`).

export { Sandrun, JobBuilder, JobExecution, LogStream } from './sandrun_sdk.js';
// Config, spec, status, result and report types generated from Rust (tsify).
export type * from './sandrun_sdk.js';
import type { FieldProblem, VerificationReport } from './sandrun_sdk.js';

declare module './sandrun_sdk.js' {
  interface JobExecution {
    /**
     * The job's output as decoded text chunks: `for await (const chunk of exec.logs())`.
     * Live over the worker's stream while the job runs, from `/logs` after it ended; no chunk is
     * repeated. Leaving the loop early closes the stream.
     */
    logs(): AsyncIterableIterator<string>;
  }
}

/**
 * Loads the wasm before the first `Sandrun.create()` (optional; Node loads it at import).
 * `wasm`: where the `.wasm` is, or its bytes/Response/compiled Module — for bundlers that do not
 * handle `new URL('./sandrun_sdk_bg.wasm', import.meta.url)`.
 */
export declare function init(options?: {
  wasm?: string | URL | Request | Response | BufferSource | WebAssembly.Module;
}): Promise<void>;

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
  readonly errors?: FieldProblem[];
  /** For verification errors: the full report; for consensus errors: the consensus evidence. */
  readonly report?: VerificationReport | Record<string, unknown>;
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
/** k-of-n consensus was not reached (consensus is in `@sandrun/sdk/full`). */
export declare class ConsensusError extends SandrunError {
  readonly report: Record<string, unknown>;
  readonly evidence: Record<string, unknown>[];
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
/** Builds the error instance for a code (used by the wasm; exported for tests and tooling). */
export declare function makeError(code: string, message: string, details?: Record<string, unknown>): SandrunError;
