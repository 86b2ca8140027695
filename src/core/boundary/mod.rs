//! The boundary with the JS host, the lowest part of the core: errors and their JS classes,
//! plain-data conversion, reading options, the platform port, promises and events. Nothing here
//! knows about jobs.

pub mod error;
pub mod js;
pub mod platform;
pub mod promise;
pub mod raise;
pub mod reader;
pub mod registry;
pub mod webcrypto;
