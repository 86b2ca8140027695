//! Typed JSON-RPC calls, built and read in Rust: quantities are `0x` hex both ways (U256, u64),
//! never JS numbers; an answer of another shape is a `ProtocolError` naming the method.

use super::errors;
use super::log_ranges::{is_range_refusal, Ranges};
use super::provider::{Provider, RpcError};
use crate::core::boundary::error::Result;
use crate::core::boundary::js::{prop, Obj};
use alloy_primitives::{hex, Address, Bytes, B256, U256};
use js_sys::Array;
use sandrun_chain::fees::FeeHistory;
use wasm_bindgen::JsValue;

/// A quantity as JSON-RPC writes it: `0x` and no leading zeros.
pub fn qty(v: U256) -> JsValue {
    JsValue::from_str(&format!("{v:#x}"))
}

pub fn qty64(v: u64) -> JsValue {
    JsValue::from_str(&format!("{v:#x}"))
}

fn bytes_js(b: &[u8]) -> JsValue {
    JsValue::from_str(&format!("0x{}", hex::encode(b)))
}

fn u256_of(v: &JsValue) -> Option<U256> {
    let s = v.as_string()?;
    U256::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

fn u64_of(v: &JsValue) -> Option<u64> {
    u256_of(v).and_then(|n| u64::try_from(n).ok())
}

fn bytes_of(v: &JsValue) -> Option<Bytes> {
    let s = v.as_string()?;
    hex::decode(s.strip_prefix("0x")?).ok().map(Bytes::from)
}

fn b256_of(v: &JsValue) -> Option<B256> {
    bytes_of(v)
        .filter(|b| b.len() == 32)
        .map(|b| B256::from_slice(&b))
}

fn address_of(v: &JsValue) -> Option<Address> {
    bytes_of(v)
        .filter(|b| b.len() == 20)
        .map(|b| Address::from_slice(&b))
}

/// `v[key]` read with `read`, or a protocol error naming the method and the key.
fn field<T>(method: &str, v: &JsValue, key: &str, read: fn(&JsValue) -> Option<T>) -> Result<T> {
    prop(v, key)
        .as_ref()
        .and_then(read)
        .ok_or_else(|| errors::bad_answer(method, &format!("no valid \"{key}\"")))
}

/// `v[key]` when present and not null.
fn optional<T>(v: &JsValue, key: &str, read: fn(&JsValue) -> Option<T>) -> Option<T> {
    prop(v, key).as_ref().and_then(read)
}

/// A transaction as `eth_call`, `eth_estimateGas` and `eth_sendTransaction` take it.
#[derive(Debug, Clone, Default)]
pub struct TxCall {
    pub from: Option<Address>,
    /// None creates a contract.
    pub to: Option<Address>,
    pub value: U256,
    pub data: Bytes,
    pub gas: Option<u64>,
    pub nonce: Option<u64>,
    pub max_fee_per_gas: Option<U256>,
    pub max_priority_fee_per_gas: Option<U256>,
    pub gas_price: Option<U256>,
}

impl TxCall {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        if let Some(f) = self.from {
            o.set("from", &f.to_checksum(None));
        }
        if let Some(t) = self.to {
            o.set("to", &t.to_checksum(None));
        }
        o.set("value", &qty(self.value))
            .set("data", &bytes_js(&self.data));
        let quantities = [
            ("gas", self.gas.map(U256::from)),
            ("nonce", self.nonce.map(U256::from)),
            ("maxFeePerGas", self.max_fee_per_gas),
            ("maxPriorityFeePerGas", self.max_priority_fee_per_gas),
            ("gasPrice", self.gas_price),
        ];
        for (key, v) in quantities {
            if let Some(v) = v {
                o.set(key, &qty(v));
            }
        }
        o.into()
    }
}

/// One log as `eth_getLogs` and receipts give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Bytes,
    pub block_number: u64,
    pub block_hash: B256,
    pub tx_hash: B256,
    pub log_index: u64,
}

