//! Encryption under any ENCRYPT_DECRYPT key, symmetric or asymmetric: the
//! core of EncryptData, DecryptData, ReEncrypt and the cross-service calls.

use crate::kms::access::{self, Requester};
use crate::kms::crypto::asymmetric::{self, EncAlg};
use crate::kms::crypto::blob::{self, Purpose};
use crate::kms::domain::grants::op;
use crate::kms::domain::usable::check_usable;
use crate::kms::domain::KeyUsage;
use crate::kms::error::KmsError;
use crate::kms::store::KeyRecord;
use crate::server::state::AppState;
use zeroize::Zeroizing;

fn no_aad_for_asymmetric(aad: &[u8]) -> Result<(), KmsError> {
    if aad.is_empty() {
        Ok(())
    } else {
        Err(KmsError::InvalidParameter("additional_authenticated_data"))
    }
}

/// Encrypts under the newest version of an enabled key that fits `alg`.
pub async fn encrypt_under(
    app: &AppState,
    key: &KeyRecord,
    alg: EncAlg,
    plaintext: &[u8],
    aad: &[u8],
) -> Result<EncryptJob, KmsError> {
    check_usable(key, KeyUsage::EncryptDecrypt)?;
    if !alg.fits(key.key_spec) {
        return Err(KmsError::InvalidParameter("encryption_algorithm"));
    }
    if alg == EncAlg::Symmetric {
        return super::dispatch::seal(app, key, plaintext, aad, Purpose::Data)
            .await
            .map(EncryptJob::Done);
    }
    no_aad_for_asymmetric(aad)?;
    let (_, material) = access::newest(app, key)?;
    let private = material.parsed(key.key_spec)?;
    let plaintext = Zeroizing::new(plaintext.to_vec());
    let rng = app.rng.clone();
    Ok(EncryptJob::Asymmetric(Box::new(move || {
        asymmetric::encrypt(&rng, private.key(), alg, &plaintext)
    })))
}

/// A finished symmetric ciphertext, or asymmetric work still to run.
pub enum EncryptJob {
    Done(Vec<u8>),
    Asymmetric(Box<dyn FnOnce() -> Result<Vec<u8>, KmsError> + Send>),
}

impl EncryptJob {
    pub async fn run(self) -> Result<Vec<u8>, KmsError> {
        match self {
            EncryptJob::Done(ct) => Ok(ct),
            EncryptJob::Asymmetric(f) => super::dispatch::blocking(f).await,
        }
    }
}

/// Encrypts `plaintext` under `key_id` of `project`. Other services (CSMS)
/// act within their own project, where grants play no part.
pub async fn encrypt(
    app: &AppState,
    project: &str,
    key_id: &str,
    alg: EncAlg,
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let who = Requester::service(project);
    let key = access::usable_key(app, &who, key_id, op::ENCRYPT_DATA, None).await?;
    encrypt_under(app, &key, alg, plaintext, aad)
        .await?
        .run()
        .await
}

/// Decrypts with an already loaded key.
pub async fn decrypt_under(
    app: &AppState,
    key: &KeyRecord,
    alg: EncAlg,
    ciphertext: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    check_usable(key, KeyUsage::EncryptDecrypt)?;
    if !alg.fits(key.key_spec) {
        return Err(KmsError::InvalidParameter("encryption_algorithm"));
    }
    if alg == EncAlg::Symmetric {
        return super::dispatch::open(app, key, ciphertext, aad, Purpose::Data).await;
    }
    no_aad_for_asymmetric(aad)?;
    let (_, material) = access::newest(app, key)?;
    let private = material.parsed(key.key_spec)?;
    let ct = ciphertext.to_vec();
    let rng = app.rng.clone();
    super::dispatch::blocking(move || asymmetric::decrypt(&rng, private.key(), alg, &ct)).await
}

/// The key a ciphertext is for: symmetric blobs name their key (a given
/// `key_id` must agree); asymmetric ciphertexts need `key_id`.
pub fn target_key_id(
    alg: EncAlg,
    key_id: Option<&str>,
    ciphertext: &[u8],
) -> Result<String, KmsError> {
    if alg == EncAlg::Symmetric {
        let named = blob::blob_key_id(ciphertext)?;
        if key_id.is_some_and(|given| given != named) {
            return Err(KmsError::InvalidCiphertext);
        }
        Ok(named)
    } else {
        Ok(key_id
            .ok_or(KmsError::MissingParameter("key_id"))?
            .to_owned())
    }
}

/// Decrypts within `project`. Symmetric blobs name their key (a given
/// `key_id` must agree); asymmetric ciphertexts need `key_id`. A blob of
/// another project names a key that is not found here, exactly like a forged one.
/// Like `encrypt`, for other services: requests of callers go through grants.
pub async fn decrypt(
    app: &AppState,
    project: &str,
    key_id: Option<&str>,
    alg: EncAlg,
    ciphertext: &[u8],
    aad: &[u8],
) -> Result<(String, Zeroizing<Vec<u8>>), KmsError> {
    let key_id = target_key_id(alg, key_id, ciphertext)?;
    let who = Requester::service(project);
    let key = match alg {
        EncAlg::Symmetric => {
            let invalid = KmsError::InvalidCiphertext;
            access::key_named_by_blob(app, &who, &key_id, op::DECRYPT_DATA, invalid).await?
        }
        _ => access::usable_key(app, &who, &key_id, op::DECRYPT_DATA, None).await?,
    };
    let plain = decrypt_under(app, &key, alg, ciphertext, aad).await?;
    Ok((key_id, plain))
}
