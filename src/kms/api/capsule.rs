//! CreateDatakeyCapsule and DecryptDatakeyCapsule.
//!
//! A capsule is a new data key sealed under a symmetric ENCRYPT_DECRYPT key,
//! laid out like a data key ciphertext (`datakey` module doc) but base64
//! rather than hex, and sealed as a blob of its own purpose (`Capsule`, the
//! authenticated magic byte of `crypto/blob.rs`), so that a capsule and a
//! DecryptDatakey ciphertext cannot stand in for each other whatever
//! associated data is passed: a grantee allowed decrypt-datakey cannot open
//! a capsule, nor one allowed decrypt-datakey-capsule a data key. Capsules
//! made before that are data key blobs under a fixed associated data
//! (`datakeys::LEGACY_CAPSULE_AAD`, reserved since); they still open here.
//! The data key comes back in plaintext (`datakey`), or, when the caller
//! gives an RSA public key, RSAES-OAEP-SHA-256-encrypted to it
//! (`datakey_cipher`); both base64, like every binary value of these APIs.
//!
//! The cloud ties capsules to its key-space features: a key policy
//! (`policy_id` or an inline `key_policy`) on creation, which then decides
//! who may open the capsule (`domain::capsule`: the binding is sealed inside
//! the capsule, the policy evaluated on DecryptDatakeyCapsule), and an access
//! point's attestation (`attestation_document`) on decryption. dewstack has
//! no attestation service, and ignoring an attestation the caller relies on
//! would hand out keys it meant to restrict, so that field is refused when
//! present; a request proves its access point as every KMS request does
//! (`access_points::prove_access_point`). For the same reason the decryption
//! answer has no `instance_id`: the docstring defines it as the ECS, CCE
//! cluster or access point the attestation names.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::crypto::random_bytes;
use crate::common::json::Json;
use crate::kms::api::datakeys;
use crate::kms::crypto::blob::{self, Purpose};
use crate::kms::crypto::derive::public_key_der;
use crate::kms::domain::capsule::{self, Binding};
use crate::kms::domain::grants::op;
use crate::kms::domain::policy;
use crate::kms::error::KmsError;
use crate::kms::store::keyspaces;
use crate::kms::store::KeyRecord;
use crate::kms::wire::*;
use crate::rng::Rng;
use crate::server::state::AppState;
use axum::extract::State;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, RsaPublicKey};
use zeroize::Zeroizing;

const MIN_RSA_BITS: usize = 2048;

fn b64(bytes: &[u8]) -> String {
    crate::common::b64::encode(bytes)
}

/// Bytes of the new data key: the API allows exactly 128 or 256 bits.
fn datakey_bytes(raw: Option<&str>) -> Result<usize, KmsError> {
    match raw.map(str::trim) {
        None | Some("") => Err(KmsError::MissingParameter("datakey_length")),
        Some("128") => Ok(16),
        Some("256") => Ok(32),
        Some(_) => Err(KmsError::InvalidParameter("datakey_length")),
    }
}

/// The caller's RSA public key (base64 DER SubjectPublicKeyInfo, or PEM).
fn recipient_key(raw: Option<&str>) -> Result<Option<RsaPublicKey>, KmsError> {
    let Some(raw) = raw.filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    let der = public_key_der(Some(raw))?;
    let key = RsaPublicKey::from_public_key_der(&der)
        .map_err(|_| KmsError::InvalidParameter("public_key"))?;
    if key.size() * 8 < MIN_RSA_BITS {
        return Err(KmsError::InvalidParameter("public_key"));
    }
    Ok(Some(key))
}

/// `datakey` or `datakey_cipher`, as the request asked.
fn hand_out(
    rng: &Rng,
    dek: &[u8],
    to: Option<&RsaPublicKey>,
) -> Result<(Option<String>, Option<String>), KmsError> {
    match to {
        None => Ok((Some(b64(dek)), None)),
        Some(pk) => {
            let ct = pk
                .encrypt(&mut rng.csprng(), Oaep::new::<sha2::Sha256>(), dek)
                .map_err(|_| KmsError::InvalidParameter("public_key"))?;
            Ok((None, Some(b64(&ct))))
        }
    }
}

/// A new capsule of `dek`, bound to `binding`, under the newest version of `key`.
async fn seal_capsule(
    app: &AppState,
    key: &KeyRecord,
    binding: &Binding,
    dek: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let text = binding.seal_text(dek);
    datakeys::seal_wrapped_as(app, key, &text, b"", Purpose::Capsule).await
}

/// The document a capsule of `key` is bound to, as it is now (None: a
/// policy id that no longer names a policy of the key's project).
async fn bound_document(
    app: &AppState,
    key: &KeyRecord,
    binding: Binding,
) -> Result<Option<policy::PolicyDocument>, KmsError> {
    match binding {
        Binding::None => Ok(None),
        Binding::Inline(doc) => policy::parse(&doc)
            .map(Some)
            .map_err(|_| KmsError::InvalidDatakeyCiphertext),
        Binding::Policy(id) => {
            let project = key.project_id.clone();
            let found = app
                .db
                .read(move |tx| keyspaces::find_policy(tx, &project, &id))
                .await?;
            Ok(found.map(|p| p.document))
        }
    }
}

/// The data key in a capsule of `key`: one of its own purpose, or one made
/// before capsules had it (a data key blob under the reserved associated data).
async fn open_capsule(
    app: &AppState,
    key: &KeyRecord,
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let (inner, _) = datakeys::unwrap_blob(wrapped)?;
    if blob::made_for(inner, Purpose::Capsule) {
        return datakeys::open_wrapped_as(app, key, wrapped, b"", Purpose::Capsule).await;
    }
    let legacy = datakeys::LEGACY_CAPSULE_AAD;
    datakeys::open_wrapped_as(app, key, wrapped, legacy, Purpose::Datakey).await
}

