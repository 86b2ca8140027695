//! Chain scenarios (the market layer's `chain`), in Node and headless Chromium, against the anvil
//! scripts/test-wasm.d/20-chain.sh starts (with a SandrunMarket deployed on it). Each scenario is
//! an `async fn` here, listed in `all_chain_scenarios!`; each funds fresh random keys (keys anvil
//! does not manage: the SDK signs) and deploys the markets it changes, so runs do not depend on
//! each other. Wallet behaviour goes through the EIP-1193 test wallet (tests/support/wallet.js),
//! which forwards to anvil.
#![allow(dead_code)]

use super::{describe, fails, get, is_node, m, now, obj, ok, report, sleep};
use js_sys::{Array, BigInt, Function, Promise};
use sandrun_sdk::Sandrun;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

macro_rules! chain_scenarios {
    ($install:path; $($name:ident),* $(,)?) => {
        mod chain {
            $(
                #[wasm_bindgen_test::wasm_bindgen_test]
                async fn $name() {
                    $install();
                    crate::common::within(stringify!($name), crate::common::chain::$name()).await
                }
            )*
        }
    };
}
pub(crate) use chain_scenarios;

macro_rules! all_chain_scenarios {
    ($install:path) => {
        crate::common::chain::chain_scenarios!($install;
            lifecycle_with_local_keys, bad_input_before_sending, custom_errors_and_funds,
            fees_within_the_cap, confirmations, replacements, wallet_rejection_and_wrong_chain,
            watch_survives_a_dropping_provider, watch_reports_a_reorg, eip6963_wallet_lifecycle);
    };
}
pub(crate) use all_chain_scenarios;

#[wasm_bindgen(module = "/tests/support/wallet.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn rpc(url: &str, method: &str, params: JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = randomKey)]
    fn random_key() -> String;
    #[wasm_bindgen(js_name = createWallet)]
    fn create_wallet(url: &str, chain_id: f64) -> JsValue;
    #[wasm_bindgen(js_name = announceWallet)]
    fn announce_wallet(provider: &JsValue, name: &str, rdns: &str) -> Function;
    fn collector() -> JsValue;
    fn track(promise: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = sentLog)]
    fn sent_log() -> JsValue;
}

// The SDK's error classes, for `instanceof` checks.
#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    type RevertError;
    type UserRejectedError;
    type WrongChainError;
    type InsufficientFundsError;
    type ReplacedError;
    type ChainError;
}

const CID: &str = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
/// 1,000 ether, the balance each fresh key gets.
const FUNDS: &str = "0x3635c9adc5dea00000";
const PRICE: u64 = 10_000_000_000_000_000; // 0.01 ether
const CLAIM_BOND: u64 = 10_000_000_000_000_000; // the local default, 0.01 ether

pub fn rpc_url() -> &'static str {
    option_env!("SANDRUN_TEST_RPC").unwrap_or("http://127.0.0.1:18463")
}

pub fn chain_id() -> f64 {
    option_env!("SANDRUN_TEST_CHAIN_ID")
        .unwrap_or("31337")
        .parse()
        .unwrap()
}

/// The market 20-chain.sh deployed (the scenarios only post to it and read it).
fn shared_market() -> &'static str {
    option_env!("SANDRUN_TEST_MARKET").unwrap_or("0x5FbDB2315678afecb367f032d93F642f64180aa3")
}

/// An anvil request that must succeed.
pub async fn anvil(method: &str, params: &[JsValue]) -> JsValue {
    let p: Array = params.iter().collect();
    rpc(rpc_url(), method, p.into())
        .await
        .unwrap_or_else(|e| panic!("{method}: {}", describe(&e)))
}

async fn head() -> u64 {
    hex_u64(&anvil("eth_blockNumber", &[]).await)
}

fn hex_u64(v: &JsValue) -> u64 {
    u64::from_str_radix(v.as_string().unwrap().trim_start_matches("0x"), 16).unwrap()
}

async fn nonce_of(address: &str) -> u64 {
    hex_u64(
        &anvil(
            "eth_getTransactionCount",
            &[address.into(), "latest".into()],
        )
        .await,
    )
}

/// Every scenario starts with blocks mined per transaction (a failed scenario may have left
/// mining off).
async fn setup() {
    anvil("evm_setAutomine", &[true.into()]).await;
}

fn code(e: &JsValue) -> String {
    get(e, "code")
        .as_string()
        .unwrap_or_else(|| format!("(no code: {})", describe(e)))
}

fn first_field(e: &JsValue) -> String {
    get(&Array::from(&get(e, "errors")).get(0), "field")
        .as_string()
        .unwrap_or_default()
}

/// A bigint's decimal digits (and that it is a bigint).
fn big(v: &JsValue) -> String {
    assert!(v.is_bigint(), "expected a bigint, got {v:?}");
    BigInt::from(v.clone())
        .to_string(10)
        .unwrap()
        .as_string()
        .unwrap()
}

fn wei(n: u64) -> JsValue {
    BigInt::from(n).into()
}

fn s(v: &JsValue) -> String {
    v.as_string()
        .unwrap_or_else(|| panic!("expected a string, got {}", describe(v)))
}

async fn wait(p: JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(Promise::from(p)).await
}

fn chain_config(extra: &[(&str, JsValue)]) -> JsValue {
    let mut pairs = vec![("pollIntervalMs", JsValue::from(50))];
    pairs.extend(extra.iter().cloned());
    obj(&[("chain", obj(&pairs))])
}

async fn create(config: JsValue) -> JsValue {
    wait(Sandrun::create(Some(config)).into())
        .await
        .unwrap_or_else(|e| panic!("Sandrun.create: {}", describe(&e)))
}

/// A client signing with a fresh random key, funded with 1,000 ether; and its address.
async fn key_client(extra: &[(&str, JsValue)]) -> (JsValue, String) {
    let mut pairs = vec![
        ("rpcUrl", JsValue::from(rpc_url())),
        ("privateKey", random_key().into()),
    ];
    pairs.extend(extra.iter().cloned());
    let sandrun = create(chain_config(&pairs)).await;
    let market = open(&sandrun, shared_market()).await;
    let address = s(&ok(&market, "account", &[]).await);
    anvil("anvil_setBalance", &[address.as_str().into(), FUNDS.into()]).await;
    (sandrun, address)
}

/// A client over the test wallet (`{ provider, controls }`), with `extra` chain options.
async fn wallet_client(wallet: &JsValue, extra: &[(&str, JsValue)]) -> JsValue {
    let mut pairs = vec![("provider", get(wallet, "provider"))];
    pairs.extend(extra.iter().cloned());
    create(chain_config(&pairs)).await
}

async fn open(sandrun: &JsValue, address: &str) -> JsValue {
    ok(sandrun, "market", &[address.into()]).await
}

/// A fresh market, deployed by `sandrun`, opened by it.
async fn fresh_market(sandrun: &JsValue) -> (JsValue, String) {
    let address = s(&ok(sandrun, "deployMarket", &[]).await);
    (open(sandrun, &address).await, address)
}

