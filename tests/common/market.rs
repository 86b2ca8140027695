//! Paid market job scenarios (issue 11, the submitter's side: src/market/coordination), in Node
//! and headless Chromium, against the anvil of scripts/test-wasm.d/20-chain.sh and the Kubo of
//! 30-ipfs.sh. Each scenario signs with a fresh funded key (or the EIP-1193 test wallet) and
//! deploys a market of its own, so no node is registered there and no job is claimed: what they
//! check is everything a submitter does before and around the nodes — the checks before
//! sending, IPFS before payment, the escrow, the no-double-pay check, the refund after the
//! deadline, progress and re-attaching.
#![allow(dead_code)]

use super::chain::{chain_id, rpc_url};
use super::{describe, fails, get, is_node, m, now, obj, ok, report, sleep};
use js_sys::{Array, BigInt, Promise};
use sandrun_sdk::Sandrun;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

macro_rules! market_scenarios {
    ($install:path; $($name:ident),* $(,)?) => {
        mod market {
            $(
                #[wasm_bindgen_test::wasm_bindgen_test]
                async fn $name() {
                    $install();
                    crate::common::within(stringify!($name), crate::common::market::$name()).await
                }
            )*
        }
    };
}
pub(crate) use market_scenarios;

macro_rules! all_market_scenarios {
    ($install:path) => {
        crate::common::market::market_scenarios!($install;
            checks_before_sending, spend_cap_refused_before_sending, ipfs_down_before_payment,
            wallet_rejects_the_escrow, duplicate_refused_and_cancel, no_claims_refund_and_reattach,
            two_of_three_faulty_slashed_settled_once, claimant_dies_others_complete_or_refund,
            stack_two_of_three_by_the_agents, stack_restarted_submitter_settles_once,
            health_reports_the_market, reads_start_at_the_market_block,
            stack_reads_start_at_its_market_block, stack_on_stage_live_from_packaging,
            logs_read_in_ranges_a_capped_provider_accepts,
            stack_logs_of_the_first_node);
    };
}
pub(crate) use all_market_scenarios;

#[wasm_bindgen(module = "/tests/support/wallet.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn rpc(url: &str, method: &str, params: JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = randomKey)]
    fn random_key() -> String;
    #[wasm_bindgen(js_name = createWallet)]
    fn create_wallet(url: &str, chain_id: f64) -> JsValue;
    fn collector() -> JsValue;
}

// A market node as the test plays it (the node agent is the node side's, src/ext/operator): it
// claims the job, reads the job directory from IPFS, runs it on its worker over plain HTTP,
// puts the result directory on IPFS (status.json exactly as the worker wrote it, outputs/<path>)
// and submits resultHash = sha256(result_key) with the worker's signature. `tamper` changes one
// output byte after the worker signed it and reports the hash of the changed bytes, as the
// stack's faulty agent does: the submitter must find that its outputs do not match.
#[wasm_bindgen(inline_js = r#"
const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const sha = async (bytes) => hex(await crypto.subtle.digest('SHA-256', bytes));
export async function runNode(market, ipfs, jobId, inputCid, worker, tamper) {
  await market.claim(jobId);
  const job = await ipfs.getDirectory(inputCid);
  const form = new FormData();
  form.append('files', new Blob([job.files['job.tar.gz']]), 'job.tar.gz');
  form.append('manifest', new TextDecoder().decode(job.files['manifest.json']));
  const sent = await (await fetch(`${worker}/submit`, { method: 'POST', body: form })).json();
  let text, status;
  for (;;) {
    text = await (await fetch(`${worker}/status/${sent.job_id}`)).text();
    status = JSON.parse(text);
    if (status.status === 'completed' || status.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const tree = { 'status.json': text };
  const outputs = {};
  for (const path of Object.keys(status.output_files).sort()) {
    const bytes = new Uint8Array(await (await fetch(`${worker}/download/${sent.job_id}/${path}`)).arrayBuffer());
    if (tamper) bytes[0] ^= 1;
    tree[`outputs/${path}`] = bytes;
    outputs[path] = tamper ? await sha(bytes) : status.output_files[path].sha256;
  }
  let key = `${status.job_hash}|${status.execution_metadata.exit_code}|`;
  for (const path of Object.keys(outputs).sort()) key += `${path}:${outputs[path]}|`;
  const resultHash = `0x${await sha(new TextEncoder().encode(key))}`;
  const added = await ipfs.addDirectory(tree, { cidVersion: 1 });
  await market.submitResult(jobId, { resultHash, outputCid: added.cid, signature: status.worker_metadata.signature });
  return resultHash;
}
export function withTimeout(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
export async function workerStatus(endpoint, id) {
  const res = await fetch(`${endpoint}/status/${id}`);
  return { code: res.status, body: await res.json() };
}
export async function workerId(worker) {
  return (await (await fetch(`${worker}/health`)).json()).worker_id;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = runNode)]
    fn run_node(
        market: &JsValue,
        ipfs: &JsValue,
        job_id: &JsValue,
        input_cid: &str,
        worker: &str,
        tamper: bool,
    ) -> Promise;
    #[wasm_bindgen(js_name = workerId)]
    fn worker_id(worker: &str) -> Promise;
    #[wasm_bindgen(js_name = workerStatus)]
    fn worker_status(endpoint: &str, id: &str) -> Promise;
    #[wasm_bindgen(js_name = withTimeout)]
    fn with_timeout(promise: &JsValue, ms: f64, what: &str) -> Promise;
}

// An EIP-1193 provider over anvil's HTTP JSON-RPC that keeps every request it forwards (method
// and params), so a scenario can count the reads the SDK makes and see their block ranges. With
// `cap`, it refuses an eth_getLogs over more than `cap` blocks as Infura refuses one too large
// (-32005, "query returned more than 10000 results"), and marks that call `refused`.
#[wasm_bindgen(inline_js = r#"
export function countingProvider(url, cap) {
  const calls = [];
  let id = 0;
  const provider = {
    async request({ method, params = [] }) {
      const call = { method, params };
      calls.push(call);
      if (cap && method === 'eth_getLogs' && BigInt(params[0].toBlock) - BigInt(params[0].fromBlock) + 1n > BigInt(cap)) {
        call.refused = true;
        throw Object.assign(new Error('query returned more than 10000 results'), { code: -32005 });
      }
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }) });
      const body = await res.json();
      if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code, data: body.error.data });
      return body.result;
    },
  };
  return { provider, calls };
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = countingProvider)]
    fn counting_provider(url: &str, cap: u32) -> JsValue;
}

fn pool_workers() -> Vec<&'static str> {
    option_env!("SANDRUN_TEST_POOL_WORKERS")
        .unwrap_or("http://127.0.0.1:18450,http://127.0.0.1:18451,http://127.0.0.1:18452")
        .split(',')
        .collect()
}

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    type SpendLimitError;
    type DuplicateJobError;
    type UserRejectedError;
    type IpfsError;
    type ConsensusError;
    type ValidationError;
}

fn ipfs_api() -> &'static str {
    option_env!("SANDRUN_TEST_IPFS_API").unwrap_or("http://127.0.0.1:18473")
}
fn ipfs_down() -> &'static str {
    option_env!("SANDRUN_TEST_IPFS_DOWN").unwrap_or("http://127.0.0.1:18481")
}
/// 1,000 ether.
const FUNDS: &str = "0x3635c9adc5dea00000";
const CENT: u64 = 10_000_000_000_000_000; // 0.01 ether

async fn anvil(method: &str, params: &[JsValue]) -> JsValue {
    anvil_at(rpc_url(), method, params).await
}

async fn anvil_at(url: &str, method: &str, params: &[JsValue]) -> JsValue {
    let p: Array = params.iter().collect();
    rpc(url, method, p.into())
        .await
        .unwrap_or_else(|e| panic!("{method}: {}", describe(&e)))
}

/// The local market stack of scripts/test-wasm.d/40-market.sh (41-market-submit.sh exports
/// these): its anvil, market, Kubo API and faulty agent. None when it did not start.
struct Stack {
    rpc: &'static str,
    market: &'static str,
    ipfs: &'static str,
    faulty: &'static str,
}

fn stack() -> Option<Stack> {
    Some(Stack {
        rpc: option_env!("SANDRUN_TEST_STACK_RPC")?,
        market: option_env!("SANDRUN_TEST_STACK_MARKET")?,
        ipfs: option_env!("SANDRUN_TEST_STACK_IPFS")?,
        faulty: option_env!("SANDRUN_TEST_STACK_FAULTY")?,
    })
}

fn hex_u128(v: &JsValue) -> u128 {
    u128::from_str_radix(v.as_string().unwrap().trim_start_matches("0x"), 16).unwrap()
}

async fn nonce_of(address: &str) -> u128 {
    hex_u128(
        &anvil(
            "eth_getTransactionCount",
            &[address.into(), "latest".into()],
        )
        .await,
    )
}

async fn balance_of(address: &str) -> u128 {
    hex_u128(&anvil("eth_getBalance", &[address.into(), "latest".into()]).await)
}

fn big(v: &JsValue) -> u128 {
    assert!(v.is_bigint(), "expected a bigint, got {}", describe(v));
    BigInt::from(v.clone())
        .to_string(10)
        .unwrap()
        .as_string()
        .unwrap()
        .parse()
        .unwrap()
}

fn s(v: &JsValue) -> String {
    v.as_string()
        .unwrap_or_else(|| panic!("expected a string, got {}", describe(v)))
}

fn code(e: &JsValue) -> String {
    get(e, "code")
        .as_string()
        .unwrap_or_else(|| format!("(no code: {})", describe(e)))
}

async fn wait(p: JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(Promise::from(p)).await
}

async fn create(config: JsValue) -> JsValue {
    wait(Sandrun::create(Some(config)).into())
        .await
        .unwrap_or_else(|e| panic!("Sandrun.create: {}", describe(&e)))
}

/// A market of its own, deployed from a fresh funded key; its address.
async fn fresh_market() -> String {
    let (deployer, _) = key_client(None, &[]).await;
    s(&ok(&deployer, "deployMarket", &[]).await)
}