impl Log {
    fn read(method: &str, v: &JsValue) -> Result<Log> {
        let topics = prop(v, "topics")
            .map(|t| Array::from(&t).iter().map(|t| b256_of(&t)).collect())
            .unwrap_or(Some(Vec::new()))
            .ok_or_else(|| errors::bad_answer(method, "a log topic is not 32 bytes of hex"))?;
        Ok(Log {
            address: field(method, v, "address", address_of)?,
            topics,
            data: field(method, v, "data", bytes_of)?,
            block_number: field(method, v, "blockNumber", u64_of)?,
            block_hash: field(method, v, "blockHash", b256_of)?,
            tx_hash: field(method, v, "transactionHash", b256_of)?,
            log_index: field(method, v, "logIndex", u64_of)?,
        })
    }
}

/// A mined transaction's receipt.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub hash: B256,
    pub from: Address,
    pub block_number: u64,
    pub block_hash: B256,
    pub success: bool,
    pub gas_used: U256,
    pub effective_gas_price: U256,
    pub contract_address: Option<Address>,
    pub logs: Vec<Log>,
}

/// The fields of a transaction that replacement detection and speed-ups use.
#[derive(Debug, Clone)]
pub struct TxInfo {
    pub hash: B256,
    pub from: Address,
    pub nonce: u64,
    pub to: Option<Address>,
    pub value: U256,
    pub input: Bytes,
    pub gas: u64,
    /// None while pending.
    pub block_number: Option<u64>,
    pub max_fee_per_gas: Option<U256>,
    pub max_priority_fee_per_gas: Option<U256>,
    pub gas_price: Option<U256>,
}

impl TxInfo {
    fn read(method: &str, v: &JsValue) -> Result<TxInfo> {
        Ok(TxInfo {
            hash: field(method, v, "hash", b256_of)?,
            from: field(method, v, "from", address_of)?,
            nonce: field(method, v, "nonce", u64_of)?,
            to: optional(v, "to", address_of),
            value: field(method, v, "value", u256_of)?,
            input: optional(v, "input", bytes_of)
                .or_else(|| optional(v, "data", bytes_of))
                .unwrap_or_default(),
            gas: field(method, v, "gas", u64_of)?,
            block_number: optional(v, "blockNumber", u64_of),
            max_fee_per_gas: optional(v, "maxFeePerGas", u256_of),
            max_priority_fee_per_gas: optional(v, "maxPriorityFeePerGas", u256_of),
            gas_price: optional(v, "gasPrice", u256_of),
        })
    }
}

/// An `eth_getLogs` filter: one contract, a block range, topics by position (None: any).
#[derive(Debug, Clone)]
pub struct LogFilter {
    pub address: Address,
    pub topics: Vec<Option<B256>>,
    pub from_block: u64,
    pub to_block: u64,
}

/// A block to read state at.
#[derive(Debug, Clone, Copy)]
pub enum At {
    Latest,
    Pending,
    Number(u64),
}

impl At {
    fn to_js(self) -> JsValue {
        match self {
            At::Latest => "latest".into(),
            At::Pending => "pending".into(),
            At::Number(n) => qty64(n),
        }
    }
}

/// The typed calls over one provider.
pub struct Rpc {
    pub provider: Provider,
}

impl Rpc {
    /// `method(params…)`'s result (may be `null`), or the typed error.
    pub async fn request(&self, method: &str, params: &[JsValue]) -> Result<JsValue> {
        let params: Array = params.iter().collect();
        self.provider
            .request(method, params)
            .await
            .map_err(|e| errors::rpc(method, e))
    }

    async fn read<T>(
        &self,
        method: &str,
        params: &[JsValue],
        read: fn(&JsValue) -> Option<T>,
    ) -> Result<T> {
        let v = self.request(method, params).await?;
        read(&v).ok_or_else(|| errors::bad_answer(method, "not the hex value expected"))
    }

    pub async fn chain_id(&self) -> Result<u64> {
        self.read("eth_chainId", &[], u64_of).await
    }

    pub async fn block_number(&self) -> Result<u64> {
        self.read("eth_blockNumber", &[], u64_of).await
    }

    pub async fn code(&self, address: Address) -> Result<Bytes> {
        self.code_at(address, At::Latest).await
    }

    pub async fn code_at(&self, address: Address, at: At) -> Result<Bytes> {
        let a = JsValue::from_str(&address.to_checksum(None));
        self.read("eth_getCode", &[a, at.to_js()], bytes_of).await
    }

