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

use crate::common::chain::{anvil, chain_id, rpc_url};
use crate::common::{describe, fails, get, now, obj, ok, report, sleep};
use js_sys::{Array, BigInt, Object, Reflect, Uint8Array};
use sandrun_protocol::hash::sha256_hex;
use sandrun_protocol::manifest::Manifest;
use sandrun_protocol::map::SortedMap;
use sandrun_sdk::core::boundary::platform;
use sandrun_sdk::core::verify::{self, Evidence};
use sandrun_sdk::market::format;
use sandrun_sdk::market::operator::agent::MARKET_NODE_EVENTS;
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
                    crate::common::within(stringify!($name), $crate::market_node::$name()).await
                }
            )*
        }
    };
}
pub(crate) use market_node_scenarios;

macro_rules! all_market_node_scenarios {
    ($install:path) => {
        $crate::market_node::market_node_scenarios!($install;
            agents_serve_a_two_of_three_job, restarted_agent_neither_claims_twice_nor_loses_the_result,
            restarted_agent_submits_the_result_it_kept, stack_serves_a_posted_job,
            wrong_job_hash_and_bad_options, capabilities_decide_what_is_claimed,
            announces_each_run_once);
    };
}
pub(crate) use all_market_node_scenarios;

#[wasm_bindgen(module = "/tests/support/wallet.js")]
extern "C" {
    #[wasm_bindgen(js_name = randomKey)]
    fn fresh_key() -> String;
}

const FUNDS: &str = "0x3635c9adc5dea00000"; // 1,000 ether
const PRICE: u64 = 10_000_000_000_000_000; // 0.01 ether
/// The job: deterministic outputs, so honest workers agree.
const CODE: &str = "import os\nos.makedirs('out', exist_ok=True)\nopen('out/result.txt', 'w').write('sum %d\\n' % sum(range(10)))\nopen('out/data.json', 'w').write('{\"n\": 10}')\nprint('ok')\n";

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

impl Agent {
    /// An agent (not started) on `worker` for `market`, with the given client or a new funded one.
    async fn new(
        worker: &str,
        market: &str,
        client: Option<(JsValue, String)>,
        faulty: bool,
    ) -> Agent {
        Agent::with_store(worker, market, client, faulty, JsValue::UNDEFINED).await
    }

    async fn with_store(
        worker: &str,
        market: &str,
        client: Option<(JsValue, String)>,
        faulty: bool,
        store: JsValue,
    ) -> Agent {
        let options = [("faulty", faulty.into()), ("store", store)];
        Agent::with_options(worker, market, client, &options).await
    }

    /// An agent with `capabilities` (`market({ capabilities })`) and a new funded client.
    async fn with_capabilities(worker: &str, market: &str, capabilities: JsValue) -> Agent {
        Agent::with_options(worker, market, None, &[("capabilities", capabilities)]).await
    }

