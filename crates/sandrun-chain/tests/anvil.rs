//! The crate's output accepted by a real chain: transactions signed here with a key anvil does
//! not manage deploy the committed contract, post a job and are mined from the right sender;
//! fees come from anvil's eth_feeHistory; views, logs and a revert from anvil decode; a
//! replacement mined under another hash is classified. (The crate does no I/O: this test's
//! small JSON-RPC client does it.)

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use sandrun_chain::events::{decode_log, MarketEvent};
use sandrun_chain::fees::{
    eip1559_fees, gas_limit_with_buffer, legacy_gas_price, FeeHistory, FeePolicy,
};
use sandrun_chain::market::{self, JobState, PostJob};
use sandrun_chain::replacement::{classify, Replacement, TxFields};
use sandrun_chain::revert::decode_revert;
use sandrun_chain::tx::{Eip1559Tx, LegacyTx, LocalSigner, SignedTx, TxRequest};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Anvil {
    child: Child,
    port: u16,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn anvil_binary() -> String {
    if let Ok(bin) = std::env::var("ANVIL") {
        return bin;
    }
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/node_modules");
    let platform = format!("{root}/@foundry-rs/anvil-linux-amd64/bin/anvil");
    if std::path::Path::new(&platform).exists() {
        return platform;
    }
    let wrapper = format!("{root}/.bin/anvil");
    assert!(
        std::path::Path::new(&wrapper).exists(),
        "anvil not found in tools/ (make setup) nor $ANVIL"
    );
    wrapper
}

fn start_anvil() -> Anvil {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(anvil_binary())
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--chain-id",
            "31337",
            "--silent",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start anvil");
    let anvil = Anvil { child, port };
    let start = Instant::now();
    while try_rpc(port, "eth_chainId", json!([])).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "anvil did not answer"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    anvil
}

/// One JSON-RPC call over HTTP/1.1 (Connection: close). Err: the RPC error object.
fn try_rpc(port: u16, method: &str, params: Value) -> Result<Value, Value> {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| json!(e.to_string()))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| json!(e.to_string()))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| json!(e.to_string()))?;
    let (_, payload) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| json!("no HTTP body"))?;
    let reply: Value = serde_json::from_str(payload).map_err(|e| json!(e.to_string()))?;
    match reply.get("error") {
        Some(error) => Err(error.clone()),
        None => Ok(reply["result"].clone()),
    }
}