fn worker_key(byte: u8) -> String {
    sandrun_protocol::b64::encode(&[byte; 32])
}

fn signature(byte: u8) -> String {
    sandrun_protocol::b64::encode(&[byte; 64])
}

fn result_hash(byte: u8) -> String {
    format!("0x{}", format!("{byte:02x}").repeat(32))
}

fn job(n_label: u8, k: u32, n: u32) -> JsValue {
    obj(&[
        ("jobHash", result_hash(n_label).into()),
        ("inputCid", CID.into()),
        ("k", k.into()),
        ("n", n.into()),
        ("pricePerNode", wei(PRICE)),
        ("deadline", (((now_s() + 3600.0) as u64) as f64).into()),
    ])
}

fn now_s() -> f64 {
    js_sys::Date::now() / 1000.0
}

fn node(byte: u8) -> JsValue {
    obj(&[
        ("workerKey", worker_key(byte).into()),
        (
            "endpoint",
            format!("http://127.0.0.1:{}", 9000 + u32::from(byte)).into(),
        ),
        ("price", "0.01 ether".into()),
        ("bond", "0.1 ether".into()),
    ])
}

fn assert_receipt(r: &JsValue, what: &str) {
    assert_eq!(
        get(r, "status").as_string().as_deref(),
        Some("success"),
        "{what}: {}",
        describe(r)
    );
    assert!(s(&get(r, "hash")).starts_with("0x"), "{what}");
    assert!(get(r, "blockNumber").as_f64().unwrap() > 0.0, "{what}");
    assert!(
        big(&get(r, "gasUsed")).parse::<u64>().unwrap() > 21_000,
        "{what}"
    );
    assert!(
        big(&get(r, "effectiveGasPrice")).parse::<u64>().unwrap() > 0,
        "{what}"
    );
}

fn gas(r: &JsValue) -> u64 {
    big(&get(r, "gasUsed")).parse().unwrap()
}

async fn expect_code(p: JsValue, want: &str, what: &str) -> JsValue {
    match wait(p).await {
        Ok(v) => panic!(
            "{what}: resolved with {} but should fail with {want}",
            describe(&v)
        ),
        Err(e) => {
            assert_eq!(code(&e), want, "{what}: {}", describe(&e));
            e
        }
    }
}

/// Polls `f` until it is true (every 20 ms, up to `ms`).
async fn until(ms: f64, what: &str, f: impl Fn() -> bool) {
    let deadline = now() + ms;
    while !f() {
        assert!(now() < deadline, "timed out waiting for {what}");
        sleep(20.0).await;
    }
}

fn len(v: &JsValue) -> u32 {
    Array::from(v).length()
}

/// Registers three nodes (fresh keys, concurrently) on `address`; their markets and addresses.
async fn three_nodes(address: &str, register: bool) -> Vec<(JsValue, String)> {
    let mut nodes = Vec::new();
    for _ in 0..3 {
        let (c, a) = key_client(&[]).await;
        nodes.push((open(&c, address).await, a));
    }
    if register {
        let sent: Vec<JsValue> = nodes
            .iter()
            .enumerate()
            .map(|(i, (mk, _))| m(mk, "registerNode", &[node(i as u8 + 1)]))
            .collect();
        for (i, p) in sent.into_iter().enumerate() {
            let r = wait(p)
                .await
                .unwrap_or_else(|e| panic!("registerNode {i}: {}", describe(&e)));
            assert_receipt(&r, "registerNode");
        }
    }
    nodes
}

/// A whole 2-of-3 lifecycle on a market of its own, every transaction signed in the SDK with
/// keys anvil does not manage: deploy, three nodes registered concurrently, two jobs posted
/// concurrently from one key (consecutive nonces handed out locally), three claims, two
/// agreeing results and a dissenting one, finalize (the dissenter slashed), state reads,
/// withdraw, cancel of the unclaimed job. The lifecycle's gas must stay within the contract's
/// budget of 450,000.
pub async fn lifecycle_with_local_keys() {
    setup().await;
    let (poster, poster_addr) = key_client(&[]).await;
    let (market, address) = fresh_market(&poster).await;
    assert_eq!(s(&get(&market, "address")), address);
    assert_eq!(big(&get(&market, "chainId")), format!("{}", chain_id()));
    let settings = ok(&market, "settings", &[]).await;
    assert_eq!(big(&get(&settings, "minBond")), "100000000000000000");
    assert_eq!(big(&get(&settings, "claimBond")), CLAIM_BOND.to_string());
    assert_eq!(get(&settings, "unbondingDelay").as_f64(), Some(60.0));
    let nodes = three_nodes(&address, true).await;
    let record = ok(&market, "node", &[nodes[0].1.as_str().into()]).await;
    assert_eq!(get(&record, "registered").as_bool(), Some(true));
    assert_eq!(s(&get(&record, "workerKey")), worker_key(1));
    assert_eq!(big(&get(&record, "bond")), "100000000000000000");
    assert_eq!(big(&get(&record, "price")), PRICE.to_string());

    let nonce_before = nonce_of(&poster_addr).await;
    let first = m(&market, "postJob", &[job(0xa1, 2, 3)]);
    let second = m(&market, "postJob", &[job(0xa2, 2, 3)]);
    let (first, second) = (wait(first).await.unwrap(), wait(second).await.unwrap());
    assert_eq!(
        nonce_of(&poster_addr).await,
        nonce_before + 2,
        "one nonce each"
    );
    let id = get(&first, "jobId");
    let other = get(&second, "jobId");
    // Ids follow the nonces, which go to whichever call got its fees first.
    let mut ids = [big(&id), big(&other)];
    ids.sort();
    assert_eq!(ids, ["1", "2"]);
    let post = get(&first, "receipt");
    assert_receipt(&post, "postJob");
    assert_eq!(s(&get(&first, "txHash")), s(&get(&post, "hash")));

    let mut lifecycle_gas = gas(&post);
    for (mk, _) in &nodes {
        let r = ok(mk, "claim", &[id.clone()]).await;
        assert_receipt(&r, "claim");
        lifecycle_gas += gas(&r);
    }
    let results = [0x11, 0x11, 0x22];
    for (i, (mk, _)) in nodes.iter().enumerate() {
        let submission = obj(&[
            ("resultHash", result_hash(results[i]).into()),
            ("outputCid", CID.into()),
            ("signature", signature(i as u8).into()),
        ]);
        let r = ok(mk, "submitResult", &[id.clone(), submission]).await;
        lifecycle_gas += gas(&r);
    }
    let state = ok(&market, "job", &[id.clone()]).await;
    assert_eq!(s(&get(&state, "state")), "claimed");
    assert_eq!(s(&get(&state, "poster")), poster_addr);
    assert_eq!(
        (get(&state, "k").as_f64(), get(&state, "n").as_f64()),
        (Some(2.0), Some(3.0))
    );
    assert_eq!(len(&get(&state, "claims")), 3);
    let listed = Array::from(&get(&state, "results"));
    assert_eq!(listed.length(), 3);
    assert_eq!(s(&get(&listed.get(2), "resultHash")), result_hash(0x22));
    assert_eq!(s(&get(&listed.get(2), "node")), nodes[2].1);

    let settled = ok(&market, "finalize", &[id.clone()]).await;
    lifecycle_gas += gas(&get(&settled, "receipt"));
    assert_eq!(s(&get(&settled, "outcome")), "finalized");
    let agreeing: Vec<String> = Array::from(&get(&settled, "agreeing"))
        .iter()
        .map(|a| s(&a))
        .collect();
    assert_eq!(agreeing, [nodes[0].1.clone(), nodes[1].1.clone()]);
    let dissenting: Vec<String> = Array::from(&get(&settled, "dissenting"))
        .iter()
        .map(|a| s(&a))
        .collect();
    assert_eq!(dissenting, [nodes[2].1.clone()]);
    assert_eq!(big(&get(&settled, "paid")), (2 * PRICE).to_string());
    assert_eq!(big(&get(&settled, "slashed")), CLAIM_BOND.to_string());
    assert_eq!(big(&get(&settled, "refunded")), PRICE.to_string());
    assert_eq!(s(&get(&settled, "resultHash")), result_hash(0x11));
    report(&format!(
        "SDK 2-of-3 lifecycle (post, 3 claims, 3 results, finalize): {lifecycle_gas} gas"
    ));
    assert!(
        lifecycle_gas <= 450_000,
        "lifecycle gas {lifecycle_gas} over the 450,000 budget"
    );
    let done = ok(&market, "job", &[id.clone()]).await;
    assert_eq!(s(&get(&done, "state")), "finalized");
    assert_eq!(s(&get(&done, "agreedResult")), result_hash(0x11));

    let (mk0, a0) = &nodes[0];
    assert_eq!(
        big(&ok(&market, "balanceOf", &[a0.as_str().into()]).await),
        PRICE.to_string()
    );
    assert_receipt(&ok(mk0, "withdraw", &[]).await, "withdraw");
    assert_eq!(
        big(&ok(&market, "balanceOf", &[a0.as_str().into()]).await),
        "0"
    );
    let cancelled = ok(&market, "cancel", &[other]).await;
    assert_eq!(s(&get(&cancelled, "outcome")), "cancelled");
    assert_eq!(big(&get(&cancelled, "refunded")), (3 * PRICE).to_string());
    assert_eq!(big(&ok(&market, "jobCount", &[]).await), "2");
    m(&market, "free", &[]);
}

