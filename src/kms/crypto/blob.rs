//! Symmetric encryption under a key's material, and the ciphertext blob that
//! lets DecryptData find its key without being told.
//!
//! Blob: `0xD1 | key_id (36 ASCII) | version index (u32 BE) | nonce (12) | ciphertext+tag`.
//! The 41-byte header is part of the associated data, so a blob cannot be
//! re-pointed at another key or version; the caller's
//! `additional_authenticated_data` follows it.

use crate::common::crypto::{random_bytes, Sealer};
use crate::kms::domain::KeySpec;
use crate::kms::error::KmsError;
use crate::kms::store::{KeyRecord, KeyVersion};
use crate::rng::Rng;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm, Nonce};
use zeroize::Zeroizing;

const MAGIC: u8 = 0xD1;
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

fn header(key_id: &str, version: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.push(MAGIC);
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
    let index = key
        .versions
        .len()
        .checked_sub(1)
        .ok_or(KmsError::KeyNotEnabled)?;
    let material = open_version(keyring, key, &key.versions[index])?;
    seal_blob(rng, key, index, &material, plaintext, aad)
}

/// Encrypts under version `index` of `key`, whose plaintext material is given.
pub fn seal_blob(
    rng: &Rng,
    key: &KeyRecord,
    index: usize,
    material: &[u8],
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let head = header(&key.key_id, index as u32);
    let nonce = random_bytes(rng, NONCE_LEN);
    let mut full_aad = head.clone();
    full_aad.extend_from_slice(aad);
    let ct = aead_seal(key.key_spec, material, &nonce, plaintext, &full_aad)?;
    let mut blob = head;
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&ct);
    Ok(blob)
}

/// The key id a blob names, if the blob is well-formed at all.
pub fn blob_key_id(blob: &[u8]) -> Result<String, KmsError> {
    if blob.len() < HEADER_LEN + NONCE_LEN + TAG_LEN || blob[0] != MAGIC {
        return Err(KmsError::InvalidCiphertext);
    }
    let id = std::str::from_utf8(&blob[1..37]).map_err(|_| KmsError::InvalidCiphertext)?;
    crate::kms::domain::parse_key_id(Some(id)).map_err(|_| KmsError::InvalidCiphertext)
}

#[allow(dead_code)] // request paths use `open_blob` with cached material
pub fn decrypt(
    keyring: &Sealer,
    key: &KeyRecord,
    blob: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let index = blob_version(blob, key)?;
    let version = key.versions.get(index).ok_or(KmsError::InvalidCiphertext)?;
    let material = open_version(keyring, key, version)?;
    open_blob(key, &material, blob, aad)
}

/// The version index of `key` that a well-formed blob of that key names.
pub fn blob_version(blob: &[u8], key: &KeyRecord) -> Result<usize, KmsError> {
    if blob_key_id(blob)? != key.key_id {
        return Err(KmsError::InvalidCiphertext);
    }
    let mut index = [0u8; 4];
    index.copy_from_slice(&blob[37..HEADER_LEN]);
    let index = u32::from_be_bytes(index) as usize;
    if index >= key.versions.len() {
        return Err(KmsError::InvalidCiphertext);
    }
    Ok(index)
}

/// Decrypts a blob of `key` with the plaintext material of the version it names.
pub fn open_blob(
    key: &KeyRecord,
    material: &[u8],
    blob: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    blob_version(blob, key)?;
    let (head, rest) = blob.split_at(HEADER_LEN);
    let (nonce, ct) = rest.split_at(NONCE_LEN);
    let mut full_aad = head.to_vec();
    full_aad.extend_from_slice(aad);
    aead_open(key.key_spec, material, nonce, ct, &full_aad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kms::domain::usable::check_usable;
    use crate::kms::domain::{KeyState, KeyUsage, Origin};

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
            versions: vec![KeyVersion {
                created_ms: 0,
                sealed: keyring.seal(&material, id.as_bytes()),
            }],
            admin: Default::default(),
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
        k.versions.push(KeyVersion {
            created_ms: 1,
            sealed: keyring.seal(&fresh, k.key_id.as_bytes()),
        });
        let new = encrypt(&rng, &keyring, &k, b"v1", b"").unwrap();
        assert_eq!(&new[37..41], &1u32.to_be_bytes());
        assert_eq!(decrypt(&keyring, &k, &old, b"").unwrap().as_slice(), b"v0");
        assert_eq!(decrypt(&keyring, &k, &new, b"").unwrap().as_slice(), b"v1");
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
