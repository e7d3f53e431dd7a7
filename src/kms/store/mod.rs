//! What KMS keeps, on the transactional key–value layer: key records and
//! their indexes (`keys.rs`), older key versions (`versions.rs`), due-date schedules (`schedules.rs`), alias
//! resources (`aliases.rs`), grants (`grants.rs`) and import parameters
//! (`imports.rs`), key stores (`keystores.rs`), access points and key policies
//! (`keyspaces.rs`); the records of a multi-region key are kept in step by
//! `keys.rs` (`follow`, `leave`), the version migration and history are in
//! `upkeep.rs`. Store only stores: every rule is decided by the caller.

pub(crate) mod aliases;
mod grant_counts;
pub(crate) mod grants;
pub(crate) mod imports;
mod key_order;
mod keys;
pub(crate) mod keyspaces;
pub(crate) mod keystores;
pub(crate) mod schedules;
mod upgrade;
mod upkeep;
pub(crate) mod versions;

pub use keys::*;
pub use keystores::KeystoreRecord;
pub use schedules::due_deletions;
pub use upgrade::upgrade_records;
#[cfg(test)]
pub use upgrade::upgraded_all;
pub use upkeep::{
    count, count_by_state, count_existing, index_existing, keys_in_keystore, list, list_page,
    version_history,
};
pub use versions::KeyVersion;