/// Bad input is a `ValidationError` naming the field, before anything is sent (the account's
/// nonce does not move); bad chain config fails at `Sandrun.create` (a bad key is not echoed);
/// an address without code is a `ChainError`; units are exact.
pub async fn bad_input_before_sending() {
    setup().await;
    let (client, address) = key_client(&[]).await;
    let market = open(&client, shared_market()).await;
    let before = nonce_of(&address).await;
    let with = |f: &dyn Fn(&JsValue)| {
        let j = job(1, 2, 3);
        f(&j);
        j
    };
    let set = |o: &JsValue, k: &str, v: JsValue| {
        js_sys::Reflect::set(o, &k.into(), &v).unwrap();
    };
    let cases: Vec<(&str, JsValue, Vec<JsValue>, &str)> = vec![
        (
            "postJob",
            market.clone(),
            vec![with(&|j| set(j, "jobHash", "0x12".into()))],
            "jobHash",
        ),
        (
            "postJob",
            market.clone(),
            vec![with(&|j| set(j, "k", 4.into()))],
            "k",
        ),
        (
            "postJob",
            market.clone(),
            vec![with(&|j| set(j, "k", 1.into()))],
            "k",
        ),
        (
            "postJob",
            market.clone(),
            vec![with(&|j| set(j, "deadline", 1_000.into()))],
            "deadline",
        ),
        (
            "postJob",
            market.clone(),
            vec![with(&|j| set(j, "inputCid", "".into()))],
            "inputCid",
        ),
        (
            "postJob",
            market.clone(),
            vec![with(&|j| set(j, "pricePerNode", 5.into()))],
            "pricePerNode",
        ),
        (
            "postJob",
            market.clone(),
            vec![with(&|j| set(j, "pricePerNode", "1 finney".into()))],
            "pricePerNode",
        ),
        (
            "postJob",
            market.clone(),
            vec![with(&|j| set(j, "n", JsValue::UNDEFINED))],
            "n",
        ),
        (
            "postJob",
            market.clone(),
            vec![job(1, 2, 3), obj(&[("confirmation", 2.into())])],
            "options.confirmation",
        ),
        ("postJob", market.clone(), vec![42.into()], "job"),
        (
            "registerNode",
            market.clone(),
            vec![obj(&[
                ("workerKey", "nope".into()),
                ("endpoint", "x".into()),
                ("price", wei(1)),
                ("bond", wei(1)),
            ])],
            "workerKey",
        ),
        (
            "registerNode",
            market.clone(),
            vec![obj(&[
                ("workerKey", worker_key(1).into()),
                ("endpoint", "x".into()),
                ("price", wei(1)),
            ])],
            "bond",
        ),
        (
            "submitResult",
            market.clone(),
            vec![
                1.into(),
                obj(&[
                    ("resultHash", result_hash(1).into()),
                    ("outputCid", CID.into()),
                    ("signature", worker_key(1).into()),
                ]),
            ],
            "signature",
        ),
        ("claim", market.clone(), vec![(-1).into()], "jobId"),
        ("claim", market.clone(), vec![1.5.into()], "jobId"),
        ("node", market.clone(), vec!["0x1234".into()], "address"),
        ("speedUp", market.clone(), vec!["0xabc".into()], "txHash"),
        (
            "market",
            client.clone(),
            vec!["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92267".into()],
            "address",
        ),
    ];
    for (method, target, args, field) in cases {
        let e = fails(&target, method, &args).await;
        assert_eq!(code(&e), "VALIDATION", "{method} {field}: {}", describe(&e));
        assert_eq!(first_field(&e), field, "{method}: {}", describe(&e));
    }
    let watched = super::am(
        &market,
        "watch",
        &[
            "Nope".into(),
            JsValue::UNDEFINED,
            get(&collector(), "handler"),
        ],
    )
    .await;
    let e = watched.expect_err("an unknown event is refused");
    assert_eq!(first_field(&e), "event", "{}", describe(&e));
    let e = super::am(
        &market,
        "watch",
        &[
            "Withdrawn".into(),
            obj(&[("args", obj(&[("jobId", 1.into())]))]),
            get(&collector(), "handler"),
        ],
    )
    .await
    .expect_err("Withdrawn has no jobId topic");
    assert_eq!(first_field(&e), "args.jobId", "{}", describe(&e));
    assert_eq!(nonce_of(&address).await, before, "nothing was sent");

    // A read-only client (an RPC URL alone) refuses to send.
    let read_only = create(chain_config(&[("rpcUrl", rpc_url().into())])).await;
    let ro = open(&read_only, shared_market()).await;
    let e = fails(&ro, "postJob", &[job(1, 2, 3)]).await;
    assert_eq!(
        (code(&e), first_field(&e)),
        ("VALIDATION".into(), "config.chain".into())
    );
    // No code at the address.
    let e = fails(&client, "market", &[address.as_str().into()]).await;
    assert_eq!(code(&e), "CHAIN", "{}", describe(&e));
    assert_eq!(
        get(&e, "reason").as_string().as_deref(),
        Some("no-contract")
    );

    let bad_configs: Vec<(JsValue, &str)> = vec![
        (
            obj(&[("rpcUrl", "ws://127.0.0.1:1".into())]),
            "config.chain.rpcUrl",
        ),
        (obj(&[]), "config.chain.rpcUrl"),
        (obj(&[("provider", obj(&[]))]), "config.chain.provider"),
        (
            obj(&[("rpcUrl", rpc_url().into()), ("chainId", 0.into())]),
            "config.chain.chainId",
        ),
        (
            obj(&[
                ("rpcUrl", rpc_url().into()),
                ("privateKey", "0x12345678".into()),
            ]),
            "config.chain.privateKey",
        ),
        (
            obj(&[("rpcUrl", rpc_url().into()), ("confirmations", 0.into())]),
            "config.chain.confirmations",
        ),
        (
            obj(&[("rpcUrl", rpc_url().into()), ("maxFeePerGas", 7.into())]),
            "config.chain.maxFeePerGas",
        ),
        (
            obj(&[("rpcUrl", rpc_url().into()), ("rpcurl", "x".into())]),
            "config.chain.rpcurl",
        ),
    ];
    for (chain, field) in bad_configs {
        let e = wait(Sandrun::create(Some(obj(&[("chain", chain)]))).into())
            .await
            .expect_err(field);
        assert_eq!(code(&e), "VALIDATION", "{field}");
        assert_eq!(first_field(&e), field, "{}", describe(&e));
        assert!(
            !describe(&e).contains("12345678"),
            "the key is not echoed: {}",
            describe(&e)
        );
    }

    use sandrun_sdk::market::chain::values::{format_ether, parse_ether, parse_units};
    assert_eq!(
        big(&parse_ether("0.1".into()).unwrap().into()),
        "100000000000000000"
    );
    assert_eq!(
        big(&parse_units("1.5 gwei".into()).unwrap().into()),
        "1500000000"
    );
    assert_eq!(format_ether(wei(1_500_000_000_000_000_000)).unwrap(), "1.5");
    let e = parse_ether("-1".into()).unwrap_err();
    assert_eq!(code(&e), "VALIDATION");
    assert!(format_ether(1.5.into()).is_err(), "no floats");
}

