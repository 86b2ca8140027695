//! SandrunMarket's calls: calldata for every function (inputs checked first, naming the
//! field), the deployment code, and the views' return data decoded into plain values.
//!
//! The types come from `sol!` reading the committed artifact (contracts/out/SandrunMarket.json):
//! a change to the contract that is compiled and committed changes them here, and a call whose
//! shape changed stops compiling.

use crate::input::{
    self, InputError, Problem, MAX_CID_LENGTH, MAX_ENDPOINT_LENGTH, MAX_RUN_LENGTH,
};
use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_sol_types::{SolCall, SolConstructor};
use core::fmt;

// In a module of its own for the allow: sol! generates constructors that take every field of
// an event or struct (JobPosted has 8).
#[allow(clippy::too_many_arguments)]
mod generated {
    alloy_sol_types::sol!(
        #[derive(Debug, PartialEq, Eq)]
        SandrunMarket,
        "../../contracts/out/SandrunMarket.json"
    );
}

pub use generated::SandrunMarket;
use SandrunMarket as M;

/// Return data (or a log) that does not decode as the ABI says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "undecodable: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

impl From<alloy_sol_types::Error> for DecodeError {
    fn from(e: alloy_sol_types::Error) -> Self {
        Self(e.to_string())
    }
}

const SIGNATURE_LENGTH: usize = 64;

fn uint<const BITS: usize, const LIMBS: usize>(
    field: &str,
    value: U256,
) -> Result<alloy_primitives::Uint<BITS, LIMBS>, InputError> {
    alloy_primitives::Uint::<BITS, LIMBS>::checked_from_limbs_slice(value.as_limbs()).ok_or_else(
        || InputError {
            field: field.to_string(),
            problem: Problem::AboveMax {
                max: U256::MAX >> (256 - BITS),
            },
        },
    )
}

/// A job to post: what `postJob` takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostJob {
    pub job_hash: B256,
    pub input_cid: String,
    pub k: u64,
    pub n: u64,
    /// wei, at most 2^96 - 1
    pub price_per_node: U256,
    /// unix seconds
    pub deadline: u64,
}

impl PostJob {
    /// The escrow `postJob` must carry: pricePerNode × n.
    pub fn escrow(&self) -> U256 {
        self.price_per_node.saturating_mul(U256::from(self.n))
    }
}

/// The deployment code: the committed bytecode followed by the constructor's arguments.
pub fn deploy_code(
    min_bond: U256,
    claim_bond: U256,
    unbonding_delay: u32,
) -> Result<Bytes, InputError> {
    uint::<80, 2>("minBond", min_bond)?;
    uint::<80, 2>("claimBond", claim_bond)?;
    if claim_bond.is_zero() {
        return Err(InputError {
            field: "claimBond".into(),
            problem: Problem::Zero,
        });
    }
    if claim_bond > min_bond {
        return Err(InputError {
            field: "claimBond".into(),
            problem: Problem::AboveMax { max: min_bond },
        });
    }
    let args = M::constructorCall {
        minBond_: min_bond,
        claimBond_: claim_bond,
        unbondingDelay_: unbonding_delay,
    }
    .abi_encode();
    let mut code = M::BYTECODE.to_vec();
    code.extend_from_slice(&args);
    Ok(code.into())
}

pub fn register_node(worker_key: B256, endpoint: &str, price: U256) -> Result<Bytes, InputError> {
    let (worker_key, price) = node_fields(worker_key, endpoint, price)?;
    Ok(M::registerNodeCall {
        workerKey: worker_key,
        endpoint: endpoint.to_string(),
        price,
    }
    .abi_encode()
    .into())
}

pub fn update_node(worker_key: B256, endpoint: &str, price: U256) -> Result<Bytes, InputError> {
    let (worker_key, price) = node_fields(worker_key, endpoint, price)?;
    Ok(M::updateNodeCall {
        workerKey: worker_key,
        endpoint: endpoint.to_string(),
        price,
    }
    .abi_encode()
    .into())
}

fn node_fields(
    worker_key: B256,
    endpoint: &str,
    price: U256,
) -> Result<(B256, alloy_primitives::Uint<96, 2>), InputError> {
    if worker_key.is_zero() {
        return Err(InputError {
            field: "workerKey".into(),
            problem: Problem::Zero,
        });
    }
    input::length("endpoint", endpoint, 0, MAX_ENDPOINT_LENGTH)?;
    Ok((worker_key, uint("price", price)?))
}

