//! The one place that runs a key's cryptography where its material is:
//! in software on unsealed material, or in the PKCS#11 token of its key
//! store (`access::held`). Symmetric blobs keep one format either way
//! (`crypto::blob`, with the AES-GCM done in the token), so a ciphertext
//! names its key whatever holds it.

use crate::kms::access::{self, Held, TokenKey};
use crate::kms::crypto::blob::{self, Purpose};
use crate::kms::crypto::sign::{self, MessageType, SignAlg};
use crate::kms::crypto::{asymmetric, ec_point, mac};
use crate::kms::domain::KeySpec;
use crate::kms::error::KmsError;
use crate::kms::hsm::ops;
use crate::kms::store::KeyRecord;
use crate::server::state::AppState;
use zeroize::Zeroizing;

/// Runs work of milliseconds (RSA/SM2, a token call) off the async workers.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, KmsError> + Send + 'static,
) -> Result<T, KmsError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| KmsError::Internal("crypto task failed".into()))?
}

/// Makes the material of a new key `key_id` of `spec` inside the token of
/// key store `keystore_id` of `project`, which must be enabled. A spec the
/// token's mechanisms cannot serve is refused like any spec the key store
/// does not offer.
pub async fn generate_in_token(
    app: &AppState,
    project: &str,
    keystore_id: &str,
    key_id: &str,
    spec: KeySpec,
) -> Result<(), KmsError> {
    let (p, id) = (project.to_owned(), keystore_id.to_owned());
    let ks = app
        .db
        .read(move |tx| crate::kms::store::keystores::load(tx, &p, &id))
        .await?;
    ks.state.check_usable()?;
    let token = app
        .hsm
        .get(&ks.hsm_cluster_id)
        .ok_or(KmsError::HsmUnavailable)?
        .clone();
    let offered = ops::mechanisms(spec).is_some_and(|m| m.iter().all(|m| token.supports(*m)));
    if !offered {
        return Err(KmsError::InvalidParameter("key_spec"));
    }
    let key_id = key_id.to_owned();
    token.run(move |s| ops::generate(s, &key_id, spec)).await
}

/// Removes the material of `key` from its token, if it is in one whose
/// key store and token still exist (a purged key, or a key whose record
/// could not be written).
pub async fn destroy_in_token(app: &AppState, key: &KeyRecord) -> Result<(), KmsError> {
    if !access::in_token(key) {
        return Ok(());
    }
    let (p, id) = (key.project_id.clone(), key.keystore_id.clone());
    let ks = app
        .db
        .read(move |tx| crate::kms::store::keystores::find(tx, &p, &id))
        .await?;
    let Some(token) = ks.and_then(|ks| app.hsm.get(&ks.hsm_cluster_id).cloned()) else {
        return Ok(());
    };
    let key_id = key.key_id.clone();
    token.run(move |s| ops::destroy(s, &key_id)).await
}

/// A blob of `purpose` under the newest version of a symmetric key.
pub async fn seal(
    app: &AppState,
    key: &KeyRecord,
    plaintext: &[u8],
    aad: &[u8],
    purpose: Purpose,
) -> Result<Vec<u8>, KmsError> {
    let (index, held) = access::newest_held(app, key).await?;
    match held {
        Held::Soft(m) => blob::seal_blob(&app.rng, key, index, &m, plaintext, aad, purpose),
        Held::Token(TokenKey { token, key_id }) => {
            let (rng, key) = (app.rng.clone(), key.clone());
            let (plaintext, aad) = (Zeroizing::new(plaintext.to_vec()), aad.to_vec());
            token
                .run(move |s| {
                    blob::seal_blob_with(&rng, &key, index, &plaintext, &aad, purpose, |n, p, a| {
                        ops::gcm_seal(s, &key_id, n, p, a)
                    })
                })
                .await
        }
    }
}