/// A client signing with a fresh key funded with 1,000 ether, on `market` (and IPFS at `api`);
/// and the key's address.
async fn key_client(market: Option<&str>, extra: &[(&str, JsValue)]) -> (JsValue, String) {
    key_client_on(rpc_url(), ipfs_api(), market, extra).await
}

async fn key_client_on(
    rpc_url: &str,
    ipfs_api: &str,
    market: Option<&str>,
    extra: &[(&str, JsValue)],
) -> (JsValue, String) {
    let key = random_key();
    let chain = obj(&[
        ("rpcUrl", rpc_url.into()),
        ("privateKey", key.as_str().into()),
        ("pollIntervalMs", 50.into()),
    ]);
    let mut pairs = vec![("chain", chain), ("ipfs", obj(&[("api", ipfs_api.into())]))];
    if let Some(a) = market {
        pairs.push(("market", a.into()));
    }
    pairs.extend(extra.iter().cloned());
    let sandrun = create(obj(&pairs)).await;
    // The key's address, from a market view of the client (no transaction).
    let any = match market {
        Some(a) => a.to_string(),
        None => option_env!("SANDRUN_TEST_MARKET")
            .unwrap_or("0x5FbDB2315678afecb367f032d93F642f64180aa3")
            .to_string(),
    };
    let mk = ok(&sandrun, "market", &[any.as_str().into()]).await;
    let address = s(&ok(&mk, "account", &[]).await);
    anvil_at(
        rpc_url,
        "anvil_setBalance",
        &[address.as_str().into(), FUNDS.into()],
    )
    .await;
    (sandrun, address)
}

/// A client over the EIP-1193 test wallet on `rpc_url`, sending from the node's unlocked
/// account `index`; the wallet (for its `controls`) and the account.
async fn wallet_client_on(
    rpc_url: &str,
    ipfs_api: &str,
    market: &str,
    index: u32,
) -> (JsValue, JsValue, String) {
    let wallet = create_wallet(rpc_url, chain_id());
    let account = s(&Array::from(&anvil_at(rpc_url, "eth_accounts", &[]).await).get(index));
    let chain = obj(&[
        ("provider", get(&wallet, "provider")),
        ("account", account.as_str().into()),
        ("pollIntervalMs", 50.into()),
    ]);
    let c = create(obj(&[
        ("chain", chain),
        ("ipfs", obj(&[("api", ipfs_api.into())])),
        ("market", market.into()),
    ]))
    .await;
    (c, wallet, account)
}

/// A job no other scenario (or run) has posted: its code carries a random tag.
fn job(sandrun: &JsValue, label: &str) -> JsValue {
    let tag = random_key();
    let b = m(sandrun, "job", &[]);
    m(
        &b,
        "code",
        &[format!("print('market {label} {tag}')\n").into()],
    )
}

async fn job_count(sandrun: &JsValue, market: &str) -> u128 {
    let mk = ok(sandrun, "market", &[market.into()]).await;
    big(&ok(&mk, "jobCount", &[]).await)
}

fn stages(events: &JsValue) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in Array::from(events).iter() {
        let st = s(&get(&e, "stage"));
        if out.last() != Some(&st) {
            out.push(st);
        }
    }
    out
}

/// Every check that needs no network refuses the job with a typed error before anything is
/// sent (the key's nonce does not move): a payment that does not divide among n nodes, a
/// quorum without a majority, a deadline in the past, maxPrice below the price per node, a
/// pool beside the payment, a client without a market; and what `estimate()` says of a market
/// without nodes.
pub async fn checks_before_sending() {
    let market = fresh_market().await;
    let (sandrun, address) = key_client(Some(&market), &[]).await;
    let nonce = nonce_of(&address).await;
    let cases: Vec<(&str, JsValue, &str)> = vec![
        (
            "payment not divisible by n",
            m(
                &m(
                    &job(&sandrun, "a"),
                    "payment",
                    &[BigInt::from(10u64).into()],
                ),
                "consensus",
                &["2-of-3".into()],
            ),
            "payment",
        ),
        (
            "k not more than half of n",
            m(
                &m(&job(&sandrun, "b"), "payment", &["0.04 ether".into()]),
                "consensus",
                &["2-of-4".into()],
            ),
            "consensus",
        ),
        (
            "deadline in the past",
            m(
                &m(&job(&sandrun, "c"), "payment", &["0.01 ether".into()]),
                "deadline",
                &[js_sys::Date::new(&JsValue::from(now() - 60_000.0)).into()],
            ),
            "deadline",
        ),
        (
            "maxPrice below the price per node",
            m(
                &m(&job(&sandrun, "d"), "payment", &["0.02 ether".into()]),
                "maxPrice",
                &["0.01 ether".into()],
            ),
            "maxPrice",
        ),
        (
            "zero payment",
            m(&job(&sandrun, "e"), "payment", &["0 ether".into()]),
            "payment",
        ),
        (
            "not an amount",
            m(&job(&sandrun, "f"), "payment", &[JsValue::from(0.5)]),
            "payment",
        ),
    ];
    for (what, b, field) in cases {
        let report = m(&b, "validate", &[]);
        assert_eq!(get(&report, "ok").as_bool(), Some(false), "{what}");
        let e = fails(&b, "submit", &[]).await;
        assert_eq!(code(&e), "VALIDATION", "{what}: {}", describe(&e));
        assert!(e.is_instance_of::<ValidationError>(), "{what}");
        let fields: Vec<String> = Array::from(&get(&e, "errors"))
            .iter()
            .map(|p| s(&get(&p, "field")))
            .collect();
        assert!(fields.iter().any(|f| f == field), "{what}: {fields:?}");
    }
    // A client without `market`: refused by submit, naming the config key.
    let (plain, plain_addr) = key_client(None, &[]).await;
    let e = fails(
        &m(&job(&plain, "g"), "payment", &["0.01 ether".into()]),
        "submit",
        &[],
    )
    .await;
    assert_eq!(code(&e), "VALIDATION", "{}", describe(&e));
    assert!(describe(&e).contains("config.market"), "{}", describe(&e));
    assert_eq!(nonce_of(&address).await, nonce, "nothing was sent");
    assert_eq!(nonce_of(&plain_addr).await, 0);
    // Bad config is refused at create.
    let bad = wait(Sandrun::create(Some(obj(&[("market", "0x12".into())]))).into()).await;
    assert_eq!(code(&bad.unwrap_err()), "VALIDATION");
    let bad =
        wait(Sandrun::create(Some(obj(&[("limits", obj(&[("maxPerJob", 1.5.into())]))]))).into())
            .await;
    assert_eq!(code(&bad.unwrap_err()), "VALIDATION");
    // The estimate of a 2-of-3 job on a market without nodes: not allowed, and why.
    let b = m(
        &m(&job(&sandrun, "h"), "payment", &["0.03 ether".into()]),
        "consensus",
        &["2-of-3".into()],
    );
    let est = ok(&b, "estimate", &[]).await;
    assert_eq!(big(&get(&est, "payment")), 3 * CENT as u128);
    assert_eq!(big(&get(&est, "pricePerNode")), CENT as u128);
    assert_eq!(Array::from(&get(&est, "nodes")).length(), 0);
    assert_eq!(get(&est, "allowed").as_bool(), Some(false));
    let reasons = describe(&get(&est, "reasons"));
    assert!(reasons.contains("the job needs 3"), "{reasons}");
    let gas = get(&est, "gas");
    let post_gas = big(&get(&gas, "postJob"));
    assert!(
        (60_000..200_000).contains(&post_gas),
        "postJob gas {post_gas}"
    );
    assert!(big(&get(&gas, "cost")) > 0);
    assert_eq!(
        big(&get(&est, "total")),
        3 * CENT as u128 + big(&get(&gas, "cost"))
    );
    assert_eq!(nonce_of(&address).await, nonce, "estimate sends nothing");
}

/// `limits.maxPerJob` and `limits.maxTotal` refuse a job with a `SpendLimitError` before
/// anything is sent: no transaction (the nonce does not move). A job's cost is its payment plus
/// the gas of the submitter's transactions: a cap between the payment and the payment plus gas
/// refuses it, and `estimate()` says so by the same rule; `maxTotal` counts the escrow and the gas
/// of what was mined, so a second job that the escrow alone would leave within it is refused.
pub async fn spend_cap_refused_before_sending() {
    let market = fresh_market().await;
    let cap = 2 * CENT + 1_000; // the payment and 1,000 wei: less than any gas
    let limits = obj(&[("maxPerJob", BigInt::from(cap).into())]);
    let (sandrun, address) = key_client(Some(&market), &[("limits", limits)]).await;
    let nonce = nonce_of(&address).await;
    let b = m(&job(&sandrun, "cap"), "payment", &["0.02 ether".into()]);
    let e = fails(&b, "submit", &[]).await;
    assert_eq!(code(&e), "SPEND_LIMIT", "{}", describe(&e));
    assert!(e.is_instance_of::<SpendLimitError>());
    assert_eq!(s(&get(&e, "limit")), "maxPerJob");
    assert_eq!(big(&get(&e, "payment")), 2 * CENT as u128);
    let gas = big(&get(&e, "gasCost"));
    assert!(gas > 0, "the gas is counted: {}", describe(&e));
    assert_eq!(big(&get(&e, "total")), 2 * CENT as u128 + gas);
    assert_eq!(nonce_of(&address).await, nonce, "no transaction was sent");
    // The estimate says so too, by the same rule.
    let est = ok(&b, "estimate", &[]).await;
    assert_eq!(get(&est, "allowed").as_bool(), Some(false));
    assert!(describe(&get(&est, "reasons")).contains("maxPerJob"));
    assert!(big(&get(&est, "total")) > cap as u128);
    assert_eq!(
        big(&get(&est, "total")),
        2 * CENT as u128 + big(&get(&get(&est, "gas"), "cost"))
    );
    report(&format!(
        "spend caps: a 0.02 ether job costs {} wei with gas (postJob + finalize estimated): refused under maxPerJob = payment + 1000 wei",
        big(&get(&est, "total"))
    ));

    // maxTotal 0.04: the first 0.02 job is posted; a second is refused (0.04 of escrow alone
    // would be within the cap, the gas of the first is not).
    let limits = obj(&[
        ("maxPerJob", "0.025 ether".into()),
        ("maxTotal", "0.04 ether".into()),
    ]);
    let (sandrun, address) = key_client(Some(&market), &[("limits", limits)]).await;
    let nonce = nonce_of(&address).await;
    let first = m(
        &m(&job(&sandrun, "cap1"), "payment", &["0.02 ether".into()]),
        "deadline",
        &[600.into()],
    );
    let exec = ok(&first, "submit", &[]).await;
    assert_eq!(nonce_of(&address).await, nonce + 1, "one postJob");
    let e = fails(
        &m(&job(&sandrun, "cap2"), "payment", &["0.02 ether".into()]),
        "submit",
        &[],
    )
    .await;
    assert_eq!(code(&e), "SPEND_LIMIT", "{}", describe(&e));
    assert_eq!(s(&get(&e, "limit")), "maxTotal");
    assert!(describe(&e).contains("spent"), "{}", describe(&e));
    assert_eq!(nonce_of(&address).await, nonce + 1, "nothing more was sent");
    // Clean up: the unclaimed job is cancelled (escrow credited back).
    let c = ok(&exec, "cancel", &[]).await;
    assert_eq!(
        get(&c, "stoppedOnServer").as_bool(),
        Some(true),
        "{}",
        describe(&c)
    );
}