pub fn unregister_node() -> Bytes {
    M::unregisterNodeCall {}.abi_encode().into()
}

pub fn withdraw_bond() -> Bytes {
    M::withdrawBondCall {}.abi_encode().into()
}

/// `postJob` calldata, after the checks the contract would make (`now`: unix seconds).
pub fn post_job(job: &PostJob, now: u64) -> Result<Bytes, InputError> {
    if job.job_hash.is_zero() {
        return Err(InputError {
            field: "jobHash".into(),
            problem: Problem::Zero,
        });
    }
    input::length("inputCid", &job.input_cid, 1, MAX_CID_LENGTH)?;
    let (k, n) = input::quorum(job.k, job.n)?;
    if job.price_per_node.is_zero() {
        return Err(InputError {
            field: "pricePerNode".into(),
            problem: Problem::Zero,
        });
    }
    let price = uint::<96, 2>("pricePerNode", job.price_per_node)?;
    let deadline = input::deadline(job.deadline, now)?;
    let deadline = uint::<40, 1>("deadline", U256::from(deadline))?;
    Ok(M::postJobCall {
        jobHash: job.job_hash,
        inputCid: job.input_cid.clone(),
        k,
        n,
        pricePerNode: price,
        deadline,
    }
    .abi_encode()
    .into())
}

pub fn claim(job_id: U256) -> Bytes {
    M::claimCall { jobId: job_id }.abi_encode().into()
}

/// `started` calldata: a claimant announces `run`, the id its worker gave the job.
pub fn started(job_id: U256, run: &str) -> Result<Bytes, InputError> {
    input::length("run", run, 1, MAX_RUN_LENGTH)?;
    Ok(M::startedCall {
        jobId: job_id,
        run: run.to_string(),
    }
    .abi_encode()
    .into())
}

/// `submitResult` calldata; `signature` is the worker's 64-byte Ed25519 signature.
pub fn submit_result(
    job_id: U256,
    result_hash: B256,
    output_cid: &str,
    signature: &[u8],
) -> Result<Bytes, InputError> {
    input::length("outputCid", output_cid, 1, MAX_CID_LENGTH)?;
    if signature.len() != SIGNATURE_LENGTH {
        return Err(InputError {
            field: "signature".into(),
            problem: Problem::WrongLength {
                expected: SIGNATURE_LENGTH,
                got: signature.len(),
            },
        });
    }
    Ok(M::submitResultCall {
        jobId: job_id,
        resultHash: result_hash,
        outputCid: output_cid.to_string(),
        signature: Bytes::copy_from_slice(signature),
    }
    .abi_encode()
    .into())
}

pub fn finalize(job_id: U256) -> Bytes {
    M::finalizeCall { jobId: job_id }.abi_encode().into()
}

pub fn refund(job_id: U256) -> Bytes {
    M::refundCall { jobId: job_id }.abi_encode().into()
}

pub fn cancel(job_id: U256) -> Bytes {
    M::cancelCall { jobId: job_id }.abi_encode().into()
}

pub fn withdraw() -> Bytes {
    M::withdrawCall {}.abi_encode().into()
}

// --- views ---------------------------------------------------------------------------------

pub fn get_job(job_id: U256) -> Bytes {
    M::getJobCall { jobId: job_id }.abi_encode().into()
}

pub fn get_node(node: Address) -> Bytes {
    M::getNodeCall { node }.abi_encode().into()
}

pub fn balance_of(account: Address) -> Bytes {
    M::balanceOfCall { account }.abi_encode().into()
}

pub fn job_count() -> Bytes {
    M::jobCountCall {}.abi_encode().into()
}

pub fn min_bond() -> Bytes {
    M::minBondCall {}.abi_encode().into()
}

pub fn claim_bond() -> Bytes {
    M::claimBondCall {}.abi_encode().into()
}

pub fn unbonding_delay() -> Bytes {
    M::unbondingDelayCall {}.abi_encode().into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Open,
    Claimed,
    Finalized,
    Refunded,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Claimed => "claimed",
            Self::Finalized => "finalized",
            Self::Refunded => "refunded",
            Self::Cancelled => "cancelled",
        }
    }

    fn from_abi(state: u8) -> Result<Self, DecodeError> {
        Ok(match state {
            1 => Self::Open,
            2 => Self::Claimed,
            3 => Self::Finalized,
            4 => Self::Refunded,
            5 => Self::Cancelled,
            other => return Err(DecodeError(format!("job state {other}"))),
        })
    }
}

/// One claimant of a job and what it submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub node: Address,
    /// None until the node submits.
    pub result_hash: Option<B256>,
}