/// Opens a blob of `purpose` of `key`, with the version it names.
pub async fn open(
    app: &AppState,
    key: &KeyRecord,
    ciphertext: &[u8],
    aad: &[u8],
    purpose: Purpose,
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let index = blob::blob_version(ciphertext, key)?;
    match access::held(app, key, index).await? {
        Held::Soft(m) => blob::open_blob(key, &m, ciphertext, aad, purpose),
        Held::Token(TokenKey { token, key_id }) => {
            let (key, ct, aad) = (key.clone(), ciphertext.to_vec(), aad.to_vec());
            token
                .run(move |s| {
                    blob::open_blob_with(&key, &ct, &aad, purpose, |n, c, a| {
                        ops::gcm_open(s, &key_id, n, c, a)
                    })
                })
                .await
        }
    }
}

/// The HMAC of `message` under the newest version of an HMAC key.
pub async fn mac(app: &AppState, key: &KeyRecord, message: &[u8]) -> Result<Vec<u8>, KmsError> {
    let spec = key.key_spec;
    match access::newest_held(app, key).await?.1 {
        Held::Soft(m) => mac::compute(spec, &m, message),
        Held::Token(TokenKey { token, key_id }) => {
            let message = message.to_vec();
            token
                .run(move |s| ops::hmac(s, &key_id, spec, &message))
                .await
        }
    }
}

/// Whether `tag` is the HMAC of `message`; compared in constant time.
pub async fn verify_mac(
    app: &AppState,
    key: &KeyRecord,
    message: &[u8],
    tag: &[u8],
) -> Result<bool, KmsError> {
    let spec = key.key_spec;
    match access::newest_held(app, key).await?.1 {
        Held::Soft(m) => mac::verify(spec, &m, message, tag),
        Held::Token(TokenKey { token, key_id }) => {
            use subtle::ConstantTimeEq;
            let message = message.to_vec();
            let expected = token
                .run(move |s| ops::hmac(s, &key_id, spec, &message))
                .await?;
            Ok(expected.len() == tag.len() && bool::from(expected.ct_eq(tag)))
        }
    }
}

/// Signs with the newest version of an asymmetric key.
pub async fn sign(
    app: &AppState,
    key: &KeyRecord,
    alg: SignAlg,
    kind: MessageType,
    message: Vec<u8>,
) -> Result<Vec<u8>, KmsError> {
    let spec = key.key_spec;
    match access::newest_held(app, key).await?.1 {
        Held::Soft(m) => {
            let private = m.parsed(spec)?;
            let rng = app.rng.clone();
            // RSA signing takes milliseconds: keep it off the async workers.
            // An elliptic-curve signature takes tens of microseconds, less
            // than the hop to a blocking thread and back costs under load.
            if matches!(private.key(), asymmetric::PrivateKey::Rsa(_)) {
                blocking(move || private.sign(&rng, alg, kind, &message)).await
            } else {
                private.sign(&rng, alg, kind, &message)
            }
        }
        Held::Token(TokenKey { token, key_id }) => {
            let digest = sign::ecdsa_digest(alg, kind, &message)?;
            token
                .run(move |s| ops::ecdsa_sign(s, &key_id, spec, &digest))
                .await
        }
    }
}

/// Whether `sig` is a valid signature of `message` by an asymmetric key.
pub async fn verify(
    app: &AppState,
    key: &KeyRecord,
    alg: SignAlg,
    kind: MessageType,
    message: &[u8],
    sig: &[u8],
) -> Result<bool, KmsError> {
    let spec = key.key_spec;
    match access::newest_held(app, key).await?.1 {
        Held::Soft(m) => m.parsed(spec)?.verify(alg, kind, message, sig),
        Held::Token(token_key) => {
            let digest = sign::ecdsa_digest(alg, kind, message)?;
            let point = token_point(token_key).await?;
            Ok(ec_point::ecdsa_verify_point(spec, &point, &digest, sig))
        }
    }
}

async fn token_point(TokenKey { token, key_id }: TokenKey) -> Result<Vec<u8>, KmsError> {
    token.run(move |s| ops::ec_point(s, &key_id)).await
}

/// The SubjectPublicKeyInfo DER of an asymmetric key.
pub async fn public_der(app: &AppState, key: &KeyRecord) -> Result<Vec<u8>, KmsError> {
    let spec: KeySpec = key.key_spec;
    match access::newest_held(app, key).await?.1 {
        Held::Soft(m) => m.parsed(spec)?.public_der(),
        Held::Token(token_key) => ec_point::ec_spki(spec, &token_point(token_key).await?),
    }
}