/// Reverts become `RevertError`s with the custom error's name and arguments (bigints,
/// checksummed addresses) and the message `Name(arg, …)`, through a local key and through a
/// wallet; an account that cannot pay gets `InsufficientFundsError` before anything is sent.
pub async fn custom_errors_and_funds() {
    setup().await;
    let (poster, _) = key_client(&[]).await;
    let (market, address) = fresh_market(&poster).await;
    let e = expect_code(m(&market, "claim", &[999.into()]), "REVERTED", "claim(999)").await;
    assert!(e.is_instance_of::<RevertError>() && e.is_instance_of::<ChainError>());
    assert_eq!(
        get(&e, "errorName").as_string().as_deref(),
        Some("JobNotFound")
    );
    assert_eq!(big(&get(&get(&e, "args"), "jobId")), "999");
    assert_eq!(
        get(&e, "message").as_string().as_deref(),
        Some("JobNotFound(999)")
    );
    assert_eq!(get(&e, "operation").as_string().as_deref(), Some("claim"));

    let nodes = three_nodes(&address, false).await;
    let (nd, node_addr) = &nodes[0];
    let e = expect_code(
        m(
            nd,
            "registerNode",
            &[obj(&[
                ("workerKey", worker_key(1).into()),
                ("endpoint", "e".into()),
                ("price", wei(1)),
                ("bond", wei(5)),
            ])],
        ),
        "REVERTED",
        "bond too low",
    )
    .await;
    assert_eq!(
        get(&e, "errorName").as_string().as_deref(),
        Some("BondTooLow")
    );
    assert_eq!(big(&get(&get(&e, "args"), "minimum")), "100000000000000000");
    assert_receipt(&ok(nd, "registerNode", &[node(1)]).await, "registerNode");
    let id = get(&ok(&market, "postJob", &[job(7, 2, 3)]).await, "jobId");
    ok(nd, "claim", &[id.clone()]).await;
    let e = expect_code(m(nd, "claim", &[id.clone()]), "REVERTED", "double claim").await;
    assert_eq!(
        get(&e, "errorName").as_string().as_deref(),
        Some("AlreadyClaimed")
    );
    assert_eq!(s(&get(&get(&e, "args"), "node")), *node_addr);
    assert_eq!(
        s(&get(&e, "message")),
        format!("AlreadyClaimed({}, {node_addr})", big(&id))
    );
    let e = expect_code(
        m(&market, "finalize", &[id.clone()]),
        "REVERTED",
        "finalize before k",
    )
    .await;
    assert_eq!(
        get(&e, "errorName").as_string().as_deref(),
        Some("NoConsensus")
    );

    // Through a wallet (the provider's account sends; the revert comes from its estimate).
    let wallet = create_wallet(rpc_url(), chain_id());
    let w = wallet_client(&wallet, &[]).await;
    let wm = open(&w, &address).await;
    let e = expect_code(
        m(&wm, "cancel", &[id.clone()]),
        "REVERTED",
        "cancel by another",
    )
    .await;
    assert_eq!(
        get(&e, "errorName").as_string().as_deref(),
        Some("NotPoster")
    );

    // A key without ether.
    let broke = create(chain_config(&[
        ("rpcUrl", rpc_url().into()),
        ("privateKey", random_key().into()),
    ]))
    .await;
    let bm = open(&broke, &address).await;
    let who = s(&ok(&bm, "account", &[]).await);
    let e = expect_code(
        m(&bm, "postJob", &[job(8, 2, 3)]),
        "INSUFFICIENT_FUNDS",
        "no ether",
    )
    .await;
    assert!(e.is_instance_of::<InsufficientFundsError>());
    assert_eq!(big(&get(&e, "balance")), "0");
    assert_eq!(nonce_of(&who).await, 0, "nothing was sent");
}

