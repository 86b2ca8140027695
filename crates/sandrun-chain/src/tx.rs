//! Transactions signed with a local secp256k1 key: EIP-1559 (type 2) and, for chains without a
//! base fee, legacy EIP-155. Signing hash, deterministic signature (RFC 6979), the raw bytes
//! for `eth_sendRawTransaction` and the transaction hash.
//!
//! alloy-consensus gives the transaction types and their RLP/EIP-2718 encoding. The signature
//! is made with k256 directly, not alloy-signer-local: that crate needs `rand` with getrandom,
//! which does not build for wasm32-unknown-unknown without wasm-bindgen, and a key is only ever
//! given here, never generated.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, Signature, TxKind, B256, U256};
use core::fmt;
use k256::ecdsa::SigningKey;

/// A type-2 transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eip1559Tx {
    pub chain_id: u64,
    pub nonce: u64,
    pub max_priority_fee_per_gas: u128,
    pub max_fee_per_gas: u128,
    pub gas_limit: u64,
    /// None deploys a contract (`input` is then its code).
    pub to: Option<Address>,
    pub value: U256,
    pub input: Bytes,
}

/// A legacy transaction, replay-protected with EIP-155 (the chain id is part of what is signed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyTx {
    pub chain_id: u64,
    pub nonce: u64,
    pub gas_price: u128,
    pub gas_limit: u64,
    pub to: Option<Address>,
    pub value: U256,
    pub input: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxRequest {
    Eip1559(Eip1559Tx),
    Legacy(LegacyTx),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxError {
    /// Not 32 bytes of hex, or not a valid secp256k1 scalar (zero, or above the group order).
    InvalidPrivateKey,
    /// maxPriorityFeePerGas above maxFeePerGas (nodes refuse it).
    PriorityAboveMaxFee,
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // never echo the key
            Self::InvalidPrivateKey => write!(
                f,
                "privateKey: not a valid secp256k1 private key (32 bytes of hex)"
            ),
            Self::PriorityAboveMaxFee => write!(f, "maxPriorityFeePerGas is above maxFeePerGas"),
        }
    }
}

impl std::error::Error for TxError {}

/// What `sign` gives: the bytes for `eth_sendRawTransaction`, the transaction's hash (as the
/// chain will report it) and its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTx {
    pub raw: Bytes,
    pub hash: B256,
    pub from: Address,
}

fn kind(to: Option<Address>) -> TxKind {
    to.map_or(TxKind::Create, TxKind::Call)
}

impl TxRequest {
    fn eip1559(tx: &Eip1559Tx) -> TxEip1559 {
        TxEip1559 {
            chain_id: tx.chain_id,
            nonce: tx.nonce,
            gas_limit: tx.gas_limit,
            max_fee_per_gas: tx.max_fee_per_gas,
            max_priority_fee_per_gas: tx.max_priority_fee_per_gas,
            to: kind(tx.to),
            value: tx.value,
            access_list: Default::default(),
            input: tx.input.clone(),
        }
    }

    fn legacy(tx: &LegacyTx) -> TxLegacy {
        TxLegacy {
            chain_id: Some(tx.chain_id),
            nonce: tx.nonce,
            gas_price: tx.gas_price,
            gas_limit: tx.gas_limit,
            to: kind(tx.to),
            value: tx.value,
            input: tx.input.clone(),
        }
    }

    /// The hash the sender signs.
    pub fn signing_hash(&self) -> B256 {
        match self {
            Self::Eip1559(tx) => Self::eip1559(tx).signature_hash(),
            Self::Legacy(tx) => Self::legacy(tx).signature_hash(),
        }
    }
}

/// A private key held in memory. Its Debug shows only the address.
pub struct LocalSigner {
    key: SigningKey,
    address: Address,
}

