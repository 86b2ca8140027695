//! IPFS: Kubo RPC, local CIDs, verified retrieval, pinning services (being built).
