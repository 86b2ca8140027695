//! The market layer, above the core (and, for the coordinated job, the extensions): the
//! marketplace contract over EIP-1193 (`chain`), IPFS (`ipfs`), and the paid, coordinated job that
//! uses both. Each is a Cargo feature of its own.

#[cfg(feature = "chain")]
pub mod chain;
#[cfg(feature = "market")]
pub mod coordination;
#[cfg(feature = "market")]
pub mod format;
#[cfg(feature = "ipfs")]
pub mod ipfs;
#[cfg(feature = "market")]
pub mod operator;