pub async fn create_datakey_capsule(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<CreateDatakeyCapsuleRequest, KmsError>,
) -> Result<Json<CreateDatakeyCapsuleResponse>, KmsError> {
    let binding = Binding::from_request(req.policy_id.as_deref(), req.key_policy.as_deref())?;
    let len = datakey_bytes(req.datakey_length.as_deref())?;
    let to = recipient_key(req.public_key.as_deref())?;
    let key = datakeys::wrapping_key(
        &app,
        &caller,
        req.key_id.as_deref(),
        op::CREATE_DATAKEY_CAPSULE,
    )
    .await?;
    if let Binding::Policy(id) = &binding {
        // The policy must exist in the key's project (404 otherwise).
        let (project, id) = (key.project_id.clone(), id.clone());
        app.db
            .read(move |tx| keyspaces::load_policy(tx, &project, &id))
            .await?;
    }
    let dek = random_bytes(&app.rng, len);
    let capsule = seal_capsule(&app, &key, &binding, &dek).await?;
    let (datakey, datakey_cipher) = hand_out(&app.rng, &dek, to.as_ref())?;
    Ok(Json(CreateDatakeyCapsuleResponse {
        key_id: key.key_id,
        datakey,
        datakey_cipher,
        datakey_capsule: b64(&capsule),
    }))
}

pub async fn decrypt_datakey_capsule(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<DecryptDatakeyCapsuleRequest, KmsError>,
) -> Result<Json<DecryptDatakeyCapsuleResponse>, KmsError> {
    if req
        .attestation_document
        .as_ref()
        .is_some_and(|d| !d.is_null())
    {
        return Err(KmsError::Unsupported(
            "attestation_document (access point attestation)",
        ));
    }
    let raw = req
        .datakey_capsule
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or(KmsError::MissingParameter("datakey_capsule"))?;
    let wrapped =
        crate::common::b64::decode(raw.trim()).map_err(|_| KmsError::InvalidDatakeyCiphertext)?;
    let to = recipient_key(req.public_key.as_deref())?;
    let key = datakeys::wrapping_key(
        &app,
        &caller,
        req.key_id.as_deref(),
        op::DECRYPT_DATAKEY_CAPSULE,
    )
    .await?;
    let (binding, dek) = Binding::open_text(&open_capsule(&app, &key, &wrapped).await?)?;
    if binding != Binding::None {
        let document = bound_document(&app, &key, binding).await?;
        let request = policy::Request {
            operation: op::DECRYPT_DATAKEY_CAPSULE,
            key_id: &key.key_id,
            key_domain: &key.domain_id,
            access_point: caller.access_point.as_deref(),
            now_ms: app.clock.now().timestamp_millis(),
        };
        capsule::may_open(document.as_ref(), &request)?;
    }
    let (datakey, datakey_cipher) = hand_out(&app.rng, &dek, to.as_ref())?;
    Ok(Json(DecryptDatakeyCapsuleResponse {
        key_id: key.key_id,
        datakey,
        datakey_cipher,
    }))
}

#[cfg(test)]
#[path = "capsule_tests.rs"]
mod purpose_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kms::crypto::material::test_rng;
    use rsa::pkcs8::EncodePublicKey;
    use rsa::RsaPrivateKey;

    #[test]
    fn datakey_length_is_128_or_256() {
        assert_eq!(datakey_bytes(Some("128")).unwrap(), 16);
        assert_eq!(datakey_bytes(Some("256")).unwrap(), 32);
        assert!(matches!(
            datakey_bytes(None),
            Err(KmsError::MissingParameter(_))
        ));
        for bad in ["512", "0", "abc", "-128"] {
            assert!(datakey_bytes(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn datakey_cipher_opens_with_the_private_key() {
        let sk = RsaPrivateKey::new(&mut test_rng().csprng(), 2048).unwrap();
        let der = sk.to_public_key().to_public_key_der().unwrap();
        let to = recipient_key(Some(&b64(der.as_bytes()))).unwrap().unwrap();
        let (plain, cipher) = hand_out(test_rng(), b"0123456789abcdef", Some(&to)).unwrap();
        assert!(plain.is_none());
        let ct = crate::common::b64::decode(cipher.unwrap()).unwrap();
        let back = sk.decrypt(Oaep::new::<sha2::Sha256>(), &ct).unwrap();
        assert_eq!(back, b"0123456789abcdef");
        assert_eq!(
            hand_out(test_rng(), b"k", None).unwrap(),
            (Some(b64(b"k")), None)
        );
    }

    #[test]
    fn recipient_must_be_an_rsa_key_of_2048_bits_or_more() {
        assert!(recipient_key(None).unwrap().is_none());
        assert!(recipient_key(Some("")).unwrap().is_none());
        let small = RsaPrivateKey::new(&mut test_rng().csprng(), 1024).unwrap();
        let der = small.to_public_key().to_public_key_der().unwrap();
        assert!(recipient_key(Some(&b64(der.as_bytes()))).is_err());
        let ec = p256::SecretKey::random(&mut test_rng().csprng()).public_key();
        let der = p256::pkcs8::EncodePublicKey::to_public_key_der(&ec).unwrap();
        assert!(recipient_key(Some(&b64(der.as_bytes()))).is_err());
        assert!(recipient_key(Some("not base64!")).is_err());
    }
}
