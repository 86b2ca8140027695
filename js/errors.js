// The SDK's error classes. Rust decides what went wrong (code, message, context); this module only
// gives each code its class so that `err instanceof RateLimitError` works. Every error has `code`,
// `retryable`, and the context fields that apply (operation, endpoint, jobId, status,
// retryAfterMs, attempt, plugin, errors, cause, report).

export class SandrunError extends Error {
  constructor(message, details = {}) {
    super(message);
    this.code = details.code ?? 'INTERNAL';
    this.retryable = Boolean(details.retryable);
    // Every other detail the SDK gives (operation, endpoint, jobId, status, retryAfterMs, attempt,
    // plugin, errors, report, and what a layer adds: errorName, args, txHash, …).
    for (const [key, value] of Object.entries(details)) {
      if (key !== 'code' && key !== 'retryable' && value !== undefined) this[key] = value;
    }
  }
}

/** Bad input, found before anything was sent. `errors` lists `{ field, message }`. */
export class ValidationError extends SandrunError {
  get field() { return this.errors?.[0]?.field; }
}
export class NetworkError extends SandrunError {}
export class TimeoutError extends SandrunError {}
/** The server answered with an error status (`status`). */
export class HttpError extends SandrunError {}
/** The worker asked to slow down; `retryAfterMs` says for how long when it said so. */
export class RateLimitError extends HttpError {}
export class NotFoundError extends HttpError {}
/** A result failed verification; `report` holds the verification report. */
export class VerificationError extends SandrunError {}
/** k-of-n consensus was not reached; `report` (and `evidence`, its per-worker part) hold the evidence. */
export class ConsensusError extends SandrunError {
  get evidence() { return this.report?.evidence; }
}
export class CancelledError extends SandrunError {}
/** The server answered, but not with what was asked for. */
export class ProtocolError extends SandrunError {}
/** The platform or server cannot do this. */
export class UnsupportedError extends SandrunError {}
/** The circuit breaker refuses calls to this endpoint for now; `retryAfterMs` says for how long. */
export class CircuitOpenError extends SandrunError {}
/** A plugin or middleware threw; `plugin` names it and `cause` is what it threw. */
export class PluginError extends SandrunError {}
/** A chain call failed (JSON-RPC error, no contract at the address, a dropped transaction). */
export class ChainError extends SandrunError {}
/** The contract reverted: `errorName` and `args` are its custom error's. */
export class RevertError extends ChainError {}
/** The user rejected the request in their wallet (EIP-1193 code 4001). */
export class UserRejectedError extends ChainError {}
/** The wallet or RPC is on another chain than the one expected. */
export class WrongChainError extends ChainError {}
/** The account cannot pay for the transaction (value plus gas). */
export class InsufficientFundsError extends ChainError {}
/** A transaction was replaced by another with the same nonce (`reason`, `replacement`). */
export class ReplacedError extends ChainError {}
/** An IPFS node, gateway or pinning service failed; `attempts` lists each source and what was wrong. */
export class IpfsError extends SandrunError {}
/** Content did not match its CID. */
export class CidMismatchError extends IpfsError {}
/** A paid job would exceed the client's spend caps (`config.limits`); nothing was sent. */
export class SpendLimitError extends SandrunError {}
/** The same job is already posted and not settled (`existingJobId`); nothing was paid. */
export class DuplicateJobError extends SandrunError {}

const byCode = {
  VALIDATION: ValidationError,
  NETWORK: NetworkError,
  TIMEOUT: TimeoutError,
  HTTP: HttpError,
  RATE_LIMITED: RateLimitError,
  NOT_FOUND: NotFoundError,
  VERIFICATION: VerificationError,
  CONSENSUS: ConsensusError,
  CANCELLED: CancelledError,
  PROTOCOL: ProtocolError,
  UNSUPPORTED: UnsupportedError,
  CIRCUIT_OPEN: CircuitOpenError,
  PLUGIN: PluginError,
  CHAIN: ChainError,
  REVERTED: RevertError,
  REJECTED: UserRejectedError,
  WRONG_CHAIN: WrongChainError,
  INSUFFICIENT_FUNDS: InsufficientFundsError,
  REPLACED: ReplacedError,
  IPFS: IpfsError,
  CID_MISMATCH: CidMismatchError,
  SPEND_LIMIT: SpendLimitError,
  DUPLICATE_JOB: DuplicateJobError,
};

// Each class's `name`, written out: `new.target.name` would be whatever a minifier renamed the
// class to (a bundled app showed `Qe` for ConsensusError). Object keys survive minification.
const named = {
  SandrunError, ValidationError, NetworkError, TimeoutError, HttpError, RateLimitError, NotFoundError,
  VerificationError, ConsensusError, CancelledError, ProtocolError, UnsupportedError, CircuitOpenError, PluginError,
  ChainError, RevertError, UserRejectedError, WrongChainError, InsufficientFundsError, ReplacedError, IpfsError, CidMismatchError,
  SpendLimitError, DuplicateJobError,
};
for (const [name, Class] of Object.entries(named)) {
  Object.defineProperty(Class.prototype, 'name', { value: name, writable: true, configurable: true });
}

/** Used by the wasm module (through the platform) to raise errors. */
export function makeError(code, message, details) {
  const Class = byCode[code] ?? SandrunError;
  return new Class(message, { ...(details ?? {}), code });
}