/// IPFS down at submit: an `IpfsError` at the `uploading` stage, before any payment — the
/// balance, the nonce and the market's job count do not change.
pub async fn ipfs_down_before_payment() {
    let market = fresh_market().await;
    let (sandrun, address) = key_client(
        Some(&market),
        &[(
            "ipfs",
            obj(&[("api", ipfs_down().into()), ("timeoutMs", 3000.into())]),
        )],
    )
    .await;
    let (balance, nonce, count) = (
        balance_of(&address).await,
        nonce_of(&address).await,
        job_count(&sandrun, &market).await,
    );
    let e = fails(
        &m(&job(&sandrun, "ipfs"), "payment", &["0.01 ether".into()]),
        "submit",
        &[],
    )
    .await;
    assert!(e.is_instance_of::<IpfsError>(), "{}", describe(&e));
    assert_eq!(s(&get(&e, "stage")), "uploading");
    assert_eq!(balance_of(&address).await, balance, "nothing paid");
    assert_eq!(nonce_of(&address).await, nonce, "nothing sent");
    assert_eq!(job_count(&sandrun, &market).await, count, "nothing posted");
}

/// The wallet's user rejects the escrow (4001): a `UserRejectedError` at the `escrow` stage
/// with the input CID kept for a retry; nothing posted. The retry then goes through.
pub async fn wallet_rejects_the_escrow() {
    let market = fresh_market().await;
    let wallet = create_wallet(rpc_url(), chain_id());
    let controls = get(&wallet, "controls");
    let rejected = get(&controls, "reject");
    m(&rejected, "add", &["eth_sendTransaction".into()]);
    let chain = obj(&[
        ("provider", get(&wallet, "provider")),
        ("pollIntervalMs", 50.into()),
    ]);
    let sandrun = create(obj(&[
        ("chain", chain),
        ("ipfs", obj(&[("api", ipfs_api().into())])),
        ("market", market.as_str().into()),
    ]))
    .await;
    let count = job_count(&sandrun, &market).await;
    let b = m(
        &m(&job(&sandrun, "wallet"), "payment", &["0.01 ether".into()]),
        "deadline",
        &[600.into()],
    );
    let e = fails(&b, "submit", &[]).await;
    assert!(e.is_instance_of::<UserRejectedError>(), "{}", describe(&e));
    assert_eq!(s(&get(&e, "stage")), "escrow");
    let cid = s(&get(&e, "inputCid"));
    assert!(cid.starts_with("bafy"), "{cid}");
    assert!(
        describe(&e).contains("nothing was posted"),
        "{}",
        describe(&e)
    );
    assert_eq!(job_count(&sandrun, &market).await, count, "nothing posted");
    // The user accepts the retry: the same inputs (same CID) are posted.
    m(&rejected, "delete", &["eth_sendTransaction".into()]);
    let exec = ok(&b, "submit", &[]).await;
    assert_eq!(job_count(&sandrun, &market).await, count + 1);
    let events = collector();
    m(&exec, "on", &["progress".into(), get(&events, "handler")]);
    let logs = get(&events, "logs");
    let uploaded = Array::from(&logs)
        .iter()
        .find_map(|e| get(&e, "cid").as_string())
        .expect("an uploading event with the CID");
    assert_eq!(uploaded, cid, "the same inputs, the same CID");
    ok(&exec, "cancel", &[]).await;
}

/// A second `submit()` of the same built job is refused with a `DuplicateJobError` naming the
/// job already posted (nothing paid); `{ allowDuplicate: true }` posts it again. `cancel()`
/// of an unclaimed job credits the escrow back.
pub async fn duplicate_refused_and_cancel() {
    let market = fresh_market().await;
    let (sandrun, address) = key_client(Some(&market), &[]).await;
    let b = m(
        &m(&job(&sandrun, "dup"), "payment", &["0.01 ether".into()]),
        "deadline",
        &[600.into()],
    );
    let first = ok(&b, "submit", &[]).await;
    let id = s(&get(&first, "id"));
    assert!(id.starts_with("market:"), "{id}");
    let nonce = nonce_of(&address).await;
    let e = fails(&b, "submit", &[]).await;
    assert_eq!(code(&e), "DUPLICATE_JOB", "{}", describe(&e));
    assert!(e.is_instance_of::<DuplicateJobError>());
    assert_eq!(format!("market:{}", big(&get(&e, "existingJobId"))), id);
    assert_eq!(nonce_of(&address).await, nonce, "nothing paid");
    let again = m(
        &b,
        "payment",
        &["0.01 ether".into(), obj(&[("allowDuplicate", true.into())])],
    );
    let second = ok(&again, "submit", &[]).await;
    assert_ne!(s(&get(&second, "id")), id);
    assert_eq!(job_count(&sandrun, &market).await, 2);
    let mk = ok(&sandrun, "market", &[market.as_str().into()]).await;
    for exec in [&first, &second] {
        let c = ok(exec, "cancel", &[]).await;
        assert_eq!(
            get(&c, "stoppedOnServer").as_bool(),
            Some(true),
            "{}",
            describe(&c)
        );
    }
    assert_eq!(
        big(&ok(&mk, "balanceOf", &[address.as_str().into()]).await),
        2 * CENT as u128
    );
    // Once cancelled, the same job may be posted again without allowDuplicate.
    let third = ok(&b, "submit", &[]).await;
    ok(&third, "cancel", &[]).await;
}

/// No node claims before the deadline: the job is refunded automatically (nobody has to
/// wait()); `wait()` rejects with a `ConsensusError` whose `settlement` says refunded; the
/// escrow is credited back. Progress goes packaging → uploading → escrow → claims → settling →
/// done, through `on()` and the async iterator alike. A second client re-attaching with
/// `market:<id>` sees the same settlement from the chain, without settling again.
pub async fn no_claims_refund_and_reattach() {
    let market = fresh_market().await;
    let (sandrun, address) = key_client(Some(&market), &[]).await;
    let started = now();
    let b = m(
        &m(&job(&sandrun, "refund"), "payment", &["0.01 ether".into()]),
        "deadline",
        &[3.into()],
    );
    let exec = ok(&b, "submit", &[]).await;
    let events = collector();
    m(&exec, "on", &["progress".into(), get(&events, "handler")]);
    let iter = m(&exec, "progress", &[]);
    let e = bounded_failure(&exec).await;
    assert_eq!(code(&e), "CONSENSUS", "{}", describe(&e));
    assert!(e.is_instance_of::<ConsensusError>());
    let settlement = get(&e, "settlement");
    assert_eq!(
        s(&get(&settlement, "outcome")),
        "refunded",
        "{}",
        describe(&settlement)
    );
    assert_eq!(big(&get(&settlement, "refunded")), CENT as u128);
    assert_eq!(get(&settlement, "sentHere").as_bool(), Some(true));
    let tx = s(&get(&settlement, "txHash"));
    let mk = ok(&sandrun, "market", &[market.as_str().into()]).await;
    assert_eq!(
        big(&ok(&mk, "balanceOf", &[address.as_str().into()]).await),
        CENT as u128
    );
    report(&format!(
        "market refund: posted and refunded after a 3 s deadline in {:.1} s",
        (now() - started) / 1000.0
    ));
    let seen = stages(&get(&events, "logs"));
    assert_eq!(
        seen,
        [
            "packaging",
            "uploading",
            "escrow",
            "claims",
            "settling",
            "done"
        ],
        "{}",
        describe(&get(&events, "logs"))
    );
    let iterated: Vec<String> = drain(&iter)
        .await
        .iter()
        .map(|e| s(&get(e, "stage")))
        .collect();
    assert_eq!(
        iterated.len() as u32,
        Array::from(&get(&events, "logs")).length()
    );
    assert_eq!(iterated.last().map(String::as_str), Some("done"));
    // No node ran it: there are no logs to read, which logs() says with a typed error.
    let stream = m(&exec, "logStream", &[]);
    let next = m(&stream, "next", &[]);
    let no_logs = wait(with_timeout(&next, 30_000.0, "logs").into())
        .await
        .expect_err("logs of a job no node ran");
    assert_eq!(code(&no_logs), "NOT_FOUND", "{}", describe(&no_logs));
    // Re-attached elsewhere: the settlement is read from the chain, not sent again.
    let (other, other_addr) = key_client(Some(&market), &[]).await;
    let id = s(&get(&exec, "id"));
    let again = m(&other, "execution", &[id.as_str().into()]);
    let e = bounded_failure(&again).await;
    let s2 = get(&e, "settlement");
    assert_eq!(s(&get(&s2, "txHash")), tx);
    assert_eq!(get(&s2, "sentHere").as_bool(), Some(false));
    assert_eq!(
        nonce_of(&other_addr).await,
        0,
        "the re-attached client sent nothing"
    );
    // Not a market id, or an id that was never posted.
    let bad = fails(&other, "execution", &[]).await;
    let _ = bad;
    let never = m(&other, "execution", &["market:999".into()]);
    assert_eq!(code(&bounded_failure(&never).await), "NOT_FOUND");
    sleep(0.0).await;
}