impl fmt::Debug for LocalSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSigner")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl LocalSigner {
    /// From 32 bytes of hex, with or without `0x`.
    pub fn from_hex(private_key: &str) -> Result<Self, TxError> {
        let digits = private_key
            .trim()
            .strip_prefix("0x")
            .unwrap_or(private_key.trim());
        let mut bytes = [0u8; 32];
        alloy_primitives::hex::decode_to_slice(digits, &mut bytes)
            .map_err(|_| TxError::InvalidPrivateKey)?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(private_key: &[u8; 32]) -> Result<Self, TxError> {
        let key = SigningKey::from_slice(private_key).map_err(|_| TxError::InvalidPrivateKey)?;
        let address = Address::from_public_key(key.verifying_key());
        Ok(Self { key, address })
    }

    /// The sender address of this key.
    pub fn address(&self) -> Address {
        self.address
    }

    /// A recoverable signature of a 32-byte hash (RFC 6979: the same hash gives the same
    /// signature; low s, as Ethereum requires).
    pub fn sign_hash(&self, hash: &B256) -> Signature {
        let (sig, recid) = self
            .key
            .sign_prehash_recoverable(hash.as_slice())
            .expect("a 32-byte prehash always signs");
        Signature::from_signature_and_parity(sig, recid.is_y_odd())
    }

    pub fn sign(&self, request: &TxRequest) -> Result<SignedTx, TxError> {
        let envelope: TxEnvelope = match request {
            TxRequest::Eip1559(tx) => {
                if tx.max_priority_fee_per_gas > tx.max_fee_per_gas {
                    return Err(TxError::PriorityAboveMaxFee);
                }
                let tx = TxRequest::eip1559(tx);
                let sig = self.sign_hash(&tx.signature_hash());
                tx.into_signed(sig).into()
            }
            TxRequest::Legacy(tx) => {
                let tx = TxRequest::legacy(tx);
                let sig = self.sign_hash(&tx.signature_hash());
                tx.into_signed(sig).into()
            }
        };
        Ok(SignedTx {
            raw: envelope.encoded_2718().into(),
            hash: *envelope.tx_hash(),
            from: self.address,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // anvil's dev account 0 (a published test key)
    const KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    #[test]
    fn address_of_a_key() {
        let signer = LocalSigner::from_hex(KEY).unwrap();
        assert_eq!(
            signer.address().to_checksum(None),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
        assert_eq!(
            LocalSigner::from_hex(&KEY[2..]).unwrap().address(),
            signer.address()
        );
        assert!(!format!("{signer:?}").contains(&KEY[2..10]));
    }

    #[test]
    fn bad_keys() {
        assert_eq!(
            LocalSigner::from_hex("0x1234").unwrap_err(),
            TxError::InvalidPrivateKey
        );
        assert_eq!(
            LocalSigner::from_hex(&format!("0x{}", "0".repeat(64))).unwrap_err(),
            TxError::InvalidPrivateKey
        );
        // the secp256k1 group order n is not a valid key
        let n = "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
        assert_eq!(
            LocalSigner::from_hex(n).unwrap_err(),
            TxError::InvalidPrivateKey
        );
        assert!(!LocalSigner::from_hex("0xzz")
            .unwrap_err()
            .to_string()
            .contains("zz"));
    }

    #[test]
    fn deterministic_and_priority_checked() {
        let signer = LocalSigner::from_hex(KEY).unwrap();
        let tx = Eip1559Tx {
            chain_id: 31337,
            nonce: 0,
            max_priority_fee_per_gas: 2,
            max_fee_per_gas: 1,
            gas_limit: 21_000,
            to: Some(signer.address()),
            value: U256::ZERO,
            input: Bytes::new(),
        };
        assert_eq!(
            signer.sign(&TxRequest::Eip1559(tx.clone())),
            Err(TxError::PriorityAboveMaxFee)
        );
        let ok = TxRequest::Eip1559(Eip1559Tx {
            max_fee_per_gas: 2,
            ..tx
        });
        assert_eq!(signer.sign(&ok).unwrap(), signer.sign(&ok).unwrap());
        assert_eq!(signer.sign(&ok).unwrap().raw[0], 2); // EIP-2718 type byte
    }
}