/// A job's whole state (`getJob`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub state: JobState,
    pub poster: Address,
    pub k: u8,
    pub n: u8,
    pub deadline: u64,
    pub price_per_node: U256,
    /// The result hash k nodes agree on, once they do.
    pub agreed_result: Option<B256>,
    pub claims: Vec<Claim>,
}

/// A node's record (`getNode`); `registered` is false for an account that only has a balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub registered: bool,
    pub id: u32,
    pub worker_key: B256,
    pub endpoint: String,
    pub price: U256,
    pub bond: U256,
    /// activeClaims × claimBond
    pub locked: U256,
    pub active_claims: u16,
    /// When the bond may be withdrawn, once unregisterNode was called.
    pub unbonding_at: Option<u64>,
    pub balance: U256,
}

pub fn decode_job(data: &[u8]) -> Result<Job, DecodeError> {
    let v = M::getJobCall::abi_decode_returns(data)?;
    let count = v.claims.len();
    if v.submitted.len() != count || v.resultHashes.len() != count {
        return Err(DecodeError(
            "getJob: claims, submitted and resultHashes differ in length".into(),
        ));
    }
    let claims = (0..count)
        .map(|i| Claim {
            node: v.claims[i],
            result_hash: v.submitted[i].then_some(v.resultHashes[i]),
        })
        .collect();
    Ok(Job {
        state: JobState::from_abi(v.state)?,
        poster: v.poster,
        k: v.k,
        n: v.n,
        deadline: v.deadline.to::<u64>(),
        price_per_node: U256::from(v.pricePerNode),
        agreed_result: (!v.agreedResult.is_zero()).then_some(v.agreedResult),
        claims,
    })
}

pub fn decode_node(data: &[u8]) -> Result<Node, DecodeError> {
    let v = M::getNodeCall::abi_decode_returns(data)?;
    Ok(Node {
        registered: v.registered,
        id: v.id.to::<u32>(),
        worker_key: v.workerKey,
        endpoint: v.endpoint,
        price: U256::from(v.price),
        bond: v.bond,
        locked: v.locked,
        active_claims: v.activeClaims,
        unbonding_at: (v.unbondingAt != 0).then_some(u64::from(v.unbondingAt)),
        balance: v.balance,
    })
}