/// A node for each worker, registered on `market` at 0.01 ether with a 0.1 ether bond, each
/// signing with its own fresh key: (its market handle, its IPFS client, its address).
async fn register_nodes(market: &str, workers: &[&str]) -> Vec<(JsValue, JsValue, String)> {
    let mut nodes = Vec::new();
    for worker in workers {
        let (c, addr) = key_client(Some(market), &[]).await;
        let mk = ok(&c, "market", &[market.into()]).await;
        let key = s(&wait(worker_id(worker).into()).await.unwrap());
        let reg = obj(&[
            ("workerKey", key.into()),
            ("endpoint", (*worker).into()),
            ("price", "0.01 ether".into()),
            ("bond", "0.1 ether".into()),
        ]);
        ok(&mk, "registerNode", &[reg]).await;
        let ipfs = m(&c, "ipfs", &[]);
        nodes.push((mk, ipfs, addr));
    }
    nodes
}

/// The issue's "a node that claims and dies": its claim holds a place but no result comes.
/// (a) 2-of-3 where the other two agree: the job completes once the SDK's grace for the last
/// result is over (30 s after k agree, or the deadline if sooner: docs/api/market.md; here a
/// 10 s deadline keeps the wait short); the silent node is released unpaid (not slashed) and
/// its share goes back to the poster.
/// (b) 2-of-3 where two of the three claimants die: no k agree, so after the deadline the SDK
/// refunds on its own, the whole escrow goes back and each silent claimant loses its claim bond.
pub async fn claimant_dies_others_complete_or_refund() {
    let market = fresh_market().await;
    let workers = pool_workers();
    let nodes = register_nodes(&market, &workers).await;
    let (poster, poster_addr) = key_client(Some(&market), &[]).await;
    let paid_job = |deadline: u32| {
        let b = m(
            &job(&poster, "claimant-dies"),
            "payment",
            &["0.03 ether".into()],
        );
        let b = m(&b, "consensus", &["2-of-3".into()]);
        m(&b, "deadline", &[deadline.into()])
    };
    // Which of the three nodes run the job; the others only claim it.
    async fn play(
        nodes: &[(JsValue, JsValue, String)],
        workers: &[&str],
        exec: &JsValue,
        running: usize,
    ) {
        let events = collector();
        m(exec, "on", &["progress".into(), get(&events, "handler")]);
        let logs = get(&events, "logs");
        let cid = Array::from(&logs)
            .iter()
            .find_map(|e| get(&e, "cid").as_string())
            .expect("the uploading event names the input CID");
        let job_id = Array::from(&logs)
            .iter()
            .find_map(|e| Some(get(&e, "jobId")).filter(|v| v.is_bigint()))
            .expect("the escrow event names the job id");
        for (i, ((mk, ipfs, _), worker)) in nodes.iter().zip(workers).enumerate() {
            let p: JsValue = if i < running {
                run_node(mk, ipfs, &job_id, &cid, worker, false).into()
            } else {
                m(mk, "claim", &[job_id.clone()])
            };
            wait(with_timeout(&p, 60_000.0, "a test node").into())
                .await
                .unwrap_or_else(|e| panic!("node {i}: {}", describe(&e)));
        }
    }

    // (a) One of three dies: the two others agree.
    let started_a = now();
    let exec = ok(&paid_job(10), "submit", &[]).await;
    play(&nodes, &workers, &exec, 2).await;
    let result = settled(&exec, &collector()).await;
    let consensus = get(&result, "consensus");
    assert_eq!(
        get(&consensus, "reached").as_bool(),
        Some(true),
        "{}",
        describe(&result)
    );
    // Two paid; the silent claimant released, not slashed; its share back to the poster.
    expect_settlement(&get(&result, "settlement"), "finalized", 2, 0, 1);
    let silent = ok(&nodes[0].0, "node", &[nodes[2].2.as_str().into()]).await;
    assert_eq!(
        big(&get(&silent, "bond")),
        10 * CENT as u128,
        "{}",
        describe(&silent)
    );
    assert_eq!(
        get(&silent, "activeClaims").as_f64(),
        Some(0.0),
        "{}",
        describe(&silent)
    );
    assert_eq!(big(&get(&silent, "balance")), 0, "unpaid");

    let took_a = (now() - started_a) / 1000.0;

    // (b) Two of three die: refunded after the deadline, both silent claimants slashed.
    let started = now();
    let exec = ok(&paid_job(6), "submit", &[]).await;
    play(&nodes, &workers, &exec, 1).await;
    let e = bounded_failure(&exec).await;
    assert_eq!(code(&e), "CONSENSUS", "{}", describe(&e));
    // The whole escrow back; two claim bonds slashed.
    expect_settlement(&get(&e, "settlement"), "refunded", 0, 2, 3);
    for (_, _, addr) in &nodes[1..] {
        let n = ok(&nodes[0].0, "node", &[addr.as_str().into()]).await;
        assert_eq!(big(&get(&n, "bond")), 9 * CENT as u128, "{}", describe(&n));
    }
    let n = ok(&nodes[0].0, "node", &[nodes[0].2.as_str().into()]).await;
    assert_eq!(
        big(&get(&n, "bond")),
        10 * CENT as u128,
        "the node that answered keeps its bond"
    );
    let mk = ok(&poster, "market", &[market.as_str().into()]).await;
    assert_eq!(
        big(&ok(&mk, "balanceOf", &[poster_addr.as_str().into()]).await),
        4 * CENT as u128,
        "(a)'s share and (b)'s whole escrow, credited to the poster"
    );
    report(&format!(
        "market claimant dies: 2-of-3 with one silent claimant settled in {took_a:.1} s; with two, refunded after a 6 s deadline in {:.1} s",
        (now() - started) / 1000.0
    ));
}

/// Every event of a `progress()` iterator, until it ends.
async fn drain(iter: &JsValue) -> Vec<JsValue> {
    let mut events = Vec::new();
    loop {
        let step = wait(with_timeout(&m(iter, "next", &[]), 30_000.0, "progress().next()").into())
            .await
            .unwrap();
        if get(&step, "done").as_bool() == Some(true) {
            return events;
        }
        events.push(get(&step, "value"));
    }
}

/// `settlement` ended as `outcome`, with these sums in hundredths of an ether.
fn expect_settlement(settlement: &JsValue, outcome: &str, paid: u64, slashed: u64, refunded: u64) {
    let sums = ["outcome", "paid", "slashed", "refunded"].map(|k| get(settlement, k));
    let got = (s(&sums[0]), big(&sums[1]), big(&sums[2]), big(&sums[3]));
    let cents = |n: u64| (n * CENT) as u128;
    let want = (
        outcome.to_string(),
        cents(paid),
        cents(slashed),
        cents(refunded),
    );
    assert_eq!(
        got,
        want,
        "(outcome, paid, slashed, refunded): {}",
        describe(settlement)
    );
}

/// The first event of `stage` among `events`, and the time it came (`at`, ms).
fn first_at(events: &JsValue, stage: &str) -> Option<(JsValue, f64)> {
    Array::from(events).iter().find_map(|e| {
        (get(&e, "stage").as_string().as_deref() == Some(stage))
            .then(|| (e.clone(), get(&e, "at").as_f64().unwrap()))
    })
}