/// The fee cap: a cap above what the chain needs leaves the fees as computed; a cap between
/// the chain's minimum and the computed fee is used as `maxFeePerGas`; a cap below the minimum
/// fails before sending. Checked on the transactions as mined.
pub async fn fees_within_the_cap() {
    setup().await;
    // Make the base fee known: 2 gwei, then falling by an eighth per empty block.
    let gwei = 1_000_000_000u64;
    anvil(
        "anvil_setNextBlockBaseFeePerGas",
        &[format!("{:#x}", 2 * gwei).into()],
    )
    .await;
    // Five blocks without transactions: the priority fee is the SDK's floor (earlier
    // scenarios' replacements paid large tips).
    for _ in 0..5 {
        anvil("evm_mine", &[]).await;
    }
    let history = anvil(
        "eth_feeHistory",
        &["0x1".into(), "latest".into(), Array::of1(&50.into()).into()],
    )
    .await;
    let bases = Array::from(&get(&history, "baseFeePerGas"));
    let next_base = hex_u64(&bases.get(bases.length() - 1));
    let priority = 1_000_000u64; // the SDK's floor: anvil's blocks pay no priority fee
    let desired = 2 * next_base + priority;
    let tx_fee = |hash: JsValue| async move {
        let tx = anvil("eth_getTransactionByHash", &[hash]).await;
        hex_u64(&get(&tx, "maxFeePerGas"))
    };

    let high = (10 * desired).to_string();
    let (client, address) = key_client(&[("maxFeePerGas", high.as_str().into())]).await;
    let market = open(&client, shared_market()).await;
    let r = get(&ok(&market, "postJob", &[job(1, 2, 3)]).await, "receipt");
    let paid = tx_fee(get(&r, "hash")).await;
    assert!(
        paid > next_base && paid <= 10 * desired,
        "{paid} within ({next_base}, {desired}]"
    );

    // Per call: a cap between the minimum (next base fee + priority fee) and the computed fee.
    let cap = next_base + priority + 12_345;
    let r = get(
        &ok(
            &market,
            "postJob",
            &[job(2, 2, 3), obj(&[("maxFeePerGas", wei(cap))])],
        )
        .await,
        "receipt",
    );
    assert!(tx_fee(get(&r, "hash")).await <= cap);
    let base_now = hex_u64(&get(
        &anvil("eth_getBlockByNumber", &["latest".into(), false.into()]).await,
        "baseFeePerGas",
    ));
    report(&format!("fees: next base fee {next_base} wei, computed {desired}, capped at {cap}; base fee now {base_now}"));

    // Below what the chain needs: refused, nothing sent.
    let before = nonce_of(&address).await;
    let e = expect_code(
        m(
            &market,
            "postJob",
            &[job(3, 2, 3), obj(&[("maxFeePerGas", wei(next_base / 2))])],
        ),
        "CHAIN",
        "cap below the base fee",
    )
    .await;
    assert_eq!(
        get(&e, "reason").as_string().as_deref(),
        Some("fee-cap"),
        "{}",
        describe(&e)
    );
    assert!(big(&get(&e, "required")).parse::<u64>().unwrap() > next_base / 2);
    assert_eq!(nonce_of(&address).await, before);

    // A chain without a base fee (blocks of base fee 0 in the whole history asked for): a legacy
    // transaction at the node's gas price + 10 %.
    anvil("anvil_setNextBlockBaseFeePerGas", &["0x0".into()]).await;
    for _ in 0..6 {
        anvil("evm_mine", &[]).await;
    }
    let price = hex_u64(&anvil("eth_gasPrice", &[]).await);
    let posted = ok(&market, "postJob", &[job(4, 2, 3)]).await;
    anvil(
        "anvil_setNextBlockBaseFeePerGas",
        &[format!("{gwei:#x}").into()],
    )
    .await;
    anvil("evm_mine", &[]).await;
    let tx = anvil("eth_getTransactionByHash", &[get(&posted, "txHash")]).await;
    assert_eq!(
        get(&tx, "type").as_string().as_deref(),
        Some("0x0"),
        "{}",
        describe(&tx)
    );
    assert_eq!(hex_u64(&get(&tx, "gasPrice")), price * 110 / 100);
    assert!(get(&tx, "maxFeePerGas").is_undefined());
    report(&format!(
        "fees: without a base fee, a legacy transaction at {} wei (eth_gasPrice {price})",
        price * 110 / 100
    ));
}

/// A call with `confirmations: 3` resolves only once two more blocks are on top of its own.
pub async fn confirmations() {
    setup().await;
    let (client, _) = key_client(&[]).await;
    let market = open(&client, shared_market()).await;
    let t = track(&m(
        &market,
        "postJob",
        &[job(1, 2, 3), obj(&[("confirmations", 3.into())])],
    ));
    sleep(400.0).await;
    assert_eq!(
        get(&t, "done").as_bool(),
        Some(false),
        "resolved before its confirmations"
    );
    anvil("evm_mine", &[]).await;
    sleep(300.0).await;
    assert_eq!(
        get(&t, "done").as_bool(),
        Some(false),
        "resolved with 2 of 3 confirmations"
    );
    anvil("evm_mine", &[]).await;
    until(5_000.0, "the third confirmation", || {
        get(&t, "done").as_bool() == Some(true)
    })
    .await;
    let r = get(&get(&t, "value"), "receipt");
    assert_receipt(&r, "confirmed postJob");
    let mined_in = get(&r, "blockNumber").as_f64().unwrap() as u64;
    assert!(head().await >= mined_in + 2);
}

