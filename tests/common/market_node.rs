//! Market node agent scenarios (issue 11, `src/market/operator`), in Node and headless Chromium.
//! The agents run in the test's own SDK (`sandrun.node().endpoint(worker).market({ … })`), against
//! the real anvil of scripts/test-wasm.d/20-chain.sh, the Kubo of 30-ipfs.sh and the signing
//! dev-node workers of scripts/test-wasm.sh. Jobs are posted with the chain and IPFS layers
//! directly (format v1, `market::format`), and every submitted result is checked from here the
//! way a submitter must (job hash, signature under the on-chain worker key and equal to the
//! on-chain bytes, result hash, outputs). Each scenario deploys its own market and funds fresh
//! keys, so scenarios and runs do not depend on each other.
//! Registered with one line in tests/node.rs and tests/browser.rs (`#[path]`: the shared
//! tests/common/mod.rs is not this part's).
#![allow(dead_code)]

use crate::common::{describe, fails, get, now, obj, ok, report, sleep};
use js_sys::{Array, BigInt, Object, Reflect, Uint8Array};
use sandrun_protocol::hash::sha256_hex;
use sandrun_protocol::manifest::Manifest;
use sandrun_protocol::map::SortedMap;
use sandrun_sdk::core::boundary::platform;
use sandrun_sdk::core::verify::{self, Evidence};
use sandrun_sdk::market::format;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

macro_rules! market_node_scenarios {
    ($install:path; $($name:ident),* $(,)?) => {
        mod market_node_scenarios {
            $(
                #[wasm_bindgen_test::wasm_bindgen_test]
                async fn $name() {
                    $install();
                    crate::market_node::$name().await
                }
            )*
        }
    };
}
pub(crate) use market_node_scenarios;

macro_rules! all_market_node_scenarios {
    ($install:path) => {
        crate::market_node::market_node_scenarios!($install;
            agents_serve_a_two_of_three_job, restarted_agent_neither_claims_twice_nor_loses_the_result,
            wrong_job_hash_and_bad_options);
    };
}
pub(crate) use all_market_node_scenarios;

#[wasm_bindgen(module = "/tests/support/wallet.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = rpc)]
    async fn anvil_rpc(url: &str, method: &str, params: JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = randomKey)]
    fn fresh_key() -> String;
}

const FUNDS: &str = "0x3635c9adc5dea00000"; // 1,000 ether
const PRICE: u64 = 10_000_000_000_000_000; // 0.01 ether
/// The job: deterministic outputs, so honest workers agree.
const CODE: &str = "import os\nos.makedirs('out', exist_ok=True)\nopen('out/result.txt', 'w').write('sum %d\\n' % sum(range(10)))\nopen('out/data.json', 'w').write('{\"n\": 10}')\nprint('ok')\n";

fn rpc_url() -> &'static str {
    option_env!("SANDRUN_TEST_RPC").unwrap_or("http://127.0.0.1:18463")
}

fn chain_id() -> f64 {
    option_env!("SANDRUN_TEST_CHAIN_ID")
        .unwrap_or("31337")
        .parse()
        .unwrap()
}

fn ipfs_api() -> &'static str {
    option_env!("SANDRUN_TEST_IPFS_API").unwrap_or("http://127.0.0.1:18473")
}

/// Three signing workers, each with its own key: the main test node and pool workers a and b
/// (pool worker c alters outputs itself; the faulty agent here does it on the node side).
fn workers() -> [String; 3] {
    let pool = option_env!("SANDRUN_TEST_POOL_WORKERS")
        .unwrap_or("http://127.0.0.1:18450,http://127.0.0.1:18451,http://127.0.0.1:18452");
    let mut p = pool.split(',');
    [
        option_env!("SANDRUN_TEST_ENDPOINT")
            .unwrap_or("http://127.0.0.1:18443")
            .to_string(),
        p.next().unwrap().to_string(),
        p.next().unwrap().to_string(),
    ]
}

async fn anvil(method: &str, params: &[JsValue]) -> JsValue {
    let p: Array = params.iter().collect();
    anvil_rpc(rpc_url(), method, p.into())
        .await
        .unwrap_or_else(|e| panic!("{method}: {}", describe(&e)))
}

fn s(v: &JsValue) -> String {
    v.as_string()
        .unwrap_or_else(|| panic!("expected a string, got {}", describe(v)))
}

fn big(v: &JsValue) -> u128 {
    assert!(v.is_bigint(), "expected a bigint, got {}", describe(v));
    let text = BigInt::from(v.clone()).to_string(10).unwrap();
    text.as_string().unwrap().parse().unwrap()
}