/// The whole paid 2-of-3 job on three registered nodes (two honest dev-node workers, one node
/// that tampers with an output after its worker signed it): submit → IPFS → escrow → claims →
/// the nodes' results → each verified (the tampered one is not) → finalize. `wait()` gives the
/// result with `consensus` and `settlement` (two paid, the faulty node slashed, one share
/// refunded); the output downloads from IPFS, checked. A second client re-attached with
/// `market:<id>` while the job ran settles nothing more: exactly one `JobFinalized`, both see
/// its transaction. Prints the time of each stage and the submitter's gas.
pub async fn two_of_three_faulty_slashed_settled_once() {
    let market = fresh_market().await;
    let workers = pool_workers();
    // Nodes 1 and 2 run on the honest workers a and b; node 3 on the third and tampers.
    let plan = [(workers[0], false), (workers[1], false), (workers[2], true)];
    let nodes = register_nodes(&market, &workers).await;
    // The poster: a local key in Node; in Chromium the EIP-1193 test wallet (over anvil's
    // account 9), so the escrow and the finalize go through a wallet's eth_sendTransaction.
    let (poster, poster_addr) = if is_node() {
        key_client(Some(&market), &[]).await
    } else {
        let (c, _, account) = wallet_client_on(rpc_url(), ipfs_api(), &market, 9).await;
        (c, account)
    };
    let tag = random_key();
    let code = format!("open('out.txt', 'w').write('forty-two\\n')\nprint('{tag}')\n");
    let b = m(&m(&poster, "job", &[]), "code", &[code.into()]);
    let b = m(&b, "outputs", &[Array::of1(&"out.txt".into()).into()]);
    let b = m(
        &m(
            &m(&b, "payment", &["0.03 ether".into()]),
            "consensus",
            &["2-of-3".into()],
        ),
        "deadline",
        &[300.into()],
    );
    let est = ok(&b, "estimate", &[]).await;
    assert_eq!(
        Array::from(&get(&est, "nodes")).length(),
        3,
        "{}",
        describe(&est)
    );
    assert_eq!(
        get(&est, "allowed").as_bool(),
        Some(true),
        "{}",
        describe(&est)
    );
    let balance_before = balance_of(&poster_addr).await;
    // The events' `at` is Date.now(); so is this.
    let started = js_sys::Date::now();
    let exec = ok(&b, "submit", &[]).await;
    let events = collector();
    m(&exec, "on", &["progress".into(), get(&events, "handler")]);
    let logs = get(&events, "logs");
    let (escrow, _) = first_at(&logs, "escrow").unwrap();
    let cid = Array::from(&logs)
        .iter()
        .find_map(|e| get(&e, "cid").as_string())
        .unwrap();
    // The job as the chain has it (the escrow event's last report carries the id).
    let job_id = Array::from(&logs)
        .iter()
        .filter_map(|e| Some(get(&e, "jobId")).filter(|v| v.is_bigint()))
        .next()
        .expect("the escrow event names the job id");
    let _ = escrow;
    // Another client re-attaches while the job runs (a restarted page would).
    let (other, other_addr) = key_client(Some(&market), &[]).await;
    let id = s(&get(&exec, "id"));
    assert_eq!(id, format!("market:{}", big(&job_id)));
    let again = m(&other, "execution", &[id.as_str().into()]);
    let ran: Vec<JsValue> = nodes
        .iter()
        .zip(plan.iter())
        .map(|((mk, ipfs, _), (worker, tamper))| {
            run_node(mk, ipfs, &job_id, &cid, worker, *tamper).into()
        })
        .collect();
    for (i, p) in ran.into_iter().enumerate() {
        wait(with_timeout(&p, 60_000.0, "a test node").into())
            .await
            .unwrap_or_else(|e| panic!("node {i}: {}", describe(&e)));
    }
    let result = settled(&exec, &events).await;
    assert_eq!(
        s(&get(&result, "status")),
        "completed",
        "{}",
        describe(&result)
    );
    // These nodes announced no run: the logs are those of the run a submitted result names.
    assert!(Array::from(&get(&events, "logs"))
        .iter()
        .all(|e| get(&e, "workerJob").is_undefined()));
    let (text, _) = read_logs(&exec).await;
    assert!(text.contains(&format!("{tag}\n")), "logs: {text:?}");
    let consensus = get(&result, "consensus");
    assert_eq!(
        get(&consensus, "reached").as_bool(),
        Some(true),
        "{}",
        describe(&consensus)
    );
    assert_eq!(Array::from(&get(&consensus, "agreeing")).length(), 2);
    let evidence = Array::from(&get(&consensus, "evidence"));
    let faulty = evidence
        .iter()
        .find(|e| s(&get(e, "jobId")).eq_ignore_ascii_case(&nodes[2].2))
        .expect("evidence of the faulty node");
    assert_eq!(get(&faulty, "verified").as_bool(), Some(false));
    assert!(
        describe(&get(&faulty, "problems")).contains("out.txt"),
        "{}",
        describe(&faulty)
    );
    let settlement = get(&result, "settlement");
    // Two paid; the faulty node's claim bond slashed and its share refunded.
    expect_settlement(&settlement, "finalized", 2, 1, 1);
    let slashed: Vec<String> = Array::from(&get(&settlement, "slashedNodes"))
        .iter()
        .map(|a| s(&a).to_lowercase())
        .collect();
    assert_eq!(slashed, [nodes[2].2.to_lowercase()]);
    let out = ok(&exec, "download", &["out.txt".into()]).await;
    assert_eq!(js_sys::Uint8Array::new(&out).to_vec(), b"forty-two\n");
    let market_info = get(&result, "market");
    assert_eq!(s(&get(&market_info, "inputCid")), cid);
    // Settled once: the re-attached client reads the same settlement.
    let r2 = settled(&again, &events).await;
    let s2 = get(&r2, "settlement");
    assert_eq!(s(&get(&s2, "txHash")), s(&get(&settlement, "txHash")));
    let sent: Vec<bool> = [&settlement, &s2]
        .iter()
        .map(|x| get(x, "sentHere").as_bool().unwrap())
        .collect();
    let finalize_gas = big(&get(if sent[0] { &settlement } else { &s2 }, "gasUsed"));
    assert_eq!(
        sent.iter().filter(|x| **x).count(),
        1,
        "exactly one client sent the settlement: {sent:?}"
    );
    let finalized = sandrun_chain::events::topic0("JobFinalized")
        .unwrap()
        .to_string();
    let id_topic = format!("0x{:064x}", big(&job_id));
    let filter = obj(&[
        ("address", market.as_str().into()),
        ("fromBlock", "0x0".into()),
        (
            "topics",
            Array::of2(&finalized.into(), &id_topic.into()).into(),
        ),
    ]);
    let finals = anvil("eth_getLogs", &[filter]).await;
    assert_eq!(Array::from(&finals).length(), 1, "one JobFinalized");
    let _ = other_addr;
    // Stages and figures. `settling` is this client's only if it sent the settlement: the
    // re-attached client may finalize first, and then this one reads it back (`done` only).
    let seen: Vec<String> = stages(&logs);
    for st in [
        "packaging",
        "uploading",
        "escrow",
        "claims",
        "running",
        "verifying",
        "settling",
        "done",
    ] {
        if st == "settling" && !sent[0] {
            continue;
        }
        assert!(seen.iter().any(|x| x == st), "stage {st} in {seen:?}");
    }
    // Stage times from the events' `at`: the first event of each stage, and the escrow's
    // confirmation (its event with a job id); the last result verified.
    let at = |st: &str| first_at(&logs, st).map(|(_, t)| t).unwrap();
    let all = Array::from(&logs);
    let when = |f: &dyn Fn(&JsValue) -> bool| -> f64 {
        all.iter()
            .filter(|e| f(e))
            .map(|e| get(&e, "at").as_f64().unwrap())
            .fold(0.0, f64::max)
    };
    let mined = when(&|e| get(e, "jobId").is_bigint());
    let verified = when(&|e| get(e, "valid").as_bool().is_some());
    let escrow_gas = all
        .iter()
        .find_map(|e| Some(get(&e, "gasUsed")).filter(|v| v.is_bigint()))
        .map(|g| big(&g))
        .unwrap();
    report(&format!(
        "market 2-of-3 by stage: packaging {:.0} ms, uploading (add, pin, duplicate check) {:.0} ms, escrow (sent to mined) {:.0} ms, nodes (claim, run, result) until the last verified {:.0} ms, settling {}; submit() to done {:.0} ms. Submitter gas: postJob {escrow_gas}, finalize {finalize_gas}; the poster's balance went down {} wei",
        at("packaging") - started,
        at("escrow") - at("uploading"),
        mined - at("escrow"),
        verified - mined,
        match first_at(&logs, "settling") {
            Some((_, t)) => format!("{:.0} ms", at("done") - t),
            None => "by the re-attached client".to_string(),
        },
        at("done") - started,
        balance_before - balance_of(&poster_addr).await,
    ));
}

/// A paid 2-of-3 job for the stack: writes out.txt, 0.03 ether, two minutes.
fn stack_job(sandrun: &JsValue) -> JsValue {
    let code = format!(
        "open('out.txt', 'w').write('stack says hi\\n')\nprint('{}')\n",
        random_key()
    );
    let b = m(&m(sandrun, "job", &[]), "code", &[code.into()]);
    let b = m(&b, "outputs", &[Array::of1(&"out.txt".into()).into()]);
    let b = m(&b, "payment", &["0.03 ether".into()]);
    m(
        &m(&b, "consensus", &["2-of-3".into()]),
        "deadline",
        &[120.into()],
    )
}

/// The JobFinalized logs of `job_id` on `market`.
async fn finalized_logs(rpc_url: &str, market: &str, job_id: u128) -> u32 {
    let topic = sandrun_chain::events::topic0("JobFinalized")
        .unwrap()
        .to_string();
    let filter = obj(&[
        ("address", market.into()),
        ("fromBlock", "0x0".into()),
        (
            "topics",
            Array::of2(&topic.into(), &format!("0x{job_id:064x}").into()).into(),
        ),
    ]);
    Array::from(&anvil_at(rpc_url, "eth_getLogs", &[filter]).await).length()
}

/// The paid 2-of-3 job on the local market stack, run by its three node agents (the node side's
/// `sandrun.node().market()`, the third faulty): verified, finalized, the faulty agent slashed,
/// the output downloaded from IPFS. The poster signs with a local key in Node and through the
/// EIP-1193 test wallet in Chromium. Prints the time from submit() to done.
pub async fn stack_two_of_three_by_the_agents() {
    let Some(st) = stack() else {
        report("market stack scenarios skipped: no stack (make pkg, then the suites start one)");
        return;
    };
    let (poster, _) = if is_node() {
        key_client_on(st.rpc, st.ipfs, Some(st.market), &[]).await
    } else {
        let (c, _, a) = wallet_client_on(st.rpc, st.ipfs, st.market, 8).await;
        (c, a)
    };
    let started = js_sys::Date::now();
    let exec = ok(&stack_job(&poster), "submit", &[]).await;
    let events = collector();
    m(&exec, "on", &["progress".into(), get(&events, "handler")]);
    let result = settled(&exec, &events).await;
    let elapsed = js_sys::Date::now() - started;
    assert_eq!(
        s(&get(&result, "status")),
        "completed",
        "{}",
        describe(&result)
    );
    let settlement = get(&result, "settlement");
    assert_eq!(
        s(&get(&settlement, "outcome")),
        "finalized",
        "{}",
        describe(&settlement)
    );
    assert_eq!(big(&get(&settlement, "paid")), 2 * CENT as u128);
    let slashed: Vec<String> = Array::from(&get(&settlement, "slashedNodes"))
        .iter()
        .map(|a| s(&a).to_lowercase())
        .collect();
    assert_eq!(
        slashed,
        [st.faulty.to_lowercase()],
        "{}",
        describe(&settlement)
    );
    let evidence = Array::from(&get(&get(&result, "consensus"), "evidence"));
    let faulty = evidence
        .iter()
        .find(|e| s(&get(e, "jobId")).eq_ignore_ascii_case(st.faulty))
        .expect("the faulty agent's evidence");
    assert_eq!(
        get(&faulty, "verified").as_bool(),
        Some(false),
        "{}",
        describe(&faulty)
    );
    let out = ok(&exec, "download", &["out.txt".into()]).await;
    assert_eq!(js_sys::Uint8Array::new(&out).to_vec(), b"stack says hi\n");
    report(&format!(
        "market stack 2-of-3 by the agents: submit() to settled {elapsed:.0} ms; finalize {} gas",
        big(&get(&settlement, "gasUsed"))
    ));
}

