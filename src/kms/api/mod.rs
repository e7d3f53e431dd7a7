//! Thin HTTP handlers, one file per resource: each reads its typed body,
//! calls one domain or service function and maps the result to a wire type.
//! Keys and quotas (`keys.rs`; new records and default keys in
//! `provision.rs`), aliases, regions, rotation, import, grants; data
//! encryption (`data.rs`, on `encryption.rs`, which the cross-service entry
//! points share), data keys, key pairs, re-encryption, signatures, MACs,
//! derive, capsules and PINs; key stores (`keystores.rs`); access points
//! (`access_points.rs`) and key policies (`policies.rs`) of key spaces. (Tags are `kms/tags.rs`.) Every handler that uses a key
//! for a cryptographic operation gets it from `access::usable_key`, and runs
//! the cryptography through `dispatch.rs` (in software or in the key's token).

pub(crate) mod access_points;
pub(crate) mod aliases;
pub(crate) mod capsule;
pub(crate) mod data;
pub(crate) mod datakeys;
pub(crate) mod derive;
pub(crate) mod dispatch;
pub(crate) mod encryption;
pub(crate) mod grants;
pub(crate) mod import;
pub(crate) mod keygen;
pub(crate) mod keypairs;
pub(crate) mod keys;
pub(crate) mod keystores;
pub(crate) mod mac;
pub(crate) mod pin;
pub(crate) mod policies;
pub(crate) mod provision;
pub(crate) mod reencrypt;
pub(crate) mod regions;
pub(crate) mod rotation;
pub(crate) mod sign;