    pub async fn balance(&self, address: Address) -> Result<U256> {
        let a = JsValue::from_str(&address.to_checksum(None));
        self.read("eth_getBalance", &[a, "latest".into()], u256_of)
            .await
    }

    /// The account's transaction count at `at` (`Pending` counts the node's pool).
    pub async fn nonce(&self, address: Address, at: At) -> Result<u64> {
        let a = JsValue::from_str(&address.to_checksum(None));
        self.read("eth_getTransactionCount", &[a, at.to_js()], u64_of)
            .await
    }

    pub async fn call(&self, tx: &TxCall, at: At) -> Result<Bytes> {
        self.read("eth_call", &[tx.to_js(), at.to_js()], bytes_of)
            .await
    }

    pub async fn estimate_gas(&self, tx: &TxCall) -> Result<u64> {
        self.read("eth_estimateGas", &[tx.to_js()], u64_of).await
    }

    pub async fn gas_price(&self) -> Result<U256> {
        self.read("eth_gasPrice", &[], u256_of).await
    }

    /// The last `blocks` blocks' base fees (and the next block's) and rewards at `percentile`;
    /// None from a node without the method (-32601), which predates EIP-1559.
    pub async fn fee_history(&self, blocks: u64, percentile: f64) -> Result<Option<FeeHistory>> {
        let method = "eth_feeHistory";
        let percentiles: Array = [JsValue::from_f64(percentile)].iter().collect();
        let params: Array = [qty64(blocks), "latest".into(), percentiles.into()]
            .iter()
            .collect();
        let v = match self.provider.request(method, params).await {
            Err(RpcError::Answer {
                code: Some(-32601), ..
            }) => return Ok(None),
            answer => answer.map_err(|e| errors::rpc(method, e))?,
        };
        let list = |key: &str| -> Vec<JsValue> {
            prop(&v, key)
                .map(|a| Array::from(&a).to_vec())
                .unwrap_or_default()
        };
        let base_fee_per_gas = list("baseFeePerGas")
            .iter()
            .map(u256_of)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| errors::bad_answer(method, "a base fee is not a hex quantity"))?;
        let reward = list("reward")
            .iter()
            .map(|row| Array::from(row).iter().map(|r| u256_of(&r)).collect())
            .collect::<Option<Vec<Vec<U256>>>>()
            .ok_or_else(|| errors::bad_answer(method, "a reward is not a hex quantity"))?;
        Ok(Some(FeeHistory {
            base_fee_per_gas,
            reward,
        }))
    }

    pub async fn send_raw(&self, raw: &[u8]) -> Result<B256> {
        self.read("eth_sendRawTransaction", &[bytes_js(raw)], b256_of)
            .await
    }

    /// `eth_sendTransaction`: the provider's account signs (a wallet prompts).
    pub async fn send_transaction(&self, tx: &TxCall) -> Result<B256> {
        self.read("eth_sendTransaction", &[tx.to_js()], b256_of)
            .await
    }

    /// The result, or None when it is `null` (not mined, unknown, no such block yet).
    async fn found(&self, method: &str, params: &[JsValue]) -> Result<Option<JsValue>> {
        let v = self.request(method, params).await?;
        Ok((!v.is_null() && !v.is_undefined()).then_some(v))
    }

    pub async fn receipt(&self, hash: B256) -> Result<Option<Receipt>> {
        let method = "eth_getTransactionReceipt";
        let hash = JsValue::from_str(&hash.to_string());
        let Some(v) = self.found(method, &[hash]).await? else {
            return Ok(None);
        };
        let status = field(method, &v, "status", u64_of)?;
        let logs = prop(&v, "logs")
            .map(|l| {
                Array::from(&l)
                    .iter()
                    .map(|l| Log::read(method, &l))
                    .collect()
            })
            .unwrap_or(Ok(Vec::new()))?;
        Ok(Some(Receipt {
            hash: field(method, &v, "transactionHash", b256_of)?,
            from: field(method, &v, "from", address_of)?,
            block_number: field(method, &v, "blockNumber", u64_of)?,
            block_hash: field(method, &v, "blockHash", b256_of)?,
            success: status == 1,
            gas_used: field(method, &v, "gasUsed", u256_of)?,
            // 0 from a node that leaves it out (before EIP-1559).
            effective_gas_price: optional(&v, "effectiveGasPrice", u256_of).unwrap_or_default(),
            contract_address: optional(&v, "contractAddress", address_of),
            logs,
        }))
    }

    pub async fn transaction(&self, hash: B256) -> Result<Option<TxInfo>> {
        let method = "eth_getTransactionByHash";
        let hash = JsValue::from_str(&hash.to_string());
        match self.found(method, &[hash]).await? {
            Some(v) => TxInfo::read(method, &v).map(Some),
            None => Ok(None),
        }
    }

    /// The hash of block `number` (None: no such block yet).
    pub async fn block_hash(&self, number: u64) -> Result<Option<B256>> {
        let method = "eth_getBlockByNumber";
        match self.found(method, &[qty64(number), false.into()]).await? {
            Some(v) => field(method, &v, "hash", b256_of).map(Some),
            None => Ok(None),
        }
    }

    /// The transactions of block `number` (None: no such block yet).
    pub async fn block_transactions(&self, number: u64) -> Result<Option<Vec<TxInfo>>> {
        let method = "eth_getBlockByNumber";
        let Some(v) = self.found(method, &[qty64(number), true.into()]).await? else {
            return Ok(None);
        };
        let txs = prop(&v, "transactions")
            .map(|t| Array::from(&t).to_vec())
            .unwrap_or_default();
        txs.iter()
            .map(|t| TxInfo::read(method, t))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// The logs `filter` matches, oldest first. A range the provider refuses for its size (see
    /// `log_ranges`) is read in halves: the one place the SDK meets providers' `eth_getLogs` caps.
    pub async fn logs(&self, filter: &LogFilter) -> Result<Vec<Log>> {
        let method = "eth_getLogs";
        let mut ranges = Ranges::new(filter.from_block, filter.to_block);
        let mut out = Vec::new();
        while let Some((from, to)) = ranges.to_ask() {
            let v = match self.logs_in(filter, from, to).await {
                Ok(v) => v,
                Err(RpcError::Answer { code, message, .. })
                    if is_range_refusal(code, &message) && ranges.refused() =>
                {
                    continue
                }
                Err(e) => return Err(errors::rpc(method, e)),
            };
            if !Array::is_array(&v) {
                return Err(errors::bad_answer(method, "not an array"));
            }
            for l in Array::from(&v).iter() {
                out.push(Log::read(method, &l)?);
            }
            ranges.answered();
        }
        Ok(out)
    }

    /// One `eth_getLogs` of blocks `from..=to`: the provider's answer as it came.
    async fn logs_in(
        &self,
        filter: &LogFilter,
        from: u64,
        to: u64,
    ) -> std::result::Result<JsValue, RpcError> {
        let topics: Array = filter
            .topics
            .iter()
            .map(|t| match t {
                Some(t) => JsValue::from_str(&t.to_string()),
                None => JsValue::NULL,
            })
            .collect();
        let f = Obj::new();
        f.set("address", &filter.address.to_checksum(None))
            .set("fromBlock", &qty64(from))
            .set("toBlock", &qty64(to))
            .set("topics", &JsValue::from(topics));
        let params: Array = [JsValue::from(f)].iter().collect();
        self.provider.request("eth_getLogs", params).await
    }

    /// The provider's accounts; `ask` prompts a wallet (`eth_requestAccounts`).
    pub async fn accounts(&self, ask: bool) -> Result<Vec<Address>> {
        let method = if ask {
            "eth_requestAccounts"
        } else {
            "eth_accounts"
        };
        let v = self.request(method, &[]).await?;
        if !Array::is_array(&v) {
            return Err(errors::bad_answer(method, "not an array"));
        }
        Array::from(&v)
            .iter()
            .map(|a| address_of(&a).ok_or_else(|| errors::bad_answer(method, "not an address")))
            .collect()
    }
}

/// An address as JSON-RPC params and events give it (`0x` + 40 hex digits, any case).
pub fn parse_address(v: &JsValue) -> Option<Address> {
    address_of(v)
}

/// A quantity (`0x` hex) as JSON-RPC gives it.
pub fn parse_u64(v: &JsValue) -> Option<u64> {
    u64_of(v)
}
