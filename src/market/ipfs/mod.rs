//! IPFS: Kubo RPC, local CIDs, verified retrieval, pinning services (being built).

/// What this layer adds to the core when the module is set up (its config section).
pub fn register() {}