    /// An agent with `options` on top of the market, bond, price and poll interval.
    async fn with_options(
        worker: &str,
        market: &str,
        client: Option<(JsValue, String)>,
        options: &[(&str, JsValue)],
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
        let mut all = vec![
            ("market", market.into()),
            ("bond", "0.1 ether".into()),
            ("price", "0.01 ether".into()),
            ("pollIntervalMs", 100.into()),
        ];
        all.extend(options.iter().cloned());
        let node = crate::common::m(&builder, "market", &[obj(&all)]);
        let seen: Seen = Rc::default();
        let mut listeners = Vec::new();
        for event in MARKET_NODE_EVENTS {
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
    let manifest = Manifest {
        entrypoint: "main.py".into(),
        outputs: vec!["out/*".into()],
        ..Default::default()
    };
    job_on_ipfs_with(sandrun, code, manifest).await
}

/// `job_on_ipfs` with a manifest of the test's own (its entrypoint holds `code`).
async fn job_on_ipfs_with(sandrun: &JsValue, code: &str, manifest: Manifest) -> (String, String) {
    let mut files = SortedMap::new();
    files.insert(manifest.entrypoint.clone(), code.as_bytes().to_vec());
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

    let settled = ok(&market, "finalize", std::slice::from_ref(&job_id)).await;
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
    let job = ok(&market, "job", std::slice::from_ref(&job_id)).await;
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
    ok(&own, "claim", std::slice::from_ref(&job_id)).await;

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
    let job = ok(&market, "job", std::slice::from_ref(&job_id)).await;
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

/// A `localStorage`-like store in memory (the closures live as long as the store is used).
struct MemoryStore {
    object: JsValue,
    items: Rc<RefCell<Vec<(String, String)>>>,
    _get: Closure<dyn FnMut(String) -> JsValue>,
    _set: Closure<dyn FnMut(String, String)>,
}

impl MemoryStore {
    fn new() -> MemoryStore {
        let items: Rc<RefCell<Vec<(String, String)>>> = Rc::default();
        let i = items.clone();
        let get = Closure::<dyn FnMut(String) -> JsValue>::new(move |k: String| {
            i.borrow()
                .iter()
                .find(|(key, _)| *key == k)
                .map_or(JsValue::NULL, |(_, v)| v.as_str().into())
        });
        let i = items.clone();
        let set = Closure::<dyn FnMut(String, String)>::new(move |k: String, v: String| {
            let mut all = i.borrow_mut();
            all.retain(|(key, _)| *key != k);
            all.push((k, v));
        });
        let object = obj(&[
            ("getItem", get.as_ref().clone()),
            ("setItem", set.as_ref().clone()),
        ]);
        MemoryStore {
            object,
            items,
            _get: get,
            _set: set,
        }
    }
}

/// An agent that published its result and could not submit it (its account ran dry after the
/// claim: INSUFFICIENT_FUNDS, nothing sent) kept the result in its store; a new agent on that key
/// and store submits that same result (same output CID, `restored`) without claiming again or
/// running the job.
pub async fn restarted_agent_submits_the_result_it_kept() {
    let (poster, market, address) = poster().await;
    let worker = &workers()[1];
    let client = funded(worker, Some(&address)).await;
    let store = MemoryStore::new();
    let first = Agent::with_store(
        worker,
        &address,
        Some(client.clone()),
        false,
        store.object.clone(),
    )
    .await;
    first.start().await;
    // The job sleeps a second, so the account is emptied while it runs.
    let code = format!("import time\ntime.sleep(1)\n{CODE}");
    let (cid, job_hash) = job_on_ipfs(&poster, &code).await;
    let from = head().await;
    let (job_id, _) = post(&market, &cid, &job_hash, 1, 1).await;
    first.until("job-claimed", 1, 30_000.0).await;
    anvil(
        "anvil_setBalance",
        &[client.1.as_str().into(), "0x0".into()],
    )
    .await;
    // The run's announcement (sent as the worker took the job) may fail for the same reason:
    // an error that must not stop the run. The result's failure comes after the run.
    first.until("job-completed", 1, 60_000.0).await;
    let start = now();
    loop {
        let failed_after_run = {
            let seen = first.seen.borrow();
            let ran = seen.iter().position(|(n, _)| n == "job-completed").unwrap();
            seen[ran..].iter().any(|(n, _)| n == "error")
        };
        if failed_after_run {
            break;
        }
        assert!(now() - start < 60_000.0, "no error after the run");
        sleep(50.0).await;
    }
    for e in first.events("error") {
        assert_eq!(
            s(&get(&e, "code")),
            "INSUFFICIENT_FUNDS",
            "{}",
            describe(&e)
        );
    }
    assert!(first.events("result-submitted").is_empty());
    let published = s(&get(&first.events("job-completed")[0], "outputCid"));
    assert_eq!(
        store.items.borrow().len(),
        1,
        "the published result is kept"
    );
    first.stop();

    anvil(
        "anvil_setBalance",
        &[client.1.as_str().into(), FUNDS.into()],
    )
    .await;
    let again =
        Agent::with_store(worker, &address, Some(client), false, store.object.clone()).await;
    again.start().await;
    again.until("result-submitted", 1, 60_000.0).await;
    assert!(again.events("job-claimed").is_empty(), "claimed twice");
    let completed = &again.events("job-completed")[0];
    assert_eq!(
        get(completed, "restored").as_bool(),
        Some(true),
        "{}",
        describe(completed)
    );
    assert_eq!(s(&get(completed, "outputCid")), published);
    assert!(again.errors().is_empty(), "{:?}", again.errors());
    let logs = results_on_chain(&market, &job_id, from, 1).await;
    assert_eq!(s(&get(&get(&logs[0], "args"), "outputCid")), published);
    check_valid(&poster, &market, &job_hash, &logs[0])
        .await
        .unwrap();
    again.stop();
}

/// The stack of scripts/test-wasm.d/40-market.sh (`make stack`: three agent processes on the
/// packed SDK, the third faulty): a 2-of-3 job posted from one of its spare accounts gets three
/// results; two are valid and agree, the faulty agent's is not; finalize pays the two.
pub async fn stack_serves_a_posted_job() {
    let Some(text) = option_env!("SANDRUN_TEST_STACK_JSON") else {
        report("market node: no stack (SANDRUN_TEST_STACK_JSON unset: make pkg before the suites); skipped");
        return;
    };
    let stack = js_sys::JSON::parse(text).unwrap();
    let account = Array::from(&get(&stack, "accounts")).get(0);
    let market_address = s(&get(&stack, "market"));
    let poster = crate::common::create(obj(&[
        (
            "chain",
            obj(&[
                ("rpcUrl", get(&stack, "rpcUrl")),
                ("privateKey", get(&account, "privateKey")),
                ("chainId", get(&stack, "chainId")),
                ("pollIntervalMs", 100.into()),
            ]),
        ),
        ("ipfs", obj(&[("api", get(&stack, "ipfsApi"))])),
    ]))
    .await
    .unwrap_or_else(|e| panic!("Sandrun.create: {}", describe(&e)));
    let market = ok(&poster, "market", &[market_address.as_str().into()]).await;
    let agents: Vec<JsValue> = Array::from(&get(&stack, "agents")).iter().collect();
    let faulty: Vec<String> = agents
        .iter()
        .filter(|a| get(a, "faulty").as_bool() == Some(true))
        .map(|a| s(&get(a, "address")))
        .collect();
    assert_eq!((agents.len(), faulty.len()), (3, 1), "{}", describe(&stack));

    let (cid, job_hash) = job_on_ipfs(&poster, CODE).await;
    let (job_id, posted_at) = post(&market, &cid, &job_hash, 2, 3).await;
    let logs = results_on_chain(&market, &job_id, 0.0, 3).await;
    report(&format!(
        "market node: the stack's three agents submitted within {} ms of JobPosted",
        (now() - posted_at).round()
    ));
    let mut valid = Vec::new();
    for log in &logs {
        let node = s(&get(&get(log, "args"), "node"));
        match check_valid(&poster, &market, &job_hash, log).await {
            Ok(h) => valid.push(h),
            Err(why) => assert!(
                faulty.contains(&node),
                "{node} is not the faulty agent: {why}"
            ),
        }
    }
    assert_eq!(valid.len(), 2);
    assert_eq!(valid[0], valid[1]);
    let settled = ok(&market, "finalize", std::slice::from_ref(&job_id)).await;
    let dissenting: Vec<String> = Array::from(&get(&settled, "dissenting"))
        .iter()
        .map(|a| s(&a))
        .collect();
    assert_eq!(dissenting, faulty);
}

/// Capabilities are matched against the job's manifest.json before a claim. A python3 job: the
/// agent whose interpreters exclude it skips it (`job-skipped`, with the reason) and never claims
/// (no JobClaimed of its own on chain) while the python3 agent claims and submits. A job naming
/// an environment: the python3 agent, whose config names no environments, asks its worker's
/// `GET /environments` (the dev node has no templates) and skips it. Bad capabilities are a
/// ValidationError from start().
pub async fn capabilities_decide_what_is_claimed() {
    let (poster, market, address) = poster().await;
    let w = workers();
    let node_only = Agent::with_capabilities(
        &w[0],
        &address,
        obj(&[("interpreters", Array::of1(&"node".into()).into())]),
    )
    .await;
    let python = Agent::with_capabilities(
        &w[1],
        &address,
        obj(&[
            (
                "interpreters",
                Array::of2(&"python3".into(), &"bash".into()).into(),
            ),
            ("maxMemoryMb", 2048.into()),
        ]),
    )
    .await;
    node_only.start().await;
    python.start().await;

    let (cid, job_hash) = job_on_ipfs(&poster, CODE).await;
    // 2-of-2: a place stays open for the other agent, so what keeps it out is its capabilities.
    let (job_id, _) = post(&market, &cid, &job_hash, 2, 2).await;
    python.until("result-submitted", 1, 60_000.0).await;
    node_only.until("job-skipped", 1, 60_000.0).await;
    let skipped = &node_only.events("job-skipped")[0];
    assert_eq!(big(&get(skipped, "jobId")), big(&job_id));
    let reason = s(&get(skipped, "reason"));
    assert!(reason.contains("interpreter python3"), "{reason}");
    assert!(node_only.events("job-claimed").is_empty());
    let job = ok(&market, "job", std::slice::from_ref(&job_id)).await;
    let claimants: Vec<String> = Array::from(&get(&job, "claims"))
        .iter()
        .map(|a| s(&a))
        .collect();
    assert_eq!(
        claimants,
        vec![python.address.clone()],
        "only the python3 agent claimed"
    );

    let env_job = Manifest {
        entrypoint: "main.py".into(),
        environment: Some("cuda-12".into()),
        outputs: vec!["out/*".into()],
        ..Default::default()
    };
    let (cid, job_hash) = job_on_ipfs_with(&poster, CODE, env_job).await;
    let (env_id, _) = post(&market, &cid, &job_hash, 2, 2).await;
    python.until("job-skipped", 1, 60_000.0).await;
    let skipped = &python.events("job-skipped")[0];
    assert_eq!(big(&get(skipped, "jobId")), big(&env_id));
    let reason = s(&get(skipped, "reason"));
    assert!(reason.contains("environment cuda-12"), "{reason}");
    node_only.until("job-skipped", 2, 60_000.0).await;
    assert_eq!(python.events("job-claimed").len(), 1, "the first job only");
    assert!(python.errors().is_empty() && node_only.errors().is_empty());
    let job = ok(&market, "job", std::slice::from_ref(&env_id)).await;
    assert_eq!(s(&get(&job, "state")), "open", "nobody claimed it");
    report(&format!(
        "market node capabilities: skipped with \"{reason}\""
    ));
    node_only.stop();
    python.stop();

    let cases = [
        (obj(&[("interpreters", "python3".into())]), "interpreters"),
        (obj(&[("maxMemoryMb", (-1).into())]), "maxMemoryMb"),
    ];
    for (capabilities, field) in cases {
        let bad = crate::common::m(
            &crate::common::m(
                &crate::common::m(&python.sandrun, "node", &[]),
                "endpoint",
                &[w[1].as_str().into()],
            ),
            "market",
            &[obj(&[
                ("market", address.as_str().into()),
                ("bond", "0.1 ether".into()),
                ("price", "0.01 ether".into()),
                ("capabilities", capabilities),
            ])],
        );
        let e = fails(&bad, "start", &[]).await;
        assert_eq!(s(&get(&e, "code")), "VALIDATION", "{}", describe(&e));
        let fields = describe(&get(&e, "errors"));
        assert!(fields.contains(field), "{field} in {fields}");
    }
}

/// The runs announced on chain for `job_id` (`JobRunning` logs): (node, run).
async fn runs_on_chain(market: &str, job_id: &JsValue) -> Vec<(String, String)> {
    let topic = sandrun_chain::events::topic0("JobRunning").unwrap();
    let id = format!("0x{:064x}", big(job_id));
    let filter = obj(&[
        ("address", market.into()),
        ("fromBlock", "0x0".into()),
        (
            "topics",
            Array::of2(&topic.to_string().into(), &id.into()).into(),
        ),
    ]);
    let mut runs = Vec::new();
    for log in Array::from(&anvil("eth_getLogs", &[filter]).await).iter() {
        let topics = Array::from(&get(&log, "topics"));
        let data = sandrun_chain::input::hex_bytes("data", &s(&get(&log, "data"))).unwrap();
        let t: Vec<_> = topics
            .iter()
            .map(|t| sandrun_chain::input::bytes32("topic", &s(&t)).unwrap())
            .collect();
        match sandrun_chain::events::decode_log(&t, &data).unwrap() {
            sandrun_chain::events::MarketEvent::JobRunning(r) => {
                runs.push((r.node.to_checksum(None), r.run))
            }
            other => panic!("not a JobRunning log: {other:?}"),
        }
    }
    runs
}

/// An agent announces its worker's run once the worker accepted the job (`job-running`, the
/// `JobRunning` log naming the run its `job-completed` reports); a restarted agent that finds
/// its announcement on chain runs the job without a second one; `announce: false` sends none.
/// Prints the gas of `started`.
pub async fn announces_each_run_once() {
    let (poster, market, address) = poster().await;
    let worker = &workers()[2];
    let client = funded(worker, Some(&address)).await;

    let first = Agent::new(worker, &address, Some(client.clone()), false).await;
    first.start().await;
    let (cid, job_hash) = job_on_ipfs(&poster, CODE).await;
    let (job_a, _) = post(&market, &cid, &job_hash, 1, 1).await;
    first.until("result-submitted", 1, 60_000.0).await;
    first.until("job-running", 1, 10_000.0).await;
    first.stop();
    assert!(first.errors().is_empty(), "{:?}", first.errors());
    let running = &first.events("job-running")[0];
    let run = s(&get(&first.events("job-completed")[0], "workerJobId"));
    assert_eq!(s(&get(running, "workerJobId")), run);
    assert_eq!(
        get(running, "announced").as_bool(),
        Some(true),
        "{}",
        describe(running)
    );
    assert_eq!(
        runs_on_chain(&address, &job_a).await,
        [(first.address.clone(), run)]
    );

    // A node that claimed and announced, then died: the agent started again runs the job and
    // submits, and announces nothing more.
    let (cid, job_hash) = job_on_ipfs(&poster, &CODE.replace("ok", "ok again")).await;
    let (job_b, _) = post(&market, &cid, &job_hash, 1, 1).await;
    let own = ok(&client.0, "market", &[address.as_str().into()]).await;
    ok(&own, "claim", std::slice::from_ref(&job_b)).await;
    ok(
        &own,
        "started",
        &[job_b.clone(), "job_before_the_restart".into()],
    )
    .await;
    let again = Agent::new(worker, &address, Some(client.clone()), false).await;
    again.start().await;
    again.until("result-submitted", 1, 60_000.0).await;
    again.until("job-running", 1, 10_000.0).await;
    again.stop();
    assert!(again.errors().is_empty(), "{:?}", again.errors());
    let running = &again.events("job-running")[0];
    assert_eq!(
        get(running, "announced").as_bool(),
        Some(false),
        "{}",
        describe(running)
    );
    assert_eq!(
        runs_on_chain(&address, &job_b).await,
        [(again.address.clone(), "job_before_the_restart".to_string())]
    );

    let quiet_options = [("announce", false.into())];
    let quiet = Agent::with_options(worker, &address, None, &quiet_options).await;
    quiet.start().await;
    let (cid, job_hash) = job_on_ipfs(&poster, &CODE.replace("ok", "quiet")).await;
    let (job_c, _) = post(&market, &cid, &job_hash, 1, 1).await;
    quiet.until("result-submitted", 1, 60_000.0).await;
    quiet.until("job-running", 1, 10_000.0).await;
    quiet.stop();
    assert!(quiet.errors().is_empty(), "{:?}", quiet.errors());
    assert!(runs_on_chain(&address, &job_c).await.is_empty());
    report(&format!(
        "market node gas: started {}",
        gas(&first.events("job-running")[0])
    ));
}