fn gas(event: &JsValue) -> u128 {
    big(&get(&get(event, "receipt"), "gasUsed"))
}

/// A client on `worker` signing with a fresh funded key, with IPFS; its address.
async fn funded(worker: &str, market: Option<&str>) -> (JsValue, String) {
    let sandrun = crate::common::create(obj(&[
        ("endpoint", worker.into()),
        (
            "chain",
            obj(&[
                ("rpcUrl", rpc_url().into()),
                ("privateKey", fresh_key().into()),
                ("chainId", chain_id().into()),
                ("pollIntervalMs", 100.into()),
            ]),
        ),
        ("ipfs", obj(&[("api", ipfs_api().into())])),
    ]))
    .await
    .unwrap_or_else(|e| panic!("Sandrun.create: {}", describe(&e)));
    let shared = option_env!("SANDRUN_TEST_MARKET")
        .unwrap_or("0x5FbDB2315678afecb367f032d93F642f64180aa3")
        .to_string();
    let m = ok(
        &sandrun,
        "market",
        &[market.map_or(shared, String::from).into()],
    )
    .await;
    let address = s(&ok(&m, "account", &[]).await);
    anvil("anvil_setBalance", &[address.as_str().into(), FUNDS.into()]).await;
    (sandrun, address)
}

/// A poster with a market of its own (deployed by it).
async fn poster() -> (JsValue, JsValue, String) {
    let (sandrun, _) = funded(&workers()[0], None).await;
    let address = s(&ok(&sandrun, "deployMarket", &[]).await);
    let market = ok(&sandrun, "market", &[address.as_str().into()]).await;
    (sandrun, market, address)
}

/// What an agent told its listeners, in order.
type Seen = Rc<RefCell<Vec<(String, JsValue)>>>;

struct Agent {
    node: JsValue,
    sandrun: JsValue,
    address: String,
    seen: Seen,
    _listeners: Vec<Closure<dyn FnMut(JsValue)>>,
}

const EVENTS: &[&str] = &[
    "registered",
    "job-seen",
    "job-claimed",
    "job-completed",
    "result-submitted",
    "error",
];

impl Agent {
    /// An agent (not started) on `worker` for `market`, with the given client or a new funded one.
    async fn new(
        worker: &str,
        market: &str,
        client: Option<(JsValue, String)>,
        faulty: bool,
    ) -> Agent {
        let (sandrun, address) = match client {
            Some(c) => c,
            None => funded(worker, Some(market)).await,
        };
        let builder = crate::common::m(
            &crate::common::m(&sandrun, "node", &[]),
            "endpoint",
            &[worker.into()],
        );
        let node = crate::common::m(
            &builder,
            "market",
            &[obj(&[
                ("market", market.into()),
                ("bond", "0.1 ether".into()),
                ("price", "0.01 ether".into()),
                ("faulty", faulty.into()),
                ("pollIntervalMs", 100.into()),
            ])],
        );
        let seen: Seen = Rc::default();
        let mut listeners = Vec::new();
        for event in EVENTS {
            let (seen, name) = (seen.clone(), event.to_string());
            let f = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                seen.borrow_mut().push((name.clone(), e));
            });
            crate::common::m(&node, "on", &[(*event).into(), f.as_ref().clone()]);
            listeners.push(f);
        }
        Agent {
            node,
            sandrun,
            address,
            seen,
            _listeners: listeners,
        }
    }

    fn events(&self, name: &str) -> Vec<JsValue> {
        self.seen
            .borrow()
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, e)| e.clone())
            .collect()
    }

    fn errors(&self) -> Vec<String> {
        self.events("error")
            .iter()
            .map(|e| describe(&get(e, "message")))
            .collect()
    }

    async fn start(&self) {
        ok(&self.node, "start", &[]).await;
    }

    fn stop(&self) {
        crate::common::m(&self.node, "stop", &[]);
    }

    /// Waits until `name` was told `count` times (panics after `ms`, with what was told).
    async fn until(&self, name: &str, count: usize, ms: f64) {
        let start = now();
        while self.events(name).len() < count {
            if now() - start > ms {
                let told: Vec<String> = self
                    .seen
                    .borrow()
                    .iter()
                    .map(|(n, e)| format!("{n} {}", describe(e)))
                    .collect();
                panic!(
                    "{} told no {count}× {name} in {ms} ms: {told:#?}",
                    self.address
                );
            }
            sleep(50.0).await;
        }
    }
}

