//! Cryptography on key material, synchronous and free of `AppState`: every
//! random byte comes from the `Rng` passed in. The ciphertext blob and
//! symmetric AEAD (`blob.rs`), RSA/SM2 encryption and private key parsing
//! (`asymmetric.rs`), signatures (`sign.rs`), MACs (`mac.rs`), ECDH
//! (`derive.rs`), material generation (`material.rs`), and import wrapping
//! (`import_token.rs`, `import_wrap.rs`); ECDSA by a bare public point
//! (`ec_point.rs`, for keys in a PKCS#11 token); access point key pairs
//! (`access_point.rs`); a private key parsed once and kept ready to sign
//! (`parsed.rs`).

pub(crate) mod access_point;
pub(crate) mod asymmetric;
pub(crate) mod blob;
pub(crate) mod derive;
pub(crate) mod ec_point;
pub(crate) mod import_token;
pub(crate) mod import_wrap;
pub(crate) mod mac;
pub(crate) mod material;
pub(crate) mod parsed;
pub(crate) mod sign;