/// The submitting page or process "dies" mid-job (its wallet stops answering right after the
/// escrow); another one re-attaches with `market:<id>` and settles the job; when the first
/// comes back it finds the settlement on chain and sends nothing: one `JobFinalized`.
pub async fn stack_restarted_submitter_settles_once() {
    let Some(st) = stack() else {
        report("market stack scenarios skipped: no stack (make pkg, then the suites start one)");
        return;
    };
    let index = if is_node() { 6 } else { 7 };
    let (first, wallet, account) = wallet_client_on(st.rpc, st.ipfs, st.market, index).await;
    let exec = ok(&stack_job(&first), "submit", &[]).await;
    let controls = get(&wallet, "controls");
    js_sys::Reflect::set(&controls, &"down".into(), &true.into()).unwrap();
    let nonce = nonce_of_at(st.rpc, &account).await;
    let id = s(&get(&exec, "id"));
    let job_id: u128 = id.trim_start_matches("market:").parse().unwrap();
    let (second, _) = key_client_on(st.rpc, st.ipfs, Some(st.market), &[]).await;
    let again = m(&second, "execution", &[id.as_str().into()]);
    let events = collector();
    m(&again, "on", &["progress".into(), get(&events, "handler")]);
    let r2 = settled(&again, &events).await;
    let s2 = get(&r2, "settlement");
    assert_eq!(s(&get(&s2, "outcome")), "finalized", "{}", describe(&s2));
    assert_eq!(get(&s2, "sentHere").as_bool(), Some(true));
    assert_eq!(
        nonce_of_at(st.rpc, &account).await,
        nonce,
        "the first sent nothing while down"
    );
    js_sys::Reflect::set(&controls, &"down".into(), &false.into()).unwrap();
    let events = collector();
    m(&exec, "on", &["progress".into(), get(&events, "handler")]);
    let r1 = settled(&exec, &events).await;
    let s1 = get(&r1, "settlement");
    assert_eq!(s(&get(&s1, "txHash")), s(&get(&s2, "txHash")));
    assert_eq!(
        get(&s1, "sentHere").as_bool(),
        Some(false),
        "{}",
        describe(&s1)
    );
    assert_eq!(
        nonce_of_at(st.rpc, &account).await,
        nonce,
        "nor after it came back"
    );
    assert_eq!(
        finalized_logs(st.rpc, st.market, job_id).await,
        1,
        "one JobFinalized"
    );
}

async fn nonce_of_at(url: &str, address: &str) -> u128 {
    hex_u128(
        &anvil_at(
            url,
            "eth_getTransactionCount",
            &[address.into(), "latest".into()],
        )
        .await,
    )
}

/// `exec.wait()` within a minute, or a panic that shows the stages seen.
async fn settled(exec: &JsValue, events: &JsValue) -> JsValue {
    let p = m(exec, "wait", &[]);
    match wait(with_timeout(&p, 60_000.0, "wait()").into()).await {
        Ok(v) => v,
        Err(e) => panic!(
            "{}; progress: {}",
            describe(&e),
            describe(
                &js_sys::JSON::stringify_with_replacer(
                    &get(events, "logs"),
                    &js_sys::Function::new_with_args(
                        "k, v",
                        "return typeof v === 'bigint' ? String(v) : v"
                    ),
                )
                .map(JsValue::from)
                .unwrap_or_default()
            )
        ),
    }
}

/// `exec.wait()`, which must reject within a minute; the error.
async fn bounded_failure(exec: &JsValue) -> JsValue {
    let p = m(exec, "wait", &[]);
    match wait(with_timeout(&p, 60_000.0, "wait()").into()).await {
        Ok(v) => panic!("wait() resolved with {} but should fail", describe(&v)),
        Err(e) => {
            assert!(!describe(&e).contains("no answer in"), "{}", describe(&e));
            e
        }
    }
}

/// `health()` of a client with a market: the worker's answer plus `market` (what
/// `marketHealth()` reports): the chain (id, the market's code), IPFS and the registered nodes'
/// workers. With IPFS down the market part says `down` and the worker's part still answers; a
/// client without a market has no `market` part.
pub async fn health_reports_the_market() {
    let Some(st) = stack() else {
        report("market health skipped: no stack (make pkg, then the suites start one)");
        return;
    };
    let endpoint = option_env!("SANDRUN_TEST_ENDPOINT").unwrap_or("http://127.0.0.1:18443");
    let worker = ("endpoint", JsValue::from(endpoint));
    let (c, _) = key_client_on(st.rpc, st.ipfs, Some(st.market), &[worker.clone()]).await;
    let h = ok(&c, "health", &[]).await;
    let market = get(&h, "market");
    let shown = || String::from(js_sys::JSON::stringify(&market).unwrap_or_default());
    assert_eq!(s(&get(&h, "status")), "healthy");
    assert_ne!(s(&get(&market, "status")), "down", "{}", shown());
    let chain = get(&market, "chain");
    assert_eq!(s(&get(&chain, "status")), "up", "{}", shown());
    assert_eq!(get(&chain, "chainId").as_f64(), Some(chain_id()));
    assert_eq!(get(&chain, "contract").as_bool(), Some(true));
    assert!(get(&chain, "headBlock").as_f64().unwrap_or(0.0) > 0.0);
    assert_eq!(
        s(&get(&get(&market, "ipfs"), "status")),
        "up",
        "{}",
        shown()
    );
    let workers = Array::from(&get(&market, "workers"));
    assert!(
        workers
            .iter()
            .filter(|w| s(&get(w, "status")) == "up")
            .count()
            >= 3,
        "the stack's three agents' workers: {}",
        shown()
    );
    let direct = ok(&c, "marketHealth", &[]).await;
    assert_eq!(
        s(&get(&get(&direct, "chain"), "status")),
        s(&get(&chain, "status"))
    );

    let dead_ipfs = obj(&[("api", ipfs_down().into()), ("timeoutMs", 2000.into())]);
    let (c, _) = key_client_on(
        st.rpc,
        ipfs_down(),
        Some(st.market),
        &[worker.clone(), ("ipfs", dead_ipfs)],
    )
    .await;
    let h = ok(&c, "health", &[]).await;
    assert_eq!(s(&get(&h, "status")), "healthy", "the worker still answers");
    assert_eq!(s(&get(&get(&h, "market"), "status")), "down");
    assert_eq!(s(&get(&get(&get(&h, "market"), "ipfs"), "status")), "down");

    let plain = create(obj(&[worker])).await;
    assert!(get(&ok(&plain, "health", &[]).await, "market").is_undefined());
}

/// A client over a counting provider on `rpc_url`, signing with `key`, on `market` (an address
/// or `{ address, fromBlock }`); and the requests it made.
async fn counted_client(
    rpc_url: &str,
    ipfs_api: &str,
    key: &str,
    market: JsValue,
) -> (JsValue, JsValue) {
    capped_client(rpc_url, ipfs_api, key, market, 0).await
}

/// `counted_client` over a provider that refuses eth_getLogs over more than `cap` blocks (0: none).
async fn capped_client(
    rpc_url: &str,
    ipfs_api: &str,
    key: &str,
    market: JsValue,
    cap: u32,
) -> (JsValue, JsValue) {
    let counting = counting_provider(rpc_url, cap);
    let chain = obj(&[
        ("provider", get(&counting, "provider")),
        ("privateKey", key.into()),
        ("pollIntervalMs", 50.into()),
    ]);
    let sandrun = create(obj(&[
        ("chain", chain),
        ("ipfs", obj(&[("api", ipfs_api.into())])),
        ("market", market),
    ]))
    .await;
    (sandrun, get(&counting, "calls"))
}

/// The requests of `method` among `calls` from index `since` on: their params.
fn asked(calls: &JsValue, method: &str, since: u32) -> Vec<JsValue> {
    Array::from(calls)
        .iter()
        .skip(since as usize)
        .filter(|c| get(c, "method").as_string().as_deref() == Some(method))
        .map(|c| get(&c, "params"))
        .collect()
}

/// `eth_getCode` at a block number (the deployment search), not at `latest`.
fn code_searches(calls: &JsValue, since: u32) -> usize {
    asked(calls, "eth_getCode", since)
        .iter()
        .filter(|p| {
            Array::from(p)
                .get(1)
                .as_string()
                .is_some_and(|b| b != "latest")
        })
        .count()
}

/// The `fromBlock` of every `eth_getLogs` among `calls` from `since` on: of the duplicate check
/// (`job: false`, topic 0 is JobPosted's) or of a job's history (`job: true`, topic 0 any).
fn log_starts(calls: &JsValue, since: u32, job: bool) -> Vec<u64> {
    asked(calls, "eth_getLogs", since)
        .iter()
        .map(|p| Array::from(p).get(0))
        .filter(|f| Array::from(&get(f, "topics")).get(0).is_null() == job)
        .map(|f| hex_u128(&get(&f, "fromBlock")) as u64)
        .collect()
}

async fn block_number_at(url: &str) -> u64 {
    hex_u128(&anvil_at(url, "eth_blockNumber", &[]).await) as u64
}

/// Whether `address` has code at `block` on `url`.
async fn has_code(url: &str, address: &str, block: u64) -> bool {
    let code = anvil_at(
        url,
        "eth_getCode",
        &[address.into(), format!("{block:#x}").into()],
    )
    .await;
    s(&code) != "0x"
}