/// Replacements (mining paused): a speed-up resolves the call with the copy mined
/// (`originalHash` the first); a cancel rejects it with `ReplacedError` (`cancelled`); a
/// replacement sent outside the SDK with the same nonce is detected and classified (`cancelled`
/// for a zero-value self-transfer, `replaced` for anything else); a transaction the node drops
/// is a `ChainError` with `reason: 'dropped'`.
pub async fn replacements() {
    setup().await;
    let (client, _) = key_client(&[]).await;
    let market = open(&client, shared_market()).await;
    anvil("evm_setAutomine", &[false.into()]).await;

    let pending_call = |label: u8| {
        let sent = sent_log();
        let call = track(&m(
            &market,
            "postJob",
            &[job(label, 2, 3), obj(&[("onSent", get(&sent, "onSent"))])],
        ));
        (call, sent)
    };
    let first_hash = |sent: JsValue| async move {
        until(5_000.0, "the transaction to be sent", || {
            len(&get(&sent, "hashes")) > 0
        })
        .await;
        Array::from(&get(&sent, "hashes")).get(0)
    };

    // Speed-up.
    let (call, sent) = pending_call(1);
    let original = first_hash(sent).await;
    let faster = ok(&market, "speedUp", &[original.clone()]).await;
    assert_ne!(s(&faster), s(&original));
    anvil("evm_mine", &[]).await;
    until(5_000.0, "the sped-up call", || {
        get(&call, "done").as_bool() == Some(true)
    })
    .await;
    let r = get(&get(&call, "value"), "receipt");
    assert_eq!(
        s(&get(&r, "hash")),
        s(&faster),
        "{}",
        describe(&get(&call, "error"))
    );
    assert_eq!(s(&get(&r, "originalHash")), s(&original));

    // Cancel through the SDK.
    let (call, sent) = pending_call(2);
    let original = first_hash(sent).await;
    let cancel = ok(&market, "cancelTransaction", &[original.clone()]).await;
    anvil("evm_mine", &[]).await;
    until(5_000.0, "the cancelled call", || {
        get(&call, "done").as_bool() == Some(true)
    })
    .await;
    let e = get(&call, "error");
    assert!(e.is_instance_of::<ReplacedError>(), "{}", describe(&e));
    assert_eq!(get(&e, "reason").as_string().as_deref(), Some("cancelled"));
    assert_eq!(s(&get(&e, "replacement")), s(&cancel));
    assert_eq!(s(&get(&e, "txHash")), s(&original));

    // Replacements sent outside the SDK, from a wallet account (anvil signs for it).
    let wallet = create_wallet(rpc_url(), chain_id());
    let w = wallet_client(&wallet, &[]).await;
    let wm = open(&w, shared_market()).await;
    let from = s(&ok(&wm, "account", &[]).await);
    for (label, to, reason) in [
        (3u8, from.clone(), "cancelled"),
        (
            4,
            "0x000000000000000000000000000000000000dEaD".to_string(),
            "replaced",
        ),
    ] {
        let sent = sent_log();
        let call = track(&m(
            &wm,
            "postJob",
            &[job(label, 2, 3), obj(&[("onSent", get(&sent, "onSent"))])],
        ));
        let original = first_hash(sent).await;
        let tx = anvil("eth_getTransactionByHash", &[original.clone()]).await;
        let fee = 3 * hex_u64(&get(&tx, "maxFeePerGas"));
        let replacement = obj(&[
            ("from", from.as_str().into()),
            ("to", to.as_str().into()),
            ("value", "0x0".into()),
            ("nonce", get(&tx, "nonce")),
            ("gas", "0x5208".into()),
            ("maxFeePerGas", format!("{fee:#x}").into()),
            ("maxPriorityFeePerGas", format!("{fee:#x}").into()),
        ]);
        let other = anvil("eth_sendTransaction", &[replacement]).await;
        anvil("evm_mine", &[]).await;
        until(5_000.0, "the replaced call", || {
            get(&call, "done").as_bool() == Some(true)
        })
        .await;
        let e = get(&call, "error");
        assert_eq!(
            code(&e),
            "REPLACED",
            "{reason}: {}",
            describe(&get(&call, "value"))
        );
        assert_eq!(get(&e, "reason").as_string().as_deref(), Some(reason));
        assert_eq!(s(&get(&e, "replacement")), s(&other));
    }

    // Still pending after the call's timeout: a TimeoutError naming the transaction (which stays
    // in the pool and is mined later).
    let sent = sent_log();
    let late = m(
        &market,
        "postJob",
        &[
            job(6, 2, 3),
            obj(&[("timeoutMs", 300.into()), ("onSent", get(&sent, "onSent"))]),
        ],
    );
    let e = expect_code(late, "TIMEOUT", "pending past timeoutMs").await;
    assert_eq!(
        s(&get(&e, "txHash")),
        s(&Array::from(&get(&sent, "hashes")).get(0))
    );
    anvil("evm_mine", &[]).await;

    // Dropped.
    let (call, sent) = pending_call(5);
    let original = first_hash(sent).await;
    anvil("anvil_dropTransaction", &[original.clone()]).await;
    until(5_000.0, "the dropped call", || {
        get(&call, "done").as_bool() == Some(true)
    })
    .await;
    let e = get(&call, "error");
    assert_eq!(
        (code(&e), get(&e, "reason").as_string()),
        ("CHAIN".into(), Some("dropped".into())),
        "{}",
        describe(&e)
    );
    assert_eq!(s(&get(&e, "txHash")), s(&original));
    anvil("evm_setAutomine", &[true.into()]).await;
}

