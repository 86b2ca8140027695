//! One error type for the whole SDK. Every failure carries a stable `code`, whether retrying can
//! help, and the context it happened in; at the boundary it becomes an instance of the JS class of
//! its code (`raise.rs`), so `instanceof ValidationError` works.
//!
//! The codes are declared once, below: each with its JS class, that class's parent and whether it
//! is retryable by default. `js/errors.js` (the classes) and `js/errors.d.ts` (their types) are
//! checked against this list by a test, so the three cannot drift apart.

use wasm_bindgen::JsValue;

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $code:literal, $class:literal extends $parent:literal, retryable: $retry:literal; )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $( $(#[doc = $doc])* $variant, )* }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable text JS sees as `error.code`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// The class in `js/errors.js` an error with this code is an instance of.
            pub fn class_name(self) -> &'static str {
                match self { $(Code::$variant => $class,)* }
            }

            /// The class that class extends.
            pub fn parent_class(self) -> &'static str {
                match self { $(Code::$variant => $parent,)* }
            }

            pub fn default_retryable(self) -> bool {
                match self { $(Code::$variant => $retry,)* }
            }
        }
    };
}

codes! {
    /// Bad input, found before anything was sent.
    Validation = "VALIDATION", "ValidationError" extends "SandrunError", retryable: false;
    /// The request never got an answer (refused, reset, DNS…).
    Network = "NETWORK", "NetworkError" extends "SandrunError", retryable: true;
    Timeout = "TIMEOUT", "TimeoutError" extends "SandrunError", retryable: true;
    /// The server answered with an error status.
    Http = "HTTP", "HttpError" extends "SandrunError", retryable: false;
    RateLimited = "RATE_LIMITED", "RateLimitError" extends "HttpError", retryable: true;
    NotFound = "NOT_FOUND", "NotFoundError" extends "HttpError", retryable: false;
    /// A result failed verification (hash, signature, output bytes, untrusted worker).
    Verification = "VERIFICATION", "VerificationError" extends "SandrunError", retryable: false;
    /// k-of-n consensus was not reached (`report` holds the evidence).
    Consensus = "CONSENSUS", "ConsensusError" extends "SandrunError", retryable: false;
    Cancelled = "CANCELLED", "CancelledError" extends "SandrunError", retryable: false;
    /// The server answered, but not with what was asked for.
    Protocol = "PROTOCOL", "ProtocolError" extends "SandrunError", retryable: false;
    /// The platform or server cannot do this.
    Unsupported = "UNSUPPORTED", "UnsupportedError" extends "SandrunError", retryable: false;
    /// A broken invariant inside the SDK; please report it.
    Internal = "INTERNAL", "SandrunError" extends "Error", retryable: false;
    /// The circuit breaker refuses calls to this endpoint for now (`retryAfterMs` says how long).
    CircuitOpen = "CIRCUIT_OPEN", "CircuitOpenError" extends "SandrunError", retryable: true;
    /// A plugin or middleware threw (`plugin` names it; `cause` is what it threw).
    Plugin = "PLUGIN", "PluginError" extends "SandrunError", retryable: false;
    /// A chain call failed (JSON-RPC error, no contract at the address, a transaction dropped).
    Chain = "CHAIN", "ChainError" extends "SandrunError", retryable: false;
    /// The contract reverted: `errorName` and `args` are its custom error's.
    Reverted = "REVERTED", "RevertError" extends "ChainError", retryable: false;
    /// The user rejected the request in their wallet (EIP-1193 code 4001).
    Rejected = "REJECTED", "UserRejectedError" extends "ChainError", retryable: false;
    /// The wallet or RPC is on another chain than the one expected.
    WrongChain = "WRONG_CHAIN", "WrongChainError" extends "ChainError", retryable: false;
    /// The account cannot pay for the transaction (value plus gas).
    InsufficientFunds = "INSUFFICIENT_FUNDS", "InsufficientFundsError" extends "ChainError", retryable: false;
    /// A transaction was replaced by another with the same nonce (`reason`: repriced, cancelled,
    /// replaced; `replacement` is the one mined).
    Replaced = "REPLACED", "ReplacedError" extends "ChainError", retryable: false;
    /// An IPFS node, gateway or pinning service failed (`attempts` lists each source tried and
    /// what was wrong with it).
    Ipfs = "IPFS", "IpfsError" extends "SandrunError", retryable: true;
    /// Content did not match its CID (a node's CID differs from the local one, a block's hash
    /// from the CID it was asked for).
    CidMismatch = "CID_MISMATCH", "CidMismatchError" extends "IpfsError", retryable: false;
    /// A paid job would exceed the client's spend caps (`config.limits`); nothing was sent.
    SpendLimit = "SPEND_LIMIT", "SpendLimitError" extends "SandrunError", retryable: false;
    /// The same job is already posted and not settled (`existingJobId` names it); nothing was
    /// paid. `{ allowDuplicate: true }` posts it again on purpose.
    DuplicateJob = "DUPLICATE_JOB", "DuplicateJobError" extends "SandrunError", retryable: false;
}

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, sandrun_derive::ToJs)]
pub struct FieldProblem {
    /// Where: `entrypoint`, `args[2]`, `files["data/x.csv"]`, `config.endpoint`, …
    pub field: String,
    /// What is wrong and what to change.
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
        FieldProblem {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Context attached to an error; only the fields that apply are set.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub operation: Option<&'static str>,
    pub endpoint: Option<String>,
    pub job_id: Option<String>,
    pub status: Option<u16>,
    pub retry_after_ms: Option<f64>,
    pub errors: Vec<FieldProblem>,
    /// The underlying error's message (a platform error, a server's error text).
    pub cause: Option<String>,
    /// Which attempt failed (1 = the first), when a retry plugin is in use.
    pub attempt: Option<u32>,
    /// The plugin or middleware that threw (PLUGIN errors).
    pub plugin: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SdkError {
    pub code: Code,
    pub message: String,
    pub retryable: bool,
    pub context: Context,
    /// A value the JS error carries as `.report` (a verification report, say).
    pub report: Option<JsValue>,
    /// Fields a layer adds to its errors, as a plain object whose keys the JS error gets (a
    /// revert's `errorName` and `args`, a `txHash`, …). One value, not a list: every error site
    /// clones and drops the context, and a list there cost the core's wasm about 1 KB.
    pub details: Option<JsValue>,
    /// A JS value thrown by user code: a PLUGIN error carries it as `.cause`; for other codes it
    /// is what JS receives unchanged (a `SandrunError` a middleware rethrew).
    pub js: Option<JsValue>,
}

pub type Result<T> = std::result::Result<T, SdkError>;

impl SdkError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        SdkError {
            code,
            message: message.into(),
            retryable: code.default_retryable(),
            context: Context::default(),
            report: None,
            details: None,
            js: None,
        }
    }