/// Every read of the market's logs starts at its deployment block, never at 0: with no hint the
/// client finds that block once (a binary search on eth_getCode: at most ceil(log2(head)) + 1
/// calls) and keeps it; with `market: { address, fromBlock }` it searches nothing. The duplicate
/// check reads from there; a re-attached job reads from there once, then from its posting block.
/// Bad `market` configs are refused at create. Prints the calls made.
pub async fn reads_start_at_the_market_block() {
    let a = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    let bad = [
        (obj(&[("address", "0x12".into())]), "config.market.address"),
        (obj(&[("fromBlock", 3.into())]), "config.market.address"),
        (
            obj(&[("address", a.into()), ("fromBlock", (-1).into())]),
            "config.market.fromBlock",
        ),
        (
            obj(&[("address", a.into()), ("fromBlock", 1.5.into())]),
            "config.market.fromBlock",
        ),
        (
            obj(&[("address", a.into()), ("from", 3.into())]),
            "config.market.from",
        ),
        (JsValue::from(7), "config.market"),
    ];
    for (market, field) in bad {
        let e = wait(Sandrun::create(Some(obj(&[("market", market)]))).into())
            .await
            .unwrap_err();
        assert_eq!(code(&e), "VALIDATION", "{}", describe(&e));
        let fields: Vec<String> = Array::from(&get(&e, "errors"))
            .iter()
            .map(|p| s(&get(&p, "field")))
            .collect();
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }

    let market = fresh_market().await;
    let key = random_key();
    let tag = random_key();
    let build = |sandrun: &JsValue| {
        let b = m(sandrun, "job", &[]);
        let b = m(
            &b,
            "code",
            &[format!("print('market reads {tag}')\n").into()],
        );
        let b = m(&b, "payment", &["0.01 ether".into()]);
        m(&b, "deadline", &[600.into()])
    };
    // No hint: the first submit searches the deployment block; its duplicate check reads from it.
    let (plain, calls) = counted_client(rpc_url(), ipfs_api(), &key, market.as_str().into()).await;
    let mk = ok(&plain, "market", &[market.as_str().into()]).await;
    let address = s(&ok(&mk, "account", &[]).await);
    anvil("anvil_setBalance", &[address.as_str().into(), FUNDS.into()]).await;
    let exec = ok(&build(&plain), "submit", &[]).await;
    let id = s(&get(&exec, "id"));
    let head = block_number_at(rpc_url()).await;
    let searched = code_searches(&calls, 0);
    let starts = log_starts(&calls, 0, false);
    assert_eq!(starts.len(), 1, "one duplicate check: {starts:?}");
    let deployed = starts[0];
    assert!(deployed > 0, "not from block 0");
    assert!(has_code(rpc_url(), &market, deployed).await);
    assert!(
        !has_code(rpc_url(), &market, deployed - 1).await,
        "the first block with code"
    );
    let bound = (64 - head.leading_zeros()) as usize + 1;
    assert!(
        (1..=bound).contains(&searched),
        "{searched} eth_getCode for head {head}"
    );
    // Again on the same client: the block is kept, no search.
    let mark = Array::from(&calls).length();
    let e = fails(&build(&plain), "submit", &[]).await;
    assert_eq!(code(&e), "DUPLICATE_JOB", "{}", describe(&e));
    assert_eq!(code_searches(&calls, mark), 0, "kept on the client");
    assert_eq!(log_starts(&calls, mark, false), vec![deployed]);
    // The execution the submit started reads its job from the posting block.
    let posted = log_starts(&calls, 0, true);
    assert!(!posted.is_empty(), "the execution polled");
    let posted = posted[0];
    assert!(posted > deployed, "{posted} after {deployed}");
    // With the hint: no search at all.
    let hint = obj(&[
        ("address", market.as_str().into()),
        ("fromBlock", (deployed as f64).into()),
    ]);
    let (hinted, hinted_calls) = counted_client(rpc_url(), ipfs_api(), &key, hint).await;
    let e = fails(&build(&hinted), "submit", &[]).await;
    assert_eq!(code(&e), "DUPLICATE_JOB", "{}", describe(&e));
    assert_eq!(code_searches(&hinted_calls, 0), 0);
    assert_eq!(log_starts(&hinted_calls, 0, false), vec![deployed]);
    let dup_calls = Array::from(&hinted_calls).length();
    // Re-attach: the first read from the market's block, the next ones from the posting block.
    let attached = m(&hinted, "execution", &[id.as_str().into()]);
    let started = now();
    while log_starts(&hinted_calls, dup_calls, true).len() < 2 && now() - started < 10_000.0 {
        sleep(50.0).await;
    }
    let reads = log_starts(&hinted_calls, dup_calls, true);
    assert!(reads.len() >= 2, "two polls: {reads:?}");
    assert_eq!(reads[0], deployed);
    assert!(reads[1..].iter().all(|b| *b == posted), "{reads:?}");
    report(&format!(
        "market reads (test chain, head {head}): deployment block {deployed} found in {searched} eth_getCode, kept; duplicate check 1 eth_getLogs over blocks {deployed}..{head} (was 0..{head}), {dup_calls} requests in all with the hint; re-attach: first read from {deployed}, then from the posting block {posted}"
    ));
    ok(&exec, "cancel", &[]).await;
    let _ = bounded_failure(&attached).await;
}

/// Log reads in the ranges a capped provider accepts: through an EIP-1193 provider that refuses
/// eth_getLogs over more than 4 blocks (-32005, Infura's answer to a read too large), a client
/// told to read the market from block 0 gets every log all the same. Its `estimate()` finds the
/// same nodes as a client on an uncapped provider, each of its reads asks for at most 4 blocks
/// and covers the blocks it was asked for exactly once, in order, and a second `submit()` of the
/// same job is still refused as a duplicate (the `JobPosted` found in one of those ranges).
/// The refusal is the one part played here (anvil has no range cap); every answer is anvil's.
pub async fn logs_read_in_ranges_a_capped_provider_accepts() {
    const CAP: u32 = 4;
    let market = fresh_market().await;
    let workers = pool_workers();
    let registered = register_nodes(&market, &workers[..2]).await;
    let key = random_key();
    let from_zero = obj(&[("address", market.as_str().into()), ("fromBlock", 0.into())]);
    let (capped, calls) = capped_client(rpc_url(), ipfs_api(), &key, from_zero, CAP).await;
    let mk = ok(&capped, "market", &[market.as_str().into()]).await;
    let address = s(&ok(&mk, "account", &[]).await);
    anvil("anvil_setBalance", &[address.as_str().into(), FUNDS.into()]).await;
    let (plain, _) = key_client(Some(&market), &[]).await;
    let tag = random_key();
    let build = |sandrun: &JsValue| {
        let b = m(sandrun, "job", &[]);
        let b = m(&b, "code", &[format!("print('capped {tag}')\n").into()]);
        let b = m(&b, "payment", &["0.02 ether".into()]);
        let b = m(&b, "consensus", &["2-of-2".into()]);
        m(&b, "deadline", &[600.into()])
    };
    // Addresses compared as a set: lowercased, sorted.
    let set = |addresses: Vec<String>| {
        let mut a: Vec<String> = addresses.iter().map(|x| x.to_lowercase()).collect();
        a.sort();
        a
    };
    let node_set = |est: &JsValue| {
        set(Array::from(&get(est, "nodes"))
            .iter()
            .map(|n| s(&get(&n, "address")))
            .collect())
    };

    // At least 40 blocks after the nodes registered, whatever ran on this chain before.
    anvil("anvil_mine", &["0x28".into()]).await;
    let head = block_number_at(rpc_url()).await;
    let est = ok(&build(&capped), "estimate", &[]).await;
    let want = set(registered.iter().map(|n| n.2.clone()).collect());
    assert_eq!(node_set(&est), want, "{}", describe(&est));
    let uncapped = ok(&build(&plain), "estimate", &[]).await;
    assert_eq!(node_set(&est), node_set(&uncapped));

    // The reads `estimate()` made: each answered range within the cap; together they tile the
    // blocks from 0 to where the read ended, in order.
    let reads: Vec<(u64, u64, bool)> = Array::from(&calls)
        .iter()
        .filter(|c| s(&get(c, "method")) == "eth_getLogs")
        .map(|c| {
            let f = Array::from(&get(&c, "params")).get(0);
            let (a, b) = (
                hex_u128(&get(&f, "fromBlock")),
                hex_u128(&get(&f, "toBlock")),
            );
            (a as u64, b as u64, get(&c, "refused").is_truthy())
        })
        .collect();
    let refused = reads.iter().filter(|r| r.2).count();
    let answered: Vec<(u64, u64)> = reads.iter().filter(|r| !r.2).map(|r| (r.0, r.1)).collect();
    assert!(
        refused >= 1,
        "the first range (0..head) was refused: {reads:?}"
    );
    assert!(
        answered.iter().all(|(a, b)| b - a < CAP as u64),
        "an answered range over {CAP} blocks: {answered:?}"
    );
    let mut next = 0;
    for (a, b) in &answered {
        if *a == 0 && next != 0 {
            break; // a second read, from block 0 again
        }
        assert_eq!(*a, next, "ranges in order, each block once: {answered:?}");
        next = b + 1;
    }
    assert!(next > head, "read up to the head {head}: {answered:?}");

    // A job posted through the capped client, then the same one again: the duplicate check
    // reads from block 0 in small ranges and finds it.
    let exec = ok(&build(&capped), "submit", &[]).await;
    let e = fails(&build(&capped), "submit", &[]).await;
    assert_eq!(code(&e), "DUPLICATE_JOB", "{}", describe(&e));
    report(&format!(
        "market reads through a provider capped at {CAP} blocks (head {head}): estimate() made {} eth_getLogs, {refused} refused and split",
        reads.len()
    ));
    ok(&exec, "cancel", &[]).await;
}

/// The stack's `marketBlock` (stack.json) is the block its market's code appeared in: what a
/// client without the hint finds (and how many eth_getCode that takes on the stack's chain).
pub async fn stack_reads_start_at_its_market_block() {
    let (Some(st), Some(json)) = (stack(), option_env!("SANDRUN_TEST_STACK_JSON")) else {
        report("stack_reads_start_at_its_market_block: no stack (make pkg), skipped");
        return;
    };
    let file = js_sys::JSON::parse(json).unwrap();
    let block = get(&file, "marketBlock")
        .as_f64()
        .expect("stack.json has marketBlock") as u64;
    let key = random_key();
    let (sandrun, calls) = counted_client(st.rpc, st.ipfs, &key, st.market.into()).await;
    let b = m(
        &m(&m(&sandrun, "job", &[]), "code", &["print(1)\n".into()]),
        "payment",
        &["0.01 ether".into()],
    );
    // estimate() reads the registered nodes: from the deployment block it finds.
    let est = ok(&b, "estimate", &[]).await;
    assert!(
        Array::from(&get(&est, "nodes")).length() >= 2,
        "the stack's agents"
    );
    let searched = code_searches(&calls, 0);
    let starts = log_starts(&calls, 0, false);
    assert!(
        !starts.is_empty() && starts.iter().all(|b| *b == block),
        "{starts:?} vs marketBlock {block}"
    );
    let head = block_number_at(st.rpc).await;
    report(&format!(
        "market reads (stack, head {head}): marketBlock {block} = the block found in {searched} eth_getCode; estimate() read the nodes in {} eth_getLogs from it",
        starts.len()
    ));
}

