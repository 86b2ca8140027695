//! The crate against vectors made by an independent implementation (viem) and by the real
//! contract on anvil: tests/vectors/generate.mjs wrote them.

use alloy_primitives::{hex, Address, Bytes, B256, U256};
use sandrun_chain::events::{decode_log, event_name, MarketEvent};
use sandrun_chain::revert::decode_revert;
use sandrun_chain::tx::{Eip1559Tx, LegacyTx, LocalSigner, TxRequest};

fn rows(name: &str) -> Vec<Vec<String>> {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn bytes(s: &str) -> Bytes {
    hex::decode(s).unwrap().into()
}

#[test]
fn transactions_signed_like_viem() {
    let vectors = rows("transactions.tsv");
    assert_eq!(vectors.len(), 28);
    for v in vectors {
        let [ty, key, from, chain_id, nonce, to, value, input, gas, fee, priority, signing_hash, raw, hash] =
            <[String; 14]>::try_from(v).unwrap();
        let to = (to != "-").then(|| to.parse::<Address>().unwrap());
        let request = if ty == "eip1559" {
            TxRequest::Eip1559(Eip1559Tx {
                chain_id: chain_id.parse().unwrap(),
                nonce: nonce.parse().unwrap(),
                max_priority_fee_per_gas: priority.parse().unwrap(),
                max_fee_per_gas: fee.parse().unwrap(),
                gas_limit: gas.parse().unwrap(),
                to,
                value: value.parse().unwrap(),
                input: bytes(&input),
            })
        } else {
            TxRequest::Legacy(LegacyTx {
                chain_id: chain_id.parse().unwrap(),
                nonce: nonce.parse().unwrap(),
                gas_price: fee.parse().unwrap(),
                gas_limit: gas.parse().unwrap(),
                to,
                value: value.parse().unwrap(),
                input: bytes(&input),
            })
        };
        let signer = LocalSigner::from_hex(&key).unwrap();
        let what = format!("{ty} chain {chain_id} nonce {nonce} from {from}");
        assert_eq!(signer.address().to_checksum(None), from, "{what}: address");
        assert_eq!(
            request.signing_hash(),
            signing_hash.parse::<B256>().unwrap(),
            "{what}: signing hash"
        );
        let signed = signer.sign(&request).unwrap();
        assert_eq!(signed.raw, bytes(&raw), "{what}: raw");
        assert_eq!(signed.hash, hash.parse::<B256>().unwrap(), "{what}: hash");
        assert_eq!(signed.from.to_checksum(None), from);
    }
}

#[test]
fn reverts_decoded_like_viem() {
    let vectors = rows("reverts.tsv");
    let custom = sandrun_chain::market::SandrunMarket::SandrunMarketErrors::SELECTORS.len();
    assert_eq!(
        vectors.len(),
        custom + 2,
        "every custom error, Error and Panic"
    );
    for v in vectors {
        let [name, data, display, args] = <[String; 4]>::try_from(v).unwrap();
        let decoded = decode_revert(&bytes(&data)).unwrap_or_else(|| panic!("{name}: not decoded"));
        assert_eq!(decoded.name, name);
        assert_eq!(decoded.to_string(), display);
        let ours: Vec<String> = decoded
            .args
            .iter()
            .map(|a| format!("{}:{}={}", a.name, a.ty, a.value))
            .collect();
        assert_eq!(ours.join(";"), args, "{name}");
        assert_eq!(decoded.data, bytes(&data));
    }
}

/// An event's fields as viem prints them: decimal integers, checksummed addresses, lower-case
/// hex bytes, arrays joined by commas.
fn fields(event: &MarketEvent) -> String {
    let a = |x: &Address| x.to_checksum(None);
    let list = |xs: &[Address]| xs.iter().map(a).collect::<Vec<_>>().join(",");
    let parts: Vec<(&str, String)> = match event {
        MarketEvent::NodeRegistered(e) => vec![
            ("node", a(&e.node)),
            ("id", e.id.to_string()),
            ("workerKey", e.workerKey.to_string()),
            ("endpoint", e.endpoint.clone()),
            ("price", e.price.to_string()),
            ("bond", e.bond.to_string()),
        ],
        MarketEvent::NodeUpdated(e) => vec![
            ("node", a(&e.node)),
            ("workerKey", e.workerKey.to_string()),
            ("endpoint", e.endpoint.clone()),
            ("price", e.price.to_string()),
            ("bond", e.bond.to_string()),
        ],
        MarketEvent::UnbondingStarted(e) => {
            vec![("node", a(&e.node)), ("readyAt", e.readyAt.to_string())]
        }
        MarketEvent::BondWithdrawn(e) => {
            vec![("node", a(&e.node)), ("amount", e.amount.to_string())]
        }
        MarketEvent::JobPosted(e) => vec![
            ("jobId", e.jobId.to_string()),
            ("poster", a(&e.poster)),
            ("jobHash", e.jobHash.to_string()),
            ("inputCid", e.inputCid.clone()),
            ("k", e.k.to_string()),
            ("n", e.n.to_string()),
            ("pricePerNode", e.pricePerNode.to_string()),
            ("deadline", e.deadline.to_string()),
        ],
        MarketEvent::JobClaimed(e) => vec![("jobId", e.jobId.to_string()), ("node", a(&e.node))],
        MarketEvent::JobRunning(e) => vec![
            ("jobId", e.jobId.to_string()),
            ("node", a(&e.node)),
            ("run", e.run.clone()),
        ],
        MarketEvent::ResultSubmitted(e) => vec![
            ("jobId", e.jobId.to_string()),
            ("node", a(&e.node)),
            ("resultHash", e.resultHash.to_string()),
            ("outputCid", e.outputCid.clone()),
            ("signature", e.signature.to_string()),
        ],
        MarketEvent::JobFinalized(e) => vec![
            ("jobId", e.jobId.to_string()),
            ("resultHash", e.resultHash.to_string()),
            ("agreeing", list(&e.agreeing)),
            ("dissenting", list(&e.dissenting)),
            ("paid", e.paid.to_string()),
            ("slashed", e.slashed.to_string()),
            ("refunded", e.refunded.to_string()),
        ],
        MarketEvent::JobRefunded(e) => vec![
            ("jobId", e.jobId.to_string()),
            ("poster", a(&e.poster)),
            ("refunded", e.refunded.to_string()),
            ("slashed", e.slashed.to_string()),
        ],
        MarketEvent::JobCancelled(e) => vec![
            ("jobId", e.jobId.to_string()),
            ("poster", a(&e.poster)),
            ("refunded", e.refunded.to_string()),
        ],
        MarketEvent::NodeSlashed(e) => vec![
            ("jobId", e.jobId.to_string()),
            ("node", a(&e.node)),
            ("amount", e.amount.to_string()),
        ],
        MarketEvent::Withdrawn(e) => {
            vec![("account", a(&e.account)), ("amount", e.amount.to_string())]
        }
    };
    parts
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

#[test]
fn events_decoded_like_viem() {
    let vectors = rows("events.tsv");
    assert_eq!(
        vectors.len(),
        sandrun_chain::events::EVENTS.len(),
        "a log of every event"
    );
    for v in vectors {
        let [name, topics, data, args] = <[String; 4]>::try_from(v).unwrap();
        let topics: Vec<B256> = topics.split(',').map(|t| t.parse().unwrap()).collect();
        let event = decode_log(&topics, &bytes(&data)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(event_name(&event), name);
        assert_eq!(sandrun_chain::events::topic0(&name), Some(topics[0]));
        assert_eq!(fields(&event), args, "{name}");
        // a log of another event under this topic 0 does not decode
        let mut wrong = topics.clone();
        wrong[0] = B256::repeat_byte(1);
        assert!(decode_log(&wrong, &bytes(&data)).is_err());
    }
}

#[test]
fn settlement_from_a_real_finalize_receipt() {
    let events: Vec<MarketEvent> = rows("events.tsv")
        .into_iter()
        .map(|v| {
            let topics: Vec<B256> = v[1].split(',').map(|t| t.parse().unwrap()).collect();
            decode_log(&topics, &bytes(&v[2])).unwrap()
        })
        .collect();
    let s = sandrun_chain::events::settlement(U256::from(1), &events).unwrap();
    assert_eq!(s.kind, sandrun_chain::events::SettlementKind::Finalized);
    assert_eq!((s.agreeing.len(), s.dissenting.len()), (2, 1));
    assert_eq!(s.slashed_nodes, s.dissenting);
    assert_eq!(s.paid, U256::from(20_000_000_000_000_000u64));
}
