//! Property tests of every parser in the dev node that reads what a client or a server sent:
//! no input makes one panic, and what is written is read back unchanged where it should be.
//!
//! 256 cases per property by default; `PROPTEST_CASES=N cargo test -p sandrun-devnode` runs more.

mod bodies;
mod ipfs;
mod manifest;
mod tar;
mod uploads;
mod wire;
