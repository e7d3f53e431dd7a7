//! Symmetric encryption under a key's material, and the ciphertext blob that
//! lets DecryptData find its key without being told.
//!
//! Blob: `magic | key_id (36 ASCII) | version index (u32 BE) | nonce (12) | ciphertext+tag`.
//! The 41-byte header is part of the associated data, so a blob cannot be
//! re-pointed at another key, version or purpose; the caller's
//! `additional_authenticated_data` follows it.
//!
//! The magic byte names the blob's purpose (`Purpose`): `0xD2` data
//! (EncryptData, data key pairs' private keys, CSMS values), `0xD3` data keys
//! (inside the DEK trailer), `0xD4` data key capsules. A blob of one purpose
//! never opens as another: changing the byte breaks the tag. `0xD1` is the
//! format before purposes existed; it still opens as data or as a data key,
//! because an old data key blob cannot be told from an old EncryptData blob
//! (the residual risk: a pre-change data key ciphertext opens through
//! DecryptData, a pre-change EncryptData blob with a computed trailer through
//! DecryptDatakey), but never as a capsule: capsules made before `0xD4` are
//! data key blobs under a fixed associated data (`api/capsule.rs`). New blobs
//! are never `0xD1`.

use crate::common::crypto::{random_bytes, Sealer};
use crate::kms::domain::KeySpec;
use crate::kms::error::KmsError;
use crate::kms::store::{KeyRecord, KeyVersion};
use crate::rng::Rng;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm, Nonce};
use zeroize::Zeroizing;

/// Blobs written before purposes existed (see the module doc).
const LEGACY: u8 = 0xD1;
const DATA: u8 = 0xD2;
const DATAKEY: u8 = 0xD3;
const CAPSULE: u8 = 0xD4;

/// What a blob was made for; it opens only for the same purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// EncryptData / DecryptData (and every other service's use of them).
    Data,
    /// The blob inside a data key ciphertext (DecryptDatakey; capsules made
    /// before they had a purpose of their own).
    Datakey,
    /// The blob inside a data key capsule (DecryptDatakeyCapsule).
    Capsule,
}

impl Purpose {
    fn magic(self) -> u8 {
        match self {
            Purpose::Data => DATA,
            Purpose::Datakey => DATAKEY,
            Purpose::Capsule => CAPSULE,
        }
    }

    fn accepts(self, magic: u8) -> bool {
        magic == self.magic() || (magic == LEGACY && self != Purpose::Capsule)
    }
}

/// Whether a blob says it was made for `purpose` (not checked: `open_blob`
/// authenticates it).
pub fn made_for(blob: &[u8], purpose: Purpose) -> bool {
    blob.first() == Some(&purpose.magic())
}
const HEADER_LEN: usize = 1 + 36 + 4;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

type Sm4Gcm = AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;

/// The plaintext material of one version; zeroized when dropped.
pub fn open_version(
    keyring: &Sealer,
    key: &KeyRecord,
    version: &KeyVersion,
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    keyring
        .open(&version.sealed, key.key_id.as_bytes())
        .map_err(|_| {
            KmsError::Internal(format!(
                "key material of {} does not authenticate under the root key",
                key.key_id
            ))
        })
}

fn aead_seal(
    spec: KeySpec,
    material: &[u8],
    nonce: &[u8],
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let payload = Payload {
        msg: plaintext,
        aad,
    };
    let nonce = Nonce::from_slice(nonce);
    let out = match spec {
        KeySpec::Aes256 => Aes256Gcm::new_from_slice(material)
            .map_err(|_| bad_material())?
            .encrypt(nonce, payload),
        KeySpec::Sm4 => Sm4Gcm::new_from_slice(material)
            .map_err(|_| bad_material())?
            .encrypt(nonce, payload),
        _ => return Err(KmsError::InvalidParameter("key_spec")),
    };
    out.map_err(|_| KmsError::Internal("encryption failed".into()))
}