/// A job in format v1: its directory added to Kubo, its job hash; (inputCid, jobHash hex).
async fn job_on_ipfs(sandrun: &JsValue, code: &str) -> (String, String) {
    let mut files = SortedMap::new();
    files.insert("main.py".to_string(), code.as_bytes().to_vec());
    let manifest = Manifest {
        entrypoint: "main.py".into(),
        outputs: vec!["out/*".into()],
        ..Default::default()
    };
    let pkg = sandrun_sdk::core::package::package(&files, &manifest);
    let job_hash = sha256_hex(&pkg.hash_input);
    let archive = platform::gzip(&pkg.tar).await.expect("gzip");
    let tree = Object::new();
    for (path, bytes) in format::input_entries(&archive, &pkg.manifest_json).iter() {
        Reflect::set(&tree, &path.into(), &Uint8Array::from(&bytes[..])).unwrap();
    }
    let ipfs = crate::common::m(sandrun, "ipfs", &[]);
    let added = ok(
        &ipfs,
        "addDirectory",
        &[tree.into(), obj(&[("cidVersion", 1.into())])],
    )
    .await;
    (s(&get(&added, "cid")), job_hash)
}

/// Posts a k-of-n job at 0.01 ether a node, a deadline 10 minutes away; its id (bigint) and
/// when the post was mined (ms).
async fn post(market: &JsValue, cid: &str, job_hash: &str, k: u32, n: u32) -> (JsValue, f64) {
    let deadline = (js_sys::Date::now() / 1000.0).floor() + 600.0;
    let posted = ok(
        market,
        "postJob",
        &[obj(&[
            ("jobHash", format!("0x{job_hash}").into()),
            ("inputCid", cid.into()),
            ("k", k.into()),
            ("n", n.into()),
            ("pricePerNode", BigInt::from(PRICE).into()),
            ("deadline", deadline.into()),
        ])],
    )
    .await;
    (get(&posted, "jobId"), now())
}

async fn head() -> f64 {
    let h = s(&anvil("eth_blockNumber", &[]).await);
    u64::from_str_radix(h.trim_start_matches("0x"), 16).unwrap() as f64
}

/// Every `ResultSubmitted` of `job_id` from `from_block` on, read through the chain layer's watch.
async fn results_on_chain(
    market: &JsValue,
    job_id: &JsValue,
    from_block: f64,
    count: usize,
) -> Vec<JsValue> {
    let logs: Rc<RefCell<Vec<JsValue>>> = Rc::default();
    let l2 = logs.clone();
    let f = Closure::<dyn FnMut(JsValue)>::new(move |log: JsValue| l2.borrow_mut().push(log));
    let stop = crate::common::m(
        market,
        "watch",
        &[
            "ResultSubmitted".into(),
            obj(&[
                ("fromBlock", from_block.into()),
                ("args", obj(&[("jobId", job_id.clone())])),
            ]),
            f.as_ref().clone(),
        ],
    );
    let start = now();
    while logs.borrow().len() < count && now() - start < 30_000.0 {
        sleep(100.0).await;
    }
    js_sys::Function::from(stop).call0(&JsValue::NULL).unwrap();
    let out = logs.borrow().clone();
    assert_eq!(
        out.len(),
        count,
        "ResultSubmitted logs of job {}",
        describe(job_id)
    );
    out
}

