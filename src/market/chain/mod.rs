//! The marketplace contract over EIP-1193 (being built).