/// Through the EIP-1193 test wallet: a rejected request is a `UserRejectedError` (nothing
/// sent); a wallet on another chain is asked to switch (and to add the chain when it does not
/// know it and `addChain` is given), a refused switch is a rejection, a failed one a
/// `WrongChainError`; `chainChanged` and `accountsChanged` are followed without asking again;
/// an RPC URL on another chain is a `WrongChainError`; a freed market removes its listeners.
pub async fn wallet_rejection_and_wrong_chain() {
    setup().await;
    let wallet = create_wallet(rpc_url(), chain_id());
    let controls = get(&wallet, "controls");
    let client = wallet_client(&wallet, &[("chainId", chain_id().into())]).await;
    let market = open(&client, shared_market()).await;
    let from = s(&ok(&market, "account", &[]).await);
    assert!(get(&controls, "listenerCount").is_function());
    assert_eq!(
        m(&controls, "listenerCount", &["chainChanged".into()]).as_f64(),
        Some(1.0)
    );

    // Rejection.
    m(
        &get(&controls, "reject"),
        "add",
        &["eth_sendTransaction".into()],
    );
    let before = nonce_of(&from).await;
    let e = expect_code(
        m(&market, "postJob", &[job(1, 2, 3)]),
        "REJECTED",
        "rejected send",
    )
    .await;
    assert!(e.is_instance_of::<UserRejectedError>());
    assert_eq!(nonce_of(&from).await, before);
    m(&get(&controls, "reject"), "clear", &[]);
    assert_receipt(
        &get(&ok(&market, "postJob", &[job(2, 2, 3)]).await, "receipt"),
        "wallet postJob",
    );

    // The wallet loses its connection while a transaction waits to be mined: the call goes on
    // and resolves once the wallet answers again.
    anvil("evm_setAutomine", &[false.into()]).await;
    let sent = sent_log();
    let call = track(&m(
        &market,
        "postJob",
        &[job(5, 2, 3), obj(&[("onSent", get(&sent, "onSent"))])],
    ));
    until(5_000.0, "the transaction to be sent", || {
        len(&get(&sent, "hashes")) > 0
    })
    .await;
    js_sys::Reflect::set(&controls, &"down".into(), &true.into()).unwrap();
    sleep(200.0).await;
    anvil("evm_mine", &[]).await;
    sleep(200.0).await;
    assert_eq!(
        get(&call, "done").as_bool(),
        Some(false),
        "{}",
        describe(&get(&call, "error"))
    );
    js_sys::Reflect::set(&controls, &"down".into(), &false.into()).unwrap();
    until(5_000.0, "the call after the wallet came back", || {
        get(&call, "done").as_bool() == Some(true)
    })
    .await;
    anvil("evm_setAutomine", &[true.into()]).await;
    assert!(
        get(&call, "error").is_undefined(),
        "{}",
        describe(&get(&call, "error"))
    );
    assert_receipt(
        &get(&get(&call, "value"), "receipt"),
        "postJob across a drop",
    );

    // accountsChanged: the next send is from the new account, without asking the wallet.
    let accounts = anvil("eth_accounts", &[]).await;
    let other = Array::from(&accounts).get(4);
    let asked = len(&get(&controls, "calls"));
    m(
        &controls,
        "emit",
        &["accountsChanged".into(), Array::of1(&other).into()],
    );
    assert_eq!(
        s(&ok(&market, "account", &[]).await).to_lowercase(),
        s(&other).to_lowercase()
    );
    let calls: Vec<String> = Array::from(&get(&controls, "calls"))
        .iter()
        .skip(asked as usize)
        .map(|c| s(&c))
        .collect();
    assert!(!calls.iter().any(|c| c == "eth_accounts"), "{calls:?}");

    // chainChanged mid-session: the wallet moved away and cannot switch back → WrongChainError,
    // nothing sent; once it can, the SDK switches it back and sends.
    js_sys::Reflect::set(&controls, &"pretendChainId".into(), &1.into()).unwrap();
    js_sys::Reflect::set(&controls, &"switchPolicy".into(), &"fail".into()).unwrap();
    m(&controls, "emit", &["chainChanged".into(), "0x1".into()]);
    let e = expect_code(
        m(&market, "postJob", &[job(3, 2, 3)]),
        "WRONG_CHAIN",
        "wallet moved",
    )
    .await;
    assert!(e.is_instance_of::<WrongChainError>());
    assert_eq!(big(&get(&e, "expectedChainId")), format!("{}", chain_id()));
    assert_eq!(big(&get(&e, "chainId")), "1");
    js_sys::Reflect::set(&controls, &"switchPolicy".into(), &"accept".into()).unwrap();
    assert_receipt(
        &get(&ok(&market, "postJob", &[job(4, 2, 3)]).await, "receipt"),
        "after switching back",
    );

    // A wallet opened on another chain: switched, refused, unknown, added.
    let opened = |policy: &'static str, add: bool| async move {
        let w = create_wallet(rpc_url(), chain_id());
        let c = get(&w, "controls");
        js_sys::Reflect::set(&c, &"pretendChainId".into(), &1.into()).unwrap();
        js_sys::Reflect::set(&c, &"switchPolicy".into(), &policy.into()).unwrap();
        let mut extra = vec![("chainId", JsValue::from(chain_id()))];
        if add {
            extra.push((
                "addChain",
                obj(&[
                    ("chainName", "anvil".into()),
                    ("rpcUrls", Array::of1(&rpc_url().into()).into()),
                ]),
            ));
        }
        let client = wallet_client(&w, &extra).await;
        let r = wait(m(&client, "market", &[shared_market().into()])).await;
        let calls: Vec<String> = Array::from(&get(&c, "calls"))
            .iter()
            .map(|c| s(&c))
            .collect();
        (r, calls)
    };
    let (r, calls) = opened("accept", false).await;
    assert!(r.is_ok(), "{}", describe(&r.unwrap_err()));
    assert!(
        calls.contains(&"wallet_switchEthereumChain".to_string()),
        "{calls:?}"
    );
    let (r, _) = opened("refuse", false).await;
    assert_eq!(code(&r.unwrap_err()), "REJECTED");
    let (r, calls) = opened("unknown", false).await;
    let e = r.unwrap_err();
    assert_eq!(code(&e), "WRONG_CHAIN", "{}", describe(&e));
    assert!(s(&get(&e, "message")).contains("addChain"));
    assert!(!calls.contains(&"wallet_addEthereumChain".to_string()));
    let (r, calls) = opened("unknown", true).await;
    assert!(r.is_ok(), "{}", describe(&r.unwrap_err()));
    let at = |name: &str| calls.iter().position(|c| c == name);
    assert!(
        at("wallet_addEthereumChain").is_some()
            && at("wallet_addEthereumChain") > at("wallet_switchEthereumChain"),
        "{calls:?}"
    );

    // An RPC URL cannot switch.
    let other_chain = create(chain_config(&[
        ("rpcUrl", rpc_url().into()),
        ("chainId", 1.into()),
    ]))
    .await;
    let e = fails(&other_chain, "market", &[shared_market().into()]).await;
    assert_eq!(code(&e), "WRONG_CHAIN", "{}", describe(&e));

    m(&market, "free", &[]);
    assert_eq!(
        m(&controls, "listenerCount", &["chainChanged".into()]).as_f64(),
        Some(0.0),
        "listeners removed"
    );
}

/// A watch over a wallet whose connection drops while blocks with events are mined: every log
/// delivered once and in order after it comes back (back-filled); the failures went to
/// `onError`; a second watch from the same block back-fills the same logs; an argument filter;
/// nothing after `stop()`.
pub async fn watch_survives_a_dropping_provider() {
    setup().await;
    let (poster, _) = key_client(&[]).await;
    let (market, address) = fresh_market(&poster).await;
    let wallet = create_wallet(rpc_url(), chain_id());
    let controls = get(&wallet, "controls");
    let watcher = wallet_client(&wallet, &[]).await;
    let wm = open(&watcher, &address).await;
    let start = head().await + 1;
    let c = collector();
    let options = obj(&[
        ("fromBlock", (start as f64).into()),
        ("pollIntervalMs", 50.into()),
        ("onError", get(&c, "onError")),
    ]);
    let stop: Function = m(
        &wm,
        "watch",
        &["JobPosted".into(), options, get(&c, "handler")],
    )
    .into();
    let logs = || Array::from(&get(&c, "logs"));
    for i in 1..3 {
        ok(&market, "postJob", &[job(i, 2, 3)]).await;
    }
    until(5_000.0, "2 logs", || logs().length() >= 2).await;
    js_sys::Reflect::set(&controls, &"down".into(), &true.into()).unwrap();
    for i in 3..6 {
        ok(&market, "postJob", &[job(i, 2, 3)]).await;
    }
    until(5_000.0, "the watch to notice the drop", || {
        len(&get(&c, "errors")) > 0
    })
    .await;
    sleep(200.0).await;
    assert_eq!(logs().length(), 2, "nothing delivered while down");
    js_sys::Reflect::set(&controls, &"down".into(), &false.into()).unwrap();
    ok(&market, "postJob", &[job(6, 2, 3)]).await;
    // The backoff after failures is at most a few polls' worth here (50 ms doubling).
    until(15_000.0, "6 logs", || logs().length() >= 6).await;
    sleep(300.0).await;
    let ids: Vec<String> = logs()
        .iter()
        .map(|l| big(&get(&get(&l, "args"), "jobId")))
        .collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "6"], "each once, in order");
    assert!(logs()
        .iter()
        .all(|l| get(&l, "removed").as_bool() == Some(false)));
    let first = logs().get(0);
    assert_eq!(s(&get(&first, "event")), "JobPosted");
    assert_eq!(s(&get(&get(&first, "args"), "inputCid")), CID);
    assert_eq!(get(&get(&first, "args"), "k").as_f64(), Some(2.0));
    report(&format!(
        "watch: {} failures reported while the wallet was down",
        len(&get(&c, "errors"))
    ));

    // From the same block, over the RPC URL: the same six, back-filled; and a filter on jobId.
    let again = collector();
    let stop_again: Function = m(
        &market,
        "watch",
        &[
            "JobPosted".into(),
            obj(&[("fromBlock", (start as f64).into())]),
            get(&again, "handler"),
        ],
    )
    .into();
    let third = collector();
    let filtered = obj(&[
        ("fromBlock", (start as f64).into()),
        ("args", obj(&[("jobId", wei(3))])),
    ]);
    let stop_third: Function = m(
        &market,
        "watch",
        &["JobPosted".into(), filtered, get(&third, "handler")],
    )
    .into();
    until(5_000.0, "the back-fill", || {
        len(&get(&again, "logs")) >= 6 && len(&get(&third, "logs")) >= 1
    })
    .await;
    let hashes = |c: &JsValue| -> Vec<String> {
        Array::from(&get(c, "logs"))
            .iter()
            .map(|l| s(&get(&l, "transactionHash")))
            .collect()
    };
    assert_eq!(hashes(&again), hashes(&c));
    assert_eq!(len(&get(&third, "logs")), 1);

    for f in [&stop, &stop_again, &stop_third] {
        f.call0(&JsValue::NULL).unwrap();
    }
    ok(&market, "postJob", &[job(7, 2, 3)]).await;
    sleep(300.0).await;
    assert_eq!(logs().length(), 6, "nothing after stop()");
    assert_eq!(len(&get(&again, "logs")), 6);
}