fn aead_open(
    spec: KeySpec,
    material: &[u8],
    nonce: &[u8],
    ct: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let payload = Payload { msg: ct, aad };
    let nonce = Nonce::from_slice(nonce);
    let out = match spec {
        KeySpec::Aes256 => Aes256Gcm::new_from_slice(material)
            .map_err(|_| bad_material())?
            .decrypt(nonce, payload),
        KeySpec::Sm4 => Sm4Gcm::new_from_slice(material)
            .map_err(|_| bad_material())?
            .decrypt(nonce, payload),
        _ => return Err(KmsError::InvalidParameter("key_spec")),
    };
    out.map(Zeroizing::new)
        .map_err(|_| KmsError::InvalidCiphertext)
}

fn bad_material() -> KmsError {
    KmsError::Internal("stored key material has the wrong length".into())
}

fn header(purpose: Purpose, key_id: &str, version: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.push(purpose.magic());
    h.extend_from_slice(key_id.as_bytes());
    h.extend_from_slice(&version.to_be_bytes());
    h
}

/// Encrypts under the key's newest version.
#[allow(dead_code)] // request paths use `seal_blob` with cached material
pub fn encrypt(
    rng: &Rng,
    keyring: &Sealer,
    key: &KeyRecord,
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let (Some(index), Some(version)) = (key.current_index(), key.current.as_ref()) else {
        return Err(KmsError::KeyNotEnabled);
    };
    let material = open_version(keyring, key, version)?;
    seal_blob(rng, key, index, &material, plaintext, aad, Purpose::Data)
}

/// Encrypts under version `index` of `key`, whose plaintext material is
/// given, for `purpose`.
pub fn seal_blob(
    rng: &Rng,
    key: &KeyRecord,
    index: usize,
    material: &[u8],
    plaintext: &[u8],
    aad: &[u8],
    purpose: Purpose,
) -> Result<Vec<u8>, KmsError> {
    seal_blob_with(
        rng,
        key,
        index,
        plaintext,
        aad,
        purpose,
        |nonce, pt, full_aad| aead_seal(key.key_spec, material, nonce, pt, full_aad),
    )
}

/// The blob framing around an AEAD that runs elsewhere (in a PKCS#11
/// token): `aead(nonce, plaintext, associated data)` returns ciphertext || tag.
pub fn seal_blob_with(
    rng: &Rng,
    key: &KeyRecord,
    index: usize,
    plaintext: &[u8],
    aad: &[u8],
    purpose: Purpose,
    aead: impl FnOnce(&[u8], &[u8], &[u8]) -> Result<Vec<u8>, KmsError>,
) -> Result<Vec<u8>, KmsError> {
    let head = header(purpose, &key.key_id, index as u32);
    let nonce = random_bytes(rng, NONCE_LEN);
    let mut full_aad = head.clone();
    full_aad.extend_from_slice(aad);
    let ct = aead(&nonce, plaintext, &full_aad)?;
    let mut blob = head;
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&ct);
    Ok(blob)
}

/// The key id a blob names, if the blob is well-formed at all.
pub fn blob_key_id(blob: &[u8]) -> Result<String, KmsError> {
    let id = key_id_bytes(blob)?;
    let id = std::str::from_utf8(id).map_err(|_| KmsError::InvalidCiphertext)?;
    crate::kms::domain::parse_key_id(Some(id)).map_err(|_| KmsError::InvalidCiphertext)
}

/// The key id field of a blob long enough to hold a header, a nonce and a
/// tag and of a known kind, unchecked.
fn key_id_bytes(blob: &[u8]) -> Result<&[u8], KmsError> {
    let known = [LEGACY, DATA, DATAKEY, CAPSULE];
    if blob.len() < HEADER_LEN + NONCE_LEN + TAG_LEN || !known.contains(&blob[0]) {
        return Err(KmsError::InvalidCiphertext);
    }
    Ok(&blob[1..37])
}

