//! Entries: what each npm entry exports beyond the layers' own exports. The core build
//! (`@sandrun/sdk`) gives the classes the same shape as the full one, with methods that say
//! which entry has them; the full build (`@sandrun/sdk/full`) exports the extension layers as
//! they are.

#[cfg(not(feature = "ext"))]
mod core_only;