// `submit({ onStage, onProgress })` as a page would use it: every call recorded in one list,
// with a `'resolved'` marker pushed when submit()'s promise resolves, so the test sees which
// stages came before it. `onStage` throws after recording each event (a careless callback).
#[wasm_bindgen(inline_js = r#"
export function stageRecorder() {
  const log = [];
  const bytes = [];
  return {
    log,
    bytes,
    options: {
      onStage(e) { log.push(e); throw new Error('this onStage callback fails'); },
      onProgress(p) { bytes.push(p); log.push('bytes'); },
    },
    mark(promise) { return promise.then((exec) => { log.push('resolved'); return exec; }); },
  };
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = stageRecorder)]
    fn stage_recorder() -> JsValue;
}

/// `submit({ onStage })` hears `packaging`, `uploading` and `escrow` (sent, then mined) live,
/// before `submit()` resolves, then `claims` … `done` after it: each event once, the very events
/// (same objects, same order) `exec.progress()` gives. The callback throws every time and the
/// job still settles. `onProgress` hears the IPFS upload's bytes, `{ loaded, total }` from 0 to
/// the total, before `submit()` resolves. A bad `onStage` or an unknown option is a
/// `ValidationError` before anything is sent; a job without `.payment()` never calls `onStage`.
pub async fn stack_on_stage_live_from_packaging() {
    let Some(st) = stack() else {
        report("market stack scenarios skipped: no stack (make pkg, then the suites start one)");
        return;
    };
    let (poster, address) = key_client_on(st.rpc, st.ipfs, Some(st.market), &[]).await;
    let nonce = nonce_of_at(st.rpc, &address).await;
    let b = stack_job(&poster);
    for (options, field) in [
        (obj(&[("onStage", 5.into())]), "submit options.onStage"),
        (obj(&[("onStag", 5.into())]), "submit options.onStag"),
    ] {
        let e = fails(&b, "submit", &[options]).await;
        assert!(e.is_instance_of::<ValidationError>(), "{}", describe(&e));
        assert!(describe(&e).contains(field), "{}", describe(&e));
    }
    assert_eq!(nonce_of_at(st.rpc, &address).await, nonce, "nothing sent");

    let rec = stage_recorder();
    let submitted = m(&rec, "mark", &[m(&b, "submit", &[get(&rec, "options")])]);
    let exec = wait(submitted).await.expect("submit()");
    let result = settled(&exec, &get(&rec, "log")).await;
    assert_eq!(
        s(&get(&get(&result, "settlement"), "outcome")),
        "finalized",
        "a throwing onStage does not stop the job"
    );
    let log: Vec<JsValue> = Array::from(&get(&rec, "log")).to_vec();
    let marker = log
        .iter()
        .position(|e| e.as_string().as_deref() == Some("resolved"))
        .expect("submit() resolved");
    let named = |part: &[JsValue]| -> Vec<String> {
        part.iter()
            .filter(|e| e.is_object())
            .map(|e| s(&get(e, "stage")))
            .collect()
    };
    let (before, after) = (named(&log[..marker]), named(&log[marker + 1..]));
    let mut kinds = before.clone();
    kinds.dedup();
    assert_eq!(
        kinds,
        ["packaging", "uploading", "escrow"],
        "before submit() resolved: {before:?}"
    );
    let escrow = log[..marker]
        .iter()
        .filter(|e| e.is_object() && s(&get(e, "stage")) == "escrow")
        .collect::<Vec<_>>();
    assert_eq!(escrow.len(), 2, "sent, then mined");
    assert_eq!(get(escrow[0], "confirmations").as_f64(), Some(0.0));
    assert!(
        get(escrow[1], "jobId").is_bigint(),
        "{}",
        describe(escrow[1])
    );
    assert_eq!(after.first().map(String::as_str), Some("claims"));
    assert_eq!(after.last().map(String::as_str), Some("done"));
    assert!(
        !after
            .iter()
            .any(|st| ["packaging", "uploading", "escrow"].contains(&st.as_str())),
        "after: {after:?}"
    );
    assert!(
        log[marker + 1..]
            .iter()
            .all(|e| e.as_string().as_deref() != Some("bytes")),
        "the upload's bytes all came before submit() resolved"
    );

    // Each event once: exactly the events of exec.progress(), the same objects in order.
    let heard: Vec<JsValue> = log.iter().filter(|e| e.is_object()).cloned().collect();
    let iterated = drain(&m(&exec, "progress", &[])).await;
    assert_eq!(heard.len(), iterated.len(), "{after:?}");
    for (a, b) in heard.iter().zip(&iterated) {
        assert!(
            js_sys::Object::is(a, b),
            "{} vs {}",
            describe(a),
            describe(b)
        );
    }

    // The upload's bytes: from 0 to the total the uploading stage names, never backwards.
    let bytes: Vec<(f64, f64)> = Array::from(&get(&rec, "bytes"))
        .iter()
        .map(|p| {
            (
                get(&p, "loaded").as_f64().unwrap(),
                get(&p, "total").as_f64().unwrap(),
            )
        })
        .collect();
    let total = heard
        .iter()
        .find(|e| s(&get(e, "stage")) == "uploading")
        .map(|e| get(e, "total").as_f64().unwrap())
        .unwrap();
    assert!(bytes.len() >= 2, "{bytes:?}");
    assert_eq!(bytes.first(), Some(&(0.0, total)));
    assert_eq!(bytes.last(), Some(&(total, total)));
    assert!(bytes.windows(2).all(|w| w[0].0 <= w[1].0), "{bytes:?}");
    // A job without .payment() has no stages: onStage is accepted and never called.
    let endpoint = option_env!("SANDRUN_TEST_ENDPOINT").unwrap_or("http://127.0.0.1:18443");
    let plain = create(obj(&[("endpoint", endpoint.into())])).await;
    let rec = stage_recorder();
    let options = obj(&[("onStage", get(&get(&rec, "options"), "onStage"))]);
    let exec = ok(&job(&plain, "unpaid"), "submit", &[options]).await;
    ok(&exec, "wait", &[]).await;
    assert_eq!(
        Array::from(&get(&rec, "log")).length(),
        0,
        "onStage of an unpaid job"
    );
    report(&format!(
        "market onStage: {} events before submit() resolved, {} after; {} upload counts of {total} B",
        before.len(),
        after.len(),
        bytes.len()
    ));
}

/// The logs of a paid 2-of-3 job on the stack: its agents announce their runs on chain
/// (`JobRunning`), so the `running` events carry `workerJob` and `endpoint` (a run the node's
/// worker knows, with this job's hash), and `exec.logs()` (read from right after `submit()`)
/// gives the job's output from the first node's worker. Prints the time from the escrow mined
/// (JobPosted) to the first log chunk.
pub async fn stack_logs_of_the_first_node() {
    let Some(st) = stack() else {
        report("market stack scenarios skipped: no stack (make pkg, then the suites start one)");
        return;
    };
    let poster = if is_node() {
        key_client_on(st.rpc, st.ipfs, Some(st.market), &[]).await.0
    } else {
        wallet_client_on(st.rpc, st.ipfs, st.market, 8).await.0
    };
    let marker = random_key();
    let code =
        format!("import sys\nprint('logs of {marker}')\nprint('to stderr', file=sys.stderr)\n");
    let b = m(&m(&poster, "job", &[]), "code", &[code.into()]);
    let b = m(
        &m(&b, "payment", &["0.03 ether".into()]),
        "consensus",
        &["2-of-3".into()],
    );
    let exec = ok(&m(&b, "deadline", &[120.into()]), "submit", &[]).await;
    let events = collector();
    m(&exec, "on", &["progress".into(), get(&events, "handler")]);

    let (text, first_chunk_at) = read_logs(&exec).await;
    assert!(
        text.contains(&format!("logs of {marker}\n")) && text.contains("to stderr"),
        "the logs are not the job's output: {text:?}"
    );
    let result = settled(&exec, &events).await;
    assert_eq!(
        s(&get(&result, "status")),
        "completed",
        "{}",
        describe(&result)
    );

    let job_hash = s(&get(&exec, "jobHash"));
    let logs = Array::from(&get(&events, "logs"));
    let mut announced = Vec::new();
    for e in logs.iter() {
        if s(&get(&e, "stage")) != "running" || get(&e, "workerJob").is_undefined() {
            continue;
        }
        let (endpoint, run) = (s(&get(&e, "endpoint")), s(&get(&e, "workerJob")));
        let got = JsFuture::from(worker_status(&endpoint, &run))
            .await
            .unwrap();
        let body = get(&got, "body");
        assert_eq!(
            get(&got, "code").as_f64(),
            Some(200.0),
            "{endpoint}/status/{run}: {}",
            describe(&body)
        );
        assert_eq!(s(&get(&body, "job_id")), run, "{}", describe(&body));
        assert_eq!(s(&get(&body, "job_hash")), job_hash, "{}", describe(&body));
        announced.push(s(&get(&e, "node")));
    }
    announced.sort();
    announced.dedup();
    assert!(
        announced.len() >= 2,
        "at least k nodes announced their runs before the job settled: {announced:?}"
    );
    let (posted_at, _) = logs
        .iter()
        .find(|e| s(&get(e, "stage")) == "escrow" && !get(e, "jobId").is_undefined())
        .map(|e| (get(&e, "at").as_f64().unwrap(), ()))
        .expect("the escrow event with the job id");
    let first = first_chunk_at.expect("a log chunk");
    report(&format!(
        "market stack logs: {} nodes announced their runs; JobPosted to the first log chunk {:.0} ms",
        announced.len(),
        first - posted_at
    ));
}

/// `exec`'s logs read to their end (`logStream().next()` until `undefined`, each within a
/// minute), and when the first chunk came (ms).
async fn read_logs(exec: &JsValue) -> (String, Option<f64>) {
    let stream = m(exec, "logStream", &[]);
    let mut text = String::new();
    let mut first_chunk_at = None;
    loop {
        let next = m(&stream, "next", &[]);
        let chunk = wait(with_timeout(&next, 60_000.0, "logs").into())
            .await
            .unwrap_or_else(|e| panic!("logs: {}", describe(&e)));
        if chunk.is_undefined() {
            return (text, first_chunk_at);
        }
        first_chunk_at.get_or_insert_with(js_sys::Date::now);
        text.push_str(&s(&chunk));
    }
}