#[allow(dead_code)] // request paths use `open_blob` with cached material
pub fn decrypt(
    keyring: &Sealer,
    key: &KeyRecord,
    blob: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let index = blob_version(blob, key)?;
    let version = key
        .version_in_record(index)
        .ok_or(KmsError::InvalidCiphertext)?;
    let material = open_version(keyring, key, version)?;
    open_blob(key, &material, blob, aad, Purpose::Data)
}

/// The version index of `key` that a well-formed blob of that key names.
pub fn blob_version(blob: &[u8], key: &KeyRecord) -> Result<usize, KmsError> {
    // Equal to a stored key's id, the field is a well-formed id: no need to
    // parse it, as `blob_key_id` does (three times a decryption, before).
    if key_id_bytes(blob)? != key.key_id.as_bytes() {
        return Err(KmsError::InvalidCiphertext);
    }
    let mut index = [0u8; 4];
    index.copy_from_slice(&blob[37..HEADER_LEN]);
    let index = u32::from_be_bytes(index) as usize;
    if index >= key.version_count {
        return Err(KmsError::InvalidCiphertext);
    }
    Ok(index)
}

/// Decrypts a blob of `key` made for `purpose` with the plaintext material
/// of the version it names.
pub fn open_blob(
    key: &KeyRecord,
    material: &[u8],
    blob: &[u8],
    aad: &[u8],
    purpose: Purpose,
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    open_blob_with(key, blob, aad, purpose, |nonce, ct, full_aad| {
        aead_open(key.key_spec, material, nonce, ct, full_aad)
    })
}

