//! Pure KMS rules: no I/O, no async, no `AppState`. Key specs, usages and
//! states (`key.rs`), request field validation and CreateKey (`input.rs`),
//! quotas and bounds (`limits.rs`), rotation (`rotation.rs`), imported
//! material (`import.rs`), grant decisions (`grants.rs`), key stores
//! (`keystore.rs`), key spaces and access points (`keyspace.rs`), key
//! policies (`policy.rs`), the policy a data key capsule is bound to
//! (`capsule.rs`) and multi-region keys (`multi_region.rs`).

pub(crate) mod capsule;
pub(crate) mod grants;
pub(crate) mod import;
mod input;
mod key;
pub(crate) mod keyspace;
pub(crate) mod keystore;
pub(crate) mod limits;
pub(crate) mod multi_region;
pub(crate) mod policy;
pub(crate) mod rotation;
pub(crate) mod usable;

pub use input::*;
pub use key::*;

#[cfg(test)]
mod tests;
