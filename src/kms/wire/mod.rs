//! Serde request and response bodies with the cloud's exact field names
//! (`shared/api/kms.json`), by resource: keys, tags and quotas (`keys.rs`),
//! cryptographic operations (`crypto.rs`), rotation, import and grants
//! (`admin.rs`), aliases (`aliases.rs`), regions and multi-region keys
//! (`regions.rs`), derive, capsules and PINs (`derive.rs`), key stores
//! (`keystores.rs`), access points and key policies (`keyspaces.rs`). Leaf
//! types: nothing here knows records or rules.

mod admin;
mod aliases;
mod crypto;
mod derive;
mod keys;
mod keyspaces;
mod keystores;
mod regions;

pub use admin::*;
pub use aliases::*;
pub use crypto::*;
pub use derive::*;
pub use keys::*;
pub use keyspaces::*;
pub use keystores::*;
pub use regions::*;

/// A JSON body whose rejection speaks KMS's error envelope.
pub type KmsBody<T> = crate::common::body::Body<T, crate::kms::error::KmsError>;
/// A query string parsed into `T`; its rejection is a KMS error.
pub type KmsQuery<T> = crate::common::query::Query<T, crate::kms::error::KmsError>;