/// `open_blob` around an AEAD that runs elsewhere: `open(nonce,
/// ciphertext || tag, associated data)`.
pub fn open_blob_with(
    key: &KeyRecord,
    blob: &[u8],
    aad: &[u8],
    purpose: Purpose,
    open: impl FnOnce(&[u8], &[u8], &[u8]) -> Result<Zeroizing<Vec<u8>>, KmsError>,
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    blob_version(blob, key)?;
    if !purpose.accepts(blob[0]) {
        return Err(KmsError::InvalidCiphertext);
    }
    let (head, rest) = blob.split_at(HEADER_LEN);
    let (nonce, ct) = rest.split_at(NONCE_LEN);
    let mut full_aad = head.to_vec();
    full_aad.extend_from_slice(aad);
    open(nonce, ct, &full_aad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kms::domain::usable::check_usable;
    use crate::kms::domain::{KeyState, KeyUsage, Origin};

    /// A key record for the tests of this file (material is passed apart).
    fn tests_support_key(id: &str) -> KeyRecord {
        KeyRecord {
            key_id: id.into(),
            project_id: "p".into(),
            domain_id: "d".into(),
            key_alias: "a".into(),
            key_description: String::new(),
            key_spec: KeySpec::Aes256,
            key_usage: KeyUsage::EncryptDecrypt,
            origin: Origin::Kms,
            key_state: KeyState::Enabled,
            default_key: false,
            creation_ms: 0,
            scheduled_deletion_ms: None,
            expiration_ms: None,
            enterprise_project_id: "0".into(),
            keystore_id: "0".into(),
            tags: Default::default(),
            current: Some(KeyVersion {
                created_ms: 0,
                sealed: vec![],
            }),
            version_count: 1,
            legacy_versions: Vec::new(),
            admin: Default::default(),
            multi_region: None,
        }
    }

    fn key(spec: KeySpec, keyring: &Sealer) -> KeyRecord {
        let id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f".to_string();
        let material =
            crate::kms::crypto::material::generate(crate::kms::crypto::material::test_rng(), spec)
                .unwrap();
        KeyRecord {
            key_id: id.clone(),
            project_id: "p".into(),
            domain_id: "d".into(),
            key_alias: "a".into(),
            key_description: String::new(),
            key_spec: spec,
            key_usage: KeyUsage::EncryptDecrypt,
            origin: Origin::Kms,
            key_state: KeyState::Enabled,
            default_key: false,
            creation_ms: 0,
            scheduled_deletion_ms: None,
            expiration_ms: None,
            enterprise_project_id: "0".into(),
            keystore_id: "0".into(),
            tags: Default::default(),
            current: Some(KeyVersion {
                created_ms: 0,
                sealed: keyring.seal(&material, id.as_bytes()),
            }),
            version_count: 1,
            legacy_versions: Vec::new(),
            admin: Default::default(),
            multi_region: None,
        }
    }

    #[test]
    fn round_trip_and_tamper_for_aes_and_sm4() {
        let rng = Rng::seeded(9);
        let keyring = Sealer::new(&[9; 32], rng.clone());
        for spec in [KeySpec::Aes256, KeySpec::Sm4] {
            let k = key(spec, &keyring);
            let blob = encrypt(&rng, &keyring, &k, b"hello", b"ctx").unwrap();
            assert_eq!(
                decrypt(&keyring, &k, &blob, b"ctx").unwrap().as_slice(),
                b"hello"
            );
            assert!(matches!(
                decrypt(&keyring, &k, &blob, b"other"),
                Err(KmsError::InvalidCiphertext)
            ));
            for i in 0..blob.len() {
                let mut bad = blob.clone();
                bad[i] ^= 0x01;
                assert!(
                    decrypt(&keyring, &k, &bad, b"ctx").is_err(),
                    "{spec:?} byte {i}"
                );
            }
        }
    }

    #[test]
    fn older_versions_still_decrypt() {
        let rng = Rng::seeded(9);
        let keyring = Sealer::new(&[9; 32], rng.clone());
        let mut k = key(KeySpec::Aes256, &keyring);
        let old = encrypt(&rng, &keyring, &k, b"v0", b"").unwrap();
        let fresh = crate::kms::crypto::material::generate(
            crate::kms::crypto::material::test_rng(),
            KeySpec::Aes256,
        )
        .unwrap();
        let first = k.current.clone().unwrap();
        k.push_version(KeyVersion {
            created_ms: 1,
            sealed: keyring.seal(&fresh, k.key_id.as_bytes()),
        });
        let new = encrypt(&rng, &keyring, &k, b"v1", b"").unwrap();
        assert_eq!(&new[37..41], &1u32.to_be_bytes());
        assert_eq!(decrypt(&keyring, &k, &new, b"").unwrap().as_slice(), b"v1");
        // Version 0 left the record (its row is the store's business); with
        // its material it still opens, and names itself as version 0.
        assert_eq!(blob_version(&old, &k).unwrap(), 0);
        let material = open_version(&keyring, &k, &first).unwrap();
        let plain = open_blob(&k, &material, &old, b"", Purpose::Data).unwrap();
        assert_eq!(plain.as_slice(), b"v0");
    }

    /// Blobs written by dewstack before blobs named their purpose (commit
    /// e6c8f55, `seal_blob` with `Rng::seeded(42)`), under material `[7; 32]`
    /// of key `0d0466b0-…`, version 0: an EncryptData blob of
    /// "old encrypt-data" with associated data "ctx", and a data key
    /// ciphertext (blob + trailer) of the data key `[0x5a; 32]`.
    const OLD_DATA_HEX: &str = "d130643034363662302d653732372d346439632d623335642d663834626234373461333766000000007848b5d711bc9883996317a38d9ec30de4342ffa08f0d39df9809ff888f6470efc05e42a445091b033732982";
    const OLD_DATAKEY_HEX: &str = "d130643034363662302d653732372d346439632d623335642d66383462623437346133376600000000184939c9e8d0db2a55f292a91de4c1b705a8eae21b52c8bf051bc7a6d9ef20acd2547e406c6786b130ad2928b9944903625135d1ef03d50d1228523f30643034363662302d653732372d346439632d623335642d66383462623437346133376600000000b676e7e9544bf028654c18565968fb3175121cac7de8bf62cbcf37f168909414";

    fn fixture_key() -> KeyRecord {
        tests_support_key("0d0466b0-e727-4d9c-b35d-f84bb474a37f")
    }

    #[test]
    fn blobs_made_before_purposes_still_open_by_their_operation() {
        let k = fixture_key();
        let material = [7u8; 32];
        let data = hex::decode(OLD_DATA_HEX).unwrap();
        assert_eq!(data[0], LEGACY);
        let plain = open_blob(&k, &material, &data, b"ctx", Purpose::Data).unwrap();
        assert_eq!(plain.as_slice(), b"old encrypt-data");
        let wrapped = hex::decode(OLD_DATAKEY_HEX).unwrap();
        let (inner, id) = crate::kms::api::datakeys::unwrap_blob(&wrapped).unwrap();
        assert_eq!(id, k.key_id);
        let dek = open_blob(&k, &material, inner, b"", Purpose::Datakey).unwrap();
        assert_eq!(dek.as_slice(), &[0x5a; 32]);
    }

    #[test]
    fn new_blobs_open_only_for_their_purpose() {
        let k = fixture_key();
        let rng = Rng::seeded(3);
        let material = [7u8; 32];
        for (made, other) in [
            (Purpose::Data, Purpose::Datakey),
            (Purpose::Datakey, Purpose::Data),
            (Purpose::Capsule, Purpose::Datakey),
            (Purpose::Datakey, Purpose::Capsule),
            (Purpose::Capsule, Purpose::Data),
            (Purpose::Data, Purpose::Capsule),
        ] {
            let blob = seal_blob(&rng, &k, 0, &material, b"x", b"", made).unwrap();
            assert_ne!(blob[0], LEGACY);
            assert!(open_blob(&k, &material, &blob, b"", made).is_ok());
            assert!(matches!(
                open_blob(&k, &material, &blob, b"", other),
                Err(KmsError::InvalidCiphertext)
            ));
            // Relabelling the blob breaks its tag.
            for magic in [LEGACY, other.magic()] {
                let mut relabelled = blob.clone();
                relabelled[0] = magic;
                assert!(open_blob(&k, &material, &relabelled, b"", other).is_err());
            }
        }
    }

    #[test]
    fn blobs_made_before_purposes_never_open_as_capsules() {
        let k = fixture_key();
        let material = [7u8; 32];
        let data = hex::decode(OLD_DATA_HEX).unwrap();
        assert!(matches!(
            open_blob(&k, &material, &data, b"ctx", Purpose::Capsule),
            Err(KmsError::InvalidCiphertext)
        ));
        let wrapped = hex::decode(OLD_DATAKEY_HEX).unwrap();
        let (inner, _) = crate::kms::api::datakeys::unwrap_blob(&wrapped).unwrap();
        assert!(!made_for(inner, Purpose::Capsule));
        assert!(open_blob(&k, &material, inner, b"", Purpose::Capsule).is_err());
    }

    #[test]
    fn unusable_states_refuse() {
        let rng = Rng::seeded(9);
        let keyring = Sealer::new(&[9; 32], rng.clone());
        let mut k = key(KeySpec::Aes256, &keyring);
        assert!(check_usable(&k, KeyUsage::EncryptDecrypt).is_ok());
        assert!(check_usable(&k, KeyUsage::SignVerify).is_err());
        k.key_state = KeyState::Disabled;
        assert!(matches!(
            check_usable(&k, KeyUsage::EncryptDecrypt),
            Err(KmsError::KeyDisabled)
        ));
        k.key_state = KeyState::PendingDeletion;
        assert!(matches!(
            check_usable(&k, KeyUsage::EncryptDecrypt),
            Err(KmsError::KeyPendingDeletionUnusable)
        ));
    }
}