/// A reorg (anvil snapshot and revert): a log delivered with one confirmation is reported again
/// with `removed: true` once its block is gone, and the log of the new chain is delivered; a
/// watch asking for three confirmations never saw the reverted log.
pub async fn watch_reports_a_reorg() {
    setup().await;
    let (poster, _) = key_client(&[]).await;
    let (other, _) = key_client(&[]).await;
    let (market, address) = fresh_market(&poster).await;
    let om = open(&other, &address).await;
    let quick = collector();
    let careful = collector();
    let watch = |c: &JsValue, confirmations: u32| -> Function {
        let o = obj(&[
            ("confirmations", confirmations.into()),
            ("pollIntervalMs", 50.into()),
        ]);
        m(
            &market,
            "watch",
            &["JobPosted".into(), o, get(c, "handler")],
        )
        .into()
    };
    let stops = [watch(&quick, 1), watch(&careful, 3)];
    sleep(150.0).await; // both have their start block
    let snapshot = anvil("evm_snapshot", &[]).await;
    let reverted = get(&ok(&market, "postJob", &[job(1, 2, 3)]).await, "txHash");
    until(5_000.0, "the first log", || len(&get(&quick, "logs")) >= 1).await;
    assert_eq!(anvil("evm_revert", &[snapshot]).await.as_bool(), Some(true));
    // The new chain: another transaction, then blocks on top of it.
    let kept = get(&ok(&om, "postJob", &[job(2, 2, 3)]).await, "txHash");
    for _ in 0..3 {
        anvil("evm_mine", &[]).await;
    }
    until(5_000.0, "the removal and the new log", || {
        len(&get(&quick, "logs")) >= 3
    })
    .await;
    until(5_000.0, "the confirmed log", || {
        len(&get(&careful, "logs")) >= 1
    })
    .await;
    sleep(200.0).await;
    let seen: Vec<(String, bool)> = Array::from(&get(&quick, "logs"))
        .iter()
        .map(|l| {
            (
                s(&get(&l, "transactionHash")),
                get(&l, "removed").as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (s(&reverted), false),
            (s(&reverted), true),
            (s(&kept), false)
        ],
        "delivered, removed, then the new chain's log"
    );
    let careful_seen: Vec<String> = Array::from(&get(&careful, "logs"))
        .iter()
        .map(|l| s(&get(&l, "transactionHash")))
        .collect();
    assert_eq!(
        careful_seen,
        [s(&kept)],
        "3 confirmations: the reverted log never delivered"
    );
    for f in stops {
        f.call0(&JsValue::NULL).unwrap();
    }
}

/// EIP-6963: in Chromium, a test wallet announced on the page is found by `Sandrun.wallets()`
/// and runs a whole 2-of-3 lifecycle through its accounts (deploy, register, post, claim,
/// submit, finalize, withdraw); in Node there is no page and no wallet.
pub async fn eip6963_wallet_lifecycle() {
    setup().await;
    let found = wait(Sandrun::wallets(None).into()).await.unwrap();
    if is_node() {
        assert_eq!(len(&found), 0, "no wallets outside a page");
        return;
    }
    assert_eq!(
        len(&found),
        0,
        "no wallet announced yet: {}",
        describe(&found)
    );
    let wallet = create_wallet(rpc_url(), chain_id());
    let provider = get(&wallet, "provider");
    let unannounce = announce_wallet(&provider, "Sandrun test wallet", "dev.sandrun.testwallet");
    let found = wait(Sandrun::wallets(Some(obj(&[("timeoutMs", 50.into())]))).into())
        .await
        .unwrap();
    unannounce.call0(&JsValue::NULL).unwrap();
    assert_eq!(len(&found), 1, "{}", describe(&found));
    let announced = Array::from(&found).get(0);
    assert_eq!(
        s(&get(&get(&announced, "info"), "rdns")),
        "dev.sandrun.testwallet"
    );
    assert_eq!(
        s(&get(&get(&announced, "info"), "name")),
        "Sandrun test wallet"
    );
    let chosen = get(&announced, "provider");
    assert!(
        js_sys::Object::is(&chosen, &provider),
        "the announced provider itself"
    );

    let accounts = Array::from(&anvil("eth_accounts", &[]).await);
    let client = |i: u32| {
        let config = chain_config(&[
            ("provider", chosen.clone()),
            ("account", accounts.get(i)),
            ("chainId", chain_id().into()),
        ]);
        create(config)
    };
    let poster = client(1).await;
    let address = s(&ok(&poster, "deployMarket", &[]).await);
    let market = open(&poster, &address).await;
    let mut nodes = Vec::new();
    for i in 0..3u32 {
        let c = client(2 + i).await;
        let mk = open(&c, &address).await;
        assert_receipt(
            &ok(&mk, "registerNode", &[node(i as u8 + 1)]).await,
            "registerNode",
        );
        nodes.push(mk);
    }
    let id = get(&ok(&market, "postJob", &[job(9, 2, 3)]).await, "jobId");
    for (i, mk) in nodes.iter().enumerate() {
        ok(mk, "claim", &[id.clone()]).await;
        let hash = if i < 2 { 0x33 } else { 0x44 };
        let submission = obj(&[
            ("resultHash", result_hash(hash).into()),
            ("outputCid", CID.into()),
            ("signature", signature(9).into()),
        ]);
        ok(mk, "submitResult", &[id.clone(), submission]).await;
    }
    let settled = ok(&market, "finalize", &[id.clone()]).await;
    assert_eq!(len(&get(&settled, "agreeing")), 2);
    assert_eq!(len(&get(&settled, "dissenting")), 1);
    assert_eq!(big(&get(&settled, "paid")), (2 * PRICE).to_string());
    assert_receipt(&ok(&nodes[0], "withdraw", &[]).await, "withdraw");
    let info = ok(&market, "job", &[id]).await;
    assert_eq!(s(&get(&info, "state")), "finalized");
}