/// The submitter's VALID rule for one `ResultSubmitted`, checked from outside the agent:
/// Ok(resultHash) when valid, Err(why) when not.
async fn check_valid(
    reader: &JsValue,
    market: &JsValue,
    job_hash: &str,
    log: &JsValue,
) -> Result<String, String> {
    let args = get(log, "args");
    let node = ok(market, "node", &[get(&args, "node")]).await;
    let on_chain_key = s(&get(&node, "workerKey"));
    let on_chain_sig = sandrun_protocol::b64::decode(&s(&get(&args, "signature"))).unwrap();
    let on_chain_hash = s(&get(&args, "resultHash"));
    let ipfs = crate::common::m(reader, "ipfs", &[]);
    let dir = ok(&ipfs, "getDirectory", &[get(&args, "outputCid")]).await;
    let mut files = SortedMap::new();
    let listed = get(&dir, "files");
    for key in Object::keys(listed.unchecked_ref::<Object>()).iter() {
        let k = s(&key);
        files.insert(k.clone(), Uint8Array::from(get(&listed, &k)).to_vec());
    }
    let (status, _, outputs) = format::read_result(&files, |t| {
        sandrun_sdk::core::actions::status::read(
            &js_sys::JSON::parse(t).map_err(|e| describe(&e))?,
            false,
        )
    })
    .map_err(|e| e.0)?;
    if status.job_hash != job_hash {
        return Err(format!("job hash {} is not {job_hash}", status.job_hash));
    }
    let signed_by = status
        .worker_metadata
        .as_ref()
        .and_then(|w| w.worker_id.clone());
    if signed_by.as_deref() != Some(on_chain_key.as_str()) {
        return Err(format!(
            "signed by {signed_by:?}, the node registered {on_chain_key}"
        ));
    }
    if format::signature(&status).map_err(|e| e.0)? != on_chain_sig {
        return Err("the status's signature is not the one on chain".into());
    }
    let evidence = Evidence {
        job_id: &status.job_id,
        status: &status,
        expected_hash: Some(job_hash),
        trusted_workers: &[],
        cpu_pins: Vec::new(),
        checked: &SortedMap::new(),
        unreadable: Vec::new(),
    };
    let report = verify::verify(&evidence, verify::port())
        .await
        .map_err(|e| e.message)?;
    if !report.signature.valid {
        return Err(format!(
            "the signature does not verify: {:?}",
            report.problems
        ));
    }
    let recomputed = format!("{}", format::result_hash(&status));
    if recomputed != on_chain_hash {
        return Err(format!(
            "resultHash {on_chain_hash} on chain, {recomputed} from the status"
        ));
    }
    format::check_outputs(&status, &outputs).map_err(|e| e.0)?;
    Ok(on_chain_hash)
}

/// Three agents (the third faulty) register, claim a posted 2-of-3 job, run it on their own
/// workers and submit; the honest results satisfy the VALID rule and agree, the faulty one's
/// result hash differs and fails it; finalize pays the two, and an agent withdraws its pay.
/// Prints the gas of each node transaction and the time from JobPosted to ResultSubmitted.
pub async fn agents_serve_a_two_of_three_job() {
    let (poster, market, address) = poster().await;
    let w = workers();
    let mut agents = Vec::new();
    for (i, worker) in w.iter().enumerate() {
        agents.push(Agent::new(worker, &address, None, i == 2).await);
    }
    for a in &agents {
        a.start().await;
        let r = &a.events("registered")[0];
        assert_eq!(s(&get(r, "action")), "registered", "{}", describe(r));
    }
    let on_chain = ok(&market, "node", &[agents[0].address.as_str().into()]).await;
    assert_eq!(get(&on_chain, "registered").as_bool(), Some(true));
    assert_eq!(s(&get(&on_chain, "endpoint")), w[0]);

    let (cid, job_hash) = job_on_ipfs(&poster, CODE).await;
    let from = head().await;
    let (job_id, posted_at) = post(&market, &cid, &job_hash, 2, 3).await;
    let mut times = Vec::new();
    for a in &agents {
        a.until("result-submitted", 1, 60_000.0).await;
        times.push(now() - posted_at);
        assert!(a.errors().is_empty(), "{}: {:?}", a.address, a.errors());
        assert_eq!(a.events("job-claimed").len(), 1);
    }
    let logs = results_on_chain(&market, &job_id, from, 3).await;
    let mut valid = Vec::new();
    let mut invalid = Vec::new();
    for log in &logs {
        let node = s(&get(&get(log, "args"), "node"));
        match check_valid(&poster, &market, &job_hash, log).await {
            Ok(h) => valid.push((node, h)),
            Err(why) => invalid.push((node, why)),
        }
    }
    assert_eq!(valid.len(), 2, "valid: {valid:?}, invalid: {invalid:?}");
    assert_eq!(valid[0].1, valid[1].1, "honest results agree");
    assert_eq!(invalid.len(), 1);
    assert_eq!(
        invalid[0].0, agents[2].address,
        "the faulty agent's result is the invalid one"
    );
    assert!(invalid[0].1.contains("resultHash"), "{}", invalid[0].1);
    let faulty_hash = s(&get(&agents[2].events("result-submitted")[0], "resultHash"));
    assert_ne!(
        faulty_hash, valid[0].1,
        "the faulty agent's resultHash differs"
    );

    let settled = ok(&market, "finalize", &[job_id.clone()]).await;
    let agreeing: Vec<String> = Array::from(&get(&settled, "agreeing"))
        .iter()
        .map(|a| s(&a))
        .collect();
    assert!(agreeing.contains(&agents[0].address) && agreeing.contains(&agents[1].address));
    let withdrawn = ok(&agents[0].node, "withdraw", &[]).await;
    assert_eq!(
        big(&get(&withdrawn, "amount")),
        u128::from(PRICE),
        "paid pricePerNode"
    );
    let job = ok(&market, "job", &[job_id.clone()]).await;
    assert_eq!(s(&get(&job, "state")), "finalized");

    let a = &agents[0];
    report(&format!(
        "market node gas: registerNode {}, claim {}, submitResult {}, withdraw {}",
        gas(&a.events("registered")[0]),
        gas(&a.events("job-claimed")[0]),
        gas(&a.events("result-submitted")[0]),
        gas(&withdrawn),
    ));
    report(&format!(
        "market node: JobPosted -> ResultSubmitted, ms per agent: {:?}",
        times.iter().map(|t| t.round() as u64).collect::<Vec<_>>()
    ));
    for a in &agents {
        a.stop();
    }
}