/// The return data of a view that returns one unsigned integer (balanceOf, jobCount, minBond,
/// claimBond, unbondingDelay).
pub fn decode_uint(data: &[u8]) -> Result<U256, DecodeError> {
    if data.len() != 32 {
        return Err(DecodeError(format!(
            "expected one 32-byte word, got {} bytes",
            data.len()
        )));
    }
    Ok(U256::from_be_slice(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    const CID: &str = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";

    fn job() -> PostJob {
        PostJob {
            job_hash: B256::repeat_byte(1),
            input_cid: CID.into(),
            k: 2,
            n: 3,
            price_per_node: U256::from(10u64.pow(16)),
            deadline: 2_000,
        }
    }

    fn field_of(e: InputError) -> (String, Problem) {
        (e.field, e.problem)
    }

    #[test]
    fn calldata_starts_with_the_functions_selector() {
        let selector = |sig: &str| keccak256(sig)[..4].to_vec();
        assert_eq!(claim(U256::from(7))[..4], selector("claim(uint256)")[..]);
        assert_eq!(
            U256::from_be_slice(&claim(U256::from(7))[4..]),
            U256::from(7)
        );
        assert_eq!(withdraw()[..], selector("withdraw()")[..]);
        assert_eq!(finalize(U256::ZERO)[..4], selector("finalize(uint256)")[..]);
        assert_eq!(refund(U256::ZERO)[..4], selector("refund(uint256)")[..]);
        assert_eq!(cancel(U256::ZERO)[..4], selector("cancel(uint256)")[..]);
        assert_eq!(unregister_node()[..], selector("unregisterNode()")[..]);
        assert_eq!(withdraw_bond()[..], selector("withdrawBond()")[..]);
        assert_eq!(
            get_node(Address::ZERO)[..4],
            selector("getNode(address)")[..]
        );
        assert_eq!(
            balance_of(Address::ZERO)[..4],
            selector("balanceOf(address)")[..]
        );
        assert_eq!(job_count()[..], selector("jobCount()")[..]);
        assert_eq!(
            post_job(&job(), 1_000).unwrap()[..4],
            selector("postJob(bytes32,string,uint8,uint8,uint96,uint40)")[..]
        );
        let sig = [7u8; 64];
        assert_eq!(
            submit_result(U256::from(1), B256::ZERO, CID, &sig).unwrap()[..4],
            selector("submitResult(uint256,bytes32,string,bytes)")[..]
        );
        assert_eq!(
            started(U256::from(1), "job_1764586800_1").unwrap()[..4],
            selector("started(uint256,string)")[..]
        );
        assert_eq!(
            register_node(B256::repeat_byte(2), "http://x", U256::ZERO).unwrap()[..4],
            selector("registerNode(bytes32,string,uint96)")[..]
        );
        assert_eq!(job().escrow(), U256::from(3 * 10u64.pow(16)));
    }

    #[test]
    fn post_job_refuses_bad_input_naming_the_field() {
        let now = 1_000;
        let bad = |f: fn(&mut PostJob)| {
            let mut j = job();
            f(&mut j);
            field_of(post_job(&j, now).unwrap_err())
        };
        assert_eq!(
            bad(|j| j.job_hash = B256::ZERO),
            ("jobHash".into(), Problem::Zero)
        );
        assert_eq!(bad(|j| j.input_cid.clear()).0, "inputCid");
        assert_eq!(bad(|j| j.input_cid = "b".repeat(129)).0, "inputCid");
        assert_eq!(
            bad(|j| j.k = 4),
            ("k".into(), Problem::QuorumOutOfRange { k: 4, n: 3 })
        );
        assert_eq!(
            bad(|j| j.k = 1).1,
            Problem::QuorumNotMajority { k: 1, n: 3 }
        );
        assert_eq!(bad(|j| j.n = 17).0, "n");
        assert_eq!(
            bad(|j| j.price_per_node = U256::ZERO),
            ("pricePerNode".into(), Problem::Zero)
        );
        assert_eq!(
            bad(|j| j.price_per_node = U256::from(1) << 96),
            (
                "pricePerNode".into(),
                Problem::AboveMax {
                    max: (U256::from(1) << 96) - U256::from(1)
                }
            )
        );
        assert_eq!(bad(|j| j.deadline = 1_000).0, "deadline");
        assert_eq!(bad(|j| j.deadline = 1 << 40).0, "deadline");
    }

    #[test]
    fn other_calls_refuse_bad_input_naming_the_field() {
        let key = B256::repeat_byte(3);
        assert_eq!(
            field_of(register_node(B256::ZERO, "", U256::ZERO).unwrap_err()).0,
            "workerKey"
        );
        assert_eq!(
            field_of(update_node(key, &"e".repeat(257), U256::ZERO).unwrap_err()).0,
            "endpoint"
        );
        assert_eq!(
            field_of(register_node(key, "", U256::MAX).unwrap_err()).0,
            "price"
        );
        let sig = [0u8; 63];
        assert_eq!(
            field_of(submit_result(U256::ZERO, B256::ZERO, CID, &sig).unwrap_err()),
            (
                "signature".into(),
                Problem::WrongLength {
                    expected: 64,
                    got: 63
                }
            )
        );
        assert_eq!(
            field_of(submit_result(U256::ZERO, B256::ZERO, "", &[0; 64]).unwrap_err()).0,
            "outputCid"
        );
        assert_eq!(field_of(started(U256::ZERO, "").unwrap_err()).0, "run");
        assert_eq!(
            field_of(started(U256::ZERO, &"j".repeat(129)).unwrap_err()).0,
            "run"
        );
        let one = U256::from(1);
        assert_eq!(
            field_of(deploy_code(one, U256::ZERO, 60).unwrap_err()),
            ("claimBond".into(), Problem::Zero)
        );
        assert_eq!(
            field_of(deploy_code(one, one + one, 60).unwrap_err()).0,
            "claimBond"
        );
        assert_eq!(
            field_of(deploy_code(U256::from(1) << 80, one, 60).unwrap_err()).0,
            "minBond"
        );
        let code = deploy_code(U256::from(100), U256::from(10), 60).unwrap();
        assert!(code.starts_with(&SandrunMarket::BYTECODE));
        assert_eq!(code.len(), SandrunMarket::BYTECODE.len() + 3 * 32);
    }

    #[test]
    fn views_refuse_malformed_return_data() {
        assert!(decode_job(&[0u8; 31]).is_err());
        assert!(decode_node(&[]).is_err());
        assert_eq!(decode_uint(&[0u8; 32]), Ok(U256::ZERO));
        assert!(decode_uint(&[0u8; 33]).is_err());
    }
}