    pub fn validation(problems: Vec<FieldProblem>) -> Self {
        let message = match problems.as_slice() {
            [one] => format!("invalid {}: {}", one.field, one.message),
            many => {
                let mut text = format!("{} problems", many.len());
                for (i, p) in many.iter().enumerate() {
                    let sep = if i == 0 { ": " } else { "; " };
                    text.push_str(&format!("{sep}{}: {}", p.field, p.message));
                }
                text
            }
        };
        let mut e = SdkError::new(Code::Validation, message);
        e.context.errors = problems;
        e
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        SdkError::validation(vec![FieldProblem::new(field, message)])
    }

    pub fn retryable(mut self, r: bool) -> Self {
        self.retryable = r;
        self
    }

    /// Names the operation, unless an inner layer already did.
    pub fn op(mut self, operation: &'static str) -> Self {
        self.context.operation.get_or_insert(operation);
        self
    }

    pub fn endpoint(mut self, endpoint: &str) -> Self {
        self.context
            .endpoint
            .get_or_insert_with(|| endpoint.to_string());
        self
    }

    pub fn job(mut self, id: &str) -> Self {
        self.context.job_id.get_or_insert_with(|| id.to_string());
        self
    }

    pub fn cause(mut self, cause: impl Into<String>) -> Self {
        self.context.cause = Some(cause.into());
        self
    }

    pub fn with_report(mut self, report: JsValue) -> Self {
        self.report = Some(report);
        self
    }

    /// Adds the keys of `details` (a plain object) to the JS error.
    pub fn with_details(mut self, details: JsValue) -> Self {
        self.details = Some(details);
        self
    }
}

impl std::fmt::Display for SdkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_message_lists_every_problem() {
        let one = SdkError::field("args[0]", "contains '\"'");
        assert_eq!(one.message, "invalid args[0]: contains '\"'");
        assert_eq!(one.code, Code::Validation);
        assert!(!one.retryable);
        let two = SdkError::validation(vec![
            FieldProblem::new("a", "x"),
            FieldProblem::new("b", "y"),
        ]);
        assert_eq!(two.message, "2 problems: a: x; b: y");
        assert_eq!(two.context.errors.len(), 2);
    }

    #[test]
    fn retryable_defaults_follow_the_code() {
        assert!(SdkError::new(Code::Network, "x").retryable);
        assert!(SdkError::new(Code::RateLimited, "x").retryable);
        assert!(!SdkError::new(Code::Verification, "x").retryable);
        assert!(!SdkError::new(Code::Http, "x").retryable(false).retryable);
    }

    /// The JS classes (`js/errors.js`) and their declarations (`js/errors.d.ts`) are the ones
    /// this list names: every code maps to its class in `byCode`, every class is declared with
    /// its parent, and nothing else is mapped.
    #[test]
    fn js_classes_match_the_codes() {
        let js = include_str!("../../../js/errors.js");
        let dts = include_str!("../../../js/errors.d.ts");
        let by_code = &js[js.find("const byCode").expect("errors.js has byCode")..];
        let by_code = &by_code[..by_code.find("};").expect("byCode ends")];
        let mapped: Vec<&str> = by_code
            .lines()
            .filter_map(|l| l.trim().split_once(':'))
            .map(|(k, _)| k.trim())
            .collect();
        for code in Code::ALL {
            let (class, parent) = (code.class_name(), code.parent_class());
            if *code != Code::Internal {
                assert!(
                    by_code.contains(&format!("{}: {class},", code.as_str())),
                    "js/errors.js byCode lacks {}: {class}",
                    code.as_str()
                );
            }
            assert!(
                js.contains(&format!("export class {class} extends {parent}")),
                "js/errors.js lacks `export class {class} extends {parent}`"
            );
            assert!(
                dts.contains(&format!("export declare class {class} extends {parent}")),
                "js/errors.d.ts lacks `export declare class {class} extends {parent}`"
            );
        }
        for key in mapped {
            assert!(
                Code::ALL.iter().any(|c| c.as_str() == key),
                "js/errors.js maps {key}, which is no code"
            );
        }
    }
}
