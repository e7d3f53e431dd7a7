//! CreateRsaDatakeyPair and CreateEcDatakeyPair: a fresh key pair whose
//! private half comes back encrypted under a symmetric CMK.
//!
//! Encodings: `public_key` is base64 SubjectPublicKeyInfo DER,
//! `private_key_plain_text` base64 PKCS#8 DER, and `private_key_cipher_text`
//! the PKCS#8 DER encrypted exactly as EncryptData would (base64 blob), so
//! DecryptData with the same additional_authenticated_data returns it.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::kms::api::datakeys;
use crate::kms::crypto::asymmetric;
use crate::kms::crypto::blob::Purpose;
use crate::kms::crypto::material;
use crate::kms::domain::grants::op;
use crate::kms::domain::{self, KeySpec};
use crate::kms::error::KmsError;
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::State;

const MAX_AAD_BYTES: usize = 128;

fn rsa_spec(raw: &str) -> Result<KeySpec, KmsError> {
    match raw {
        "RSA_2048" => Ok(KeySpec::Rsa2048),
        "RSA_3072" => Ok(KeySpec::Rsa3072),
        "RSA_4096" => Ok(KeySpec::Rsa4096),
        _ => Err(KmsError::InvalidParameter("key_spec")),
    }
}

fn ec_spec(raw: &str) -> Result<KeySpec, KmsError> {
    match raw {
        "ECC_NIST_P256" => Ok(KeySpec::EcP256),
        "ECC_NIST_P384" => Ok(KeySpec::EcP384),
        "ECC_SECG_P256K1" => Ok(KeySpec::Secp256k1),
        "SM2" => Ok(KeySpec::Sm2),
        "ECC_NIST_P521" => Ok(KeySpec::EcP521),
        _ => Err(KmsError::InvalidParameter("key_spec")),
    }
}

async fn create_pair(
    app: AppState,
    caller: &Caller,
    req: CreateDatakeyPairRequest,
    parse_spec: fn(&str) -> Result<KeySpec, KmsError>,
) -> Result<CreateDatakeyPairResponse, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    // `pin`/`pin_type`: see `domain::check_pin_type`.
    domain::check_pin_type(req.pin_type.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let spec_name = req
        .key_spec
        .clone()
        .ok_or(KmsError::MissingParameter("key_spec"))?;
    let spec = parse_spec(&spec_name)?;
    let aad = req.additional_authenticated_data.unwrap_or_default();
    if aad.len() > MAX_AAD_BYTES {
        return Err(KmsError::InvalidParameter("additional_authenticated_data"));
    }
    let with_plain_text = req.with_plain_text.unwrap_or(true);
    // A key pair is a data key of another kind: a grant allows it as it
    // allows the data key call that returns the same halves.
    let operation = if with_plain_text {
        op::CREATE_DATAKEY
    } else {
        op::CREATE_DATAKEY_WITHOUT_PLAINTEXT
    };
    let key = datakeys::wrapping_key(&app, caller, Some(&key_id), operation).await?;
    // RSA key generation takes up to seconds.
    let rng = app.rng.clone();
    let (private_der, public_der) = super::keygen::generate(move || {
        let der = material::generate(&rng, spec)
            .map_err(|_| KmsError::Internal("key pair generation failed".into()))?;
        let public = asymmetric::parse_private(spec, &der)?.public_der()?;
        Ok::<_, KmsError>((der, public))
    })
    .await?;
    let blob =
        super::dispatch::seal(&app, &key, &private_der, aad.as_bytes(), Purpose::Data).await?;
    use crate::common::b64;
    Ok(CreateDatakeyPairResponse {
        key_id,
        key_spec: spec_name,
        public_key: b64::encode(public_der),
        private_key_cipher_text: b64::encode(blob),
        private_key_plain_text: with_plain_text.then(|| b64::encode(private_der.as_slice())),
    })
}

pub async fn create_rsa_datakey_pair(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<CreateDatakeyPairRequest, KmsError>,
) -> Result<Json<CreateDatakeyPairResponse>, KmsError> {
    create_pair(app, &caller, req, rsa_spec).await.map(Json)
}

pub async fn create_ec_datakey_pair(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<CreateDatakeyPairRequest, KmsError>,
) -> Result<Json<CreateDatakeyPairResponse>, KmsError> {
    create_pair(app, &caller, req, ec_spec).await.map(Json)
}
