//! The marketplace contract over EIP-1193 (being built).

/// What this layer adds to the core when the module is set up (its config section).
pub fn register() {}