impl Anvil {
    fn rpc(&self, method: &str, params: Value) -> Value {
        try_rpc(self.port, method, params).unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    fn quantity(&self, method: &str, params: Value) -> U256 {
        hex_u256(&self.rpc(method, params))
    }

    /// Sends a raw transaction and waits for its receipt (automine mines it at once, but the
    /// receipt can trail the hash by a moment).
    fn send_raw(&self, signed: &SignedTx) -> Value {
        let hash = self.rpc("eth_sendRawTransaction", json!([signed.raw.to_string()]));
        assert_eq!(
            hash.as_str().unwrap(),
            signed.hash.to_string(),
            "the chain's hash is ours"
        );
        let start = Instant::now();
        loop {
            if let Some(receipt) = self.receipt(signed.hash) {
                return receipt;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "not mined in 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn receipt(&self, hash: B256) -> Option<Value> {
        let r = self.rpc("eth_getTransactionReceipt", json!([hash.to_string()]));
        (!r.is_null()).then_some(r)
    }
}

fn hex_u256(v: &Value) -> U256 {
    U256::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn hex_bytes(v: &Value) -> Bytes {
    v.as_str().unwrap().parse().unwrap()
}

fn address(v: &Value) -> Address {
    v.as_str().unwrap().parse().unwrap()
}

/// EIP-1559 fees the way the SDK will get them: eth_feeHistory over the last blocks.
fn fees(anvil: &Anvil) -> (u128, u128) {
    let h = anvil.rpc("eth_feeHistory", json!(["0x4", "latest", [50]]));
    let history = FeeHistory {
        base_fee_per_gas: h["baseFeePerGas"]
            .as_array()
            .unwrap()
            .iter()
            .map(hex_u256)
            .collect(),
        reward: h["reward"]
            .as_array()
            .map(|blocks| {
                blocks
                    .iter()
                    .map(|b| b.as_array().unwrap().iter().map(hex_u256).collect())
                    .collect()
            })
            .unwrap_or_default(),
    };
    let fees = eip1559_fees(&history, &FeePolicy::default()).unwrap();
    (
        fees.max_fee_per_gas.to::<u128>(),
        fees.max_priority_fee_per_gas.to::<u128>(),
    )
}

fn eip1559(
    anvil: &Anvil,
    signer: &LocalSigner,
    to: Option<Address>,
    value: U256,
    input: Bytes,
) -> TxRequest {
    let from = signer.address().to_string();
    let mut call =
        json!({ "from": from, "value": format!("{value:#x}"), "data": input.to_string() });
    if let Some(to) = to {
        call["to"] = json!(to.to_string());
    }
    let estimate = anvil.quantity("eth_estimateGas", json!([call])).to::<u64>();
    let (max_fee, priority) = fees(anvil);
    TxRequest::Eip1559(Eip1559Tx {
        chain_id: anvil.quantity("eth_chainId", json!([])).to(),
        nonce: anvil
            .quantity("eth_getTransactionCount", json!([from, "pending"]))
            .to(),
        max_priority_fee_per_gas: priority,
        max_fee_per_gas: max_fee,
        gas_limit: gas_limit_with_buffer(estimate, 20),
        to,
        value,
        input,
    })
}

/// A key anvil does not manage (only its signatures can move its funds), given 100 ether.
fn funded_signer(anvil: &Anvil, seed: &str) -> (LocalSigner, Address) {
    let signer = LocalSigner::from_bytes(&keccak256(seed).0).unwrap();
    let me = signer.address();
    anvil.rpc(
        "anvil_setBalance",
        json!([me.to_string(), "0x56bc75e2d63100000"]),
    );
    (signer, me)
}

#[test]
fn rust_signed_transactions_run_the_market_on_anvil() {
    let anvil = start_anvil();
    let (signer, me) = funded_signer(&anvil, "sandrun-chain anvil test key");

    // deploy the committed artifact
    let ether = U256::from(10u64).pow(U256::from(18));
    let code = market::deploy_code(ether / U256::from(10), ether / U256::from(100), 60).unwrap();
    let deploy = signer
        .sign(&eip1559(&anvil, &signer, None, U256::ZERO, code))
        .unwrap();
    let receipt = anvil.send_raw(&deploy);
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(address(&receipt["from"]), me);
    let market_address = address(&receipt["contractAddress"]);
    let call = |data: Bytes| {
        hex_bytes(&anvil.rpc(
            "eth_call",
            json!([{ "to": market_address.to_string(), "data": data.to_string() }, "latest"]),
        ))
    };
    assert_eq!(
        market::decode_uint(&call(market::min_bond())).unwrap(),
        ether / U256::from(10)
    );

    // post a job with calldata and escrow from the crate
    let now = anvil.rpc("eth_getBlockByNumber", json!(["latest", false]))["timestamp"].clone();
    let now = hex_u256(&now).to::<u64>();
    let job = PostJob {
        job_hash: keccak256("a job"),
        input_cid: "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e".into(),
        k: 2,
        n: 3,
        price_per_node: ether / U256::from(100),
        deadline: now + 3600,
    };
    let data = market::post_job(&job, now).unwrap();
    let post = signer
        .sign(&eip1559(
            &anvil,
            &signer,
            Some(market_address),
            job.escrow(),
            data,
        ))
        .unwrap();
    let receipt = anvil.send_raw(&post);
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(address(&receipt["from"]), me);
    let log = &receipt["logs"][0];
    let topics: Vec<B256> = log["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().parse().unwrap())
        .collect();
    let MarketEvent::JobPosted(posted) = decode_log(&topics, &hex_bytes(&log["data"])).unwrap()
    else {
        panic!("not JobPosted");
    };
    assert_eq!(
        (posted.poster, posted.jobHash, posted.k, posted.n),
        (me, job.job_hash, 2, 3)
    );
    assert_eq!(posted.inputCid, job.input_cid);

    // the view, decoded
    let view = market::decode_job(&call(market::get_job(posted.jobId))).unwrap();
    assert_eq!(view.state, JobState::Open);
    assert_eq!(
        (view.poster, view.k, view.n, view.deadline),
        (me, 2, 3, job.deadline)
    );
    assert_eq!(view.price_per_node, job.price_per_node);
    assert!(view.claims.is_empty() && view.agreed_result.is_none());
    let node = market::decode_node(&call(market::get_node(me))).unwrap();
    assert!(!node.registered && node.balance.is_zero());

    // a revert from the chain, decoded: we are no registered node
    let claim = json!([{ "from": me.to_string(), "to": market_address.to_string(), "data": market::claim(posted.jobId).to_string() }, "latest"]);
    let error = try_rpc(anvil.port, "eth_call", claim).unwrap_err();
    let revert = decode_revert(&hex_bytes(&error["data"])).unwrap();
    assert_eq!(
        revert.to_string(),
        format!("NotRegistered({})", me.to_checksum(None))
    );

    // a legacy (EIP-155) transaction from the same key
    let gas_price = legacy_gas_price(anvil.quantity("eth_gasPrice", json!([])), 110, None).unwrap();
    let legacy = signer
        .sign(&TxRequest::Legacy(LegacyTx {
            chain_id: 31337,
            nonce: anvil
                .quantity(
                    "eth_getTransactionCount",
                    json!([me.to_string(), "pending"]),
                )
                .to(),
            gas_price: gas_price.to(),
            gas_limit: 21_000,
            to: Some(Address::repeat_byte(0x42)),
            value: U256::from(12345),
            input: Bytes::new(),
        }))
        .unwrap();
    let receipt = anvil.send_raw(&legacy);
    assert_eq!(
        (receipt["status"].as_str(), address(&receipt["from"])),
        (Some("0x1"), me)
    );
    assert_eq!(receipt["type"], "0x0");
    let balance = anvil.quantity(
        "eth_getBalance",
        json!([Address::repeat_byte(0x42).to_string(), "latest"]),
    );
    assert_eq!(balance, U256::from(12345));
}

#[test]
fn a_replacement_mined_under_another_hash_is_classified() {
    let anvil = start_anvil();
    let (signer, me) = funded_signer(&anvil, "sandrun-chain replacement key");
    anvil.rpc("evm_setAutomine", json!([false]));

    let to = Address::repeat_byte(0x99);
    let TxRequest::Eip1559(original) = eip1559(
        &anvil,
        &signer,
        Some(to),
        U256::from(5),
        Bytes::from_static(b"hi"),
    ) else {
        unreachable!()
    };
    let first = signer.sign(&TxRequest::Eip1559(original.clone())).unwrap();
    anvil.rpc("eth_sendRawTransaction", json!([first.raw.to_string()]));
    // the wallet's cancel: the same nonce, a zero-value self-transfer, fees raised
    let cancel = Eip1559Tx {
        to: Some(me),
        value: U256::ZERO,
        input: Bytes::new(),
        gas_limit: 21_000,
        max_fee_per_gas: original.max_fee_per_gas * 2,
        max_priority_fee_per_gas: original.max_priority_fee_per_gas * 2,
        ..original.clone()
    };
    let second = signer.sign(&TxRequest::Eip1559(cancel)).unwrap();
    anvil.rpc("eth_sendRawTransaction", json!([second.raw.to_string()]));
    anvil.rpc("evm_mine", json!([]));

    assert!(
        anvil.receipt(first.hash).is_none(),
        "the original never mined"
    );
    let mined = anvil.rpc("eth_getTransactionByHash", json!([second.hash.to_string()]));
    assert!(!mined["blockNumber"].is_null());
    let fields = |t: &Value| TxFields {
        from: address(&t["from"]),
        nonce: hex_u256(&t["nonce"]).to(),
        to: t["to"].as_str().map(|a| a.parse().unwrap()),
        value: hex_u256(&t["value"]),
        input: hex_bytes(&t["input"]),
    };
    let original_fields = TxFields {
        from: me,
        nonce: original.nonce,
        to: original.to,
        value: original.value,
        input: original.input,
    };
    assert_eq!(
        classify(&original_fields, &fields(&mined)),
        Some(Replacement::Cancelled)
    );
}