/// A node that claimed a job and died before running it (the claim sent with its key by hand):
/// a new agent on that key does not claim again, runs the job and submits; an agent started
/// again after that leaves the job alone (no claim, no result, no error).
pub async fn restarted_agent_neither_claims_twice_nor_loses_the_result() {
    let (poster, market, address) = poster().await;
    let worker = &workers()[1];
    let client = funded(worker, Some(&address)).await;
    let first = Agent::new(worker, &address, Some(client.clone()), false).await;
    first.start().await;
    first.stop();

    let (cid, job_hash) = job_on_ipfs(&poster, CODE).await;
    let from = head().await;
    let (job_id, _) = post(&market, &cid, &job_hash, 1, 1).await;
    let own = ok(&client.0, "market", &[address.as_str().into()]).await;
    ok(&own, "claim", &[job_id.clone()]).await;

    let again = Agent::new(worker, &address, Some(client.clone()), false).await;
    again.start().await;
    assert_eq!(s(&get(&again.events("registered")[0], "action")), "already");
    again.until("result-submitted", 1, 60_000.0).await;
    assert!(again.events("job-claimed").is_empty(), "claimed twice");
    assert!(again.errors().is_empty(), "{:?}", again.errors());
    let logs = results_on_chain(&market, &job_id, from, 1).await;
    check_valid(&poster, &market, &job_hash, &logs[0])
        .await
        .unwrap();
    let job = ok(&market, "job", &[job_id.clone()]).await;
    assert_eq!(Array::from(&get(&job, "claims")).length(), 1);
    again.stop();

    let third = Agent::new(worker, &address, Some(client), false).await;
    third.start().await;
    third.until("job-seen", 1, 30_000.0).await;
    // The decision reads getJob once; give it time, then nothing may have happened.
    sleep(1500.0).await;
    assert!(third.events("job-claimed").is_empty());
    assert!(third.events("result-submitted").is_empty());
    assert!(third.errors().is_empty(), "{:?}", third.errors());
    let status = crate::common::m(&third.node, "status", &[]);
    assert_eq!(Array::from(&get(&status, "running")).length(), 0);
    third.stop();
}

/// A job whose archive is not what its jobHash says: the agent claims and runs it, and since the
/// worker signs another job hash it submits nothing and reports an error naming the job. Bad
/// options are a ValidationError from start(), before anything is sent.
pub async fn wrong_job_hash_and_bad_options() {
    let (poster, market, address) = poster().await;
    let worker = &workers()[0];
    let agent = Agent::new(worker, &address, None, false).await;
    agent.start().await;
    let (cid, _) = job_on_ipfs(&poster, CODE).await;
    let (job_id, _) = post(&market, &cid, &"ab".repeat(32), 1, 1).await;
    agent.until("error", 1, 60_000.0).await;
    let e = &agent.events("error")[0];
    assert_eq!(big(&get(e, "jobId")), big(&job_id));
    assert_eq!(s(&get(e, "code")), "VERIFICATION", "{}", describe(e));
    assert!(agent.events("result-submitted").is_empty());
    agent.stop();

    let bad = crate::common::m(
        &crate::common::m(
            &crate::common::m(&agent.sandrun, "node", &[]),
            "endpoint",
            &[worker.as_str().into()],
        ),
        "market",
        &[obj(&[("market", "0x1234".into()), ("bond", 5.into())])],
    );
    let e = fails(&bad, "start", &[]).await;
    assert_eq!(s(&get(&e, "code")), "VALIDATION");
    let fields: Vec<String> = Array::from(&get(&e, "errors"))
        .iter()
        .map(|p| s(&get(&p, "field")))
        .collect();
    for f in ["market", "bond", "price"] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
}
