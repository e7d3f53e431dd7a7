//! ReEncrypt: decrypt under the source key and encrypt under the destination
//! key in one call; the plaintext never leaves the server.
//!
//! `cipher_text` is what EncryptData returned (base64), or, when
//! `datakey_cipher_length` is given, a data key's hex `cipher_text`; a data
//! key re-encrypted under a symmetric key keeps the data key format.
//!
//! The cloud has no grant operation of its own for ReEncrypt: a grantee needs
//! what the two halves would need as separate calls, decrypt-data (or
//! decrypt-datakey) on the source key and encrypt-data (or encrypt-datakey,
//! when the data key format is kept) on the destination key.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::kms::access::{self, Requester};
use crate::kms::api::data;
use crate::kms::api::datakeys;
use crate::kms::api::encryption;
use crate::kms::crypto::asymmetric::EncAlg;
use crate::kms::domain;
use crate::kms::domain::grants::op;
use crate::kms::domain::usable::check_usable;
use crate::kms::error::KmsError;
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::State;
use zeroize::Zeroizing;

const MAX_AAD_BYTES: usize = 128;

fn aad(raw: &Option<String>, field: &'static str) -> Result<Vec<u8>, KmsError> {
    let bytes = raw.as_deref().unwrap_or("").as_bytes();
    if bytes.len() > MAX_AAD_BYTES {
        return Err(KmsError::InvalidParameter(field));
    }
    Ok(bytes.to_vec())
}

/// A ReEncrypt request, parsed.
struct ReEncryption {
    src_alg: EncAlg,
    dst_alg: EncAlg,
    dst_id: String,
    src_given: Option<String>,
    src_aad: Vec<u8>,
    dst_aad: Vec<u8>,
    text: String,
    /// Set when `cipher_text` is a data key ciphertext of this many bytes.
    datakey_len: Option<usize>,
}

fn parse(req: ReEncryptRequest) -> Result<ReEncryption, KmsError> {
    let src_alg = EncAlg::parse(req.source_encryption_algorithm.as_deref())?;
    let dst_alg = EncAlg::parse(req.destination_encryption_algorithm.as_deref())?;
    let dst_id = domain::parse_key_id(req.destination_key_id.as_deref())?;
    let src_given = req
        .source_key_id
        .as_deref()
        .map(|id| domain::parse_key_id(Some(id)))
        .transpose()?;
    let src_aad = aad(
        &req.source_additional_authenticated_data,
        "source_additional_authenticated_data",
    )?;
    let dst_aad = aad(
        &req.destination_additional_authenticated_data,
        "destination_additional_authenticated_data",
    )?;
    let text = req
        .cipher_text
        .as_deref()
        .ok_or(KmsError::MissingParameter("cipher_text"))?
        .trim()
        .to_owned();
    let datakey_len = req
        .datakey_cipher_length
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| KmsError::DatakeyCipherLength)
        })
        .transpose()?;
    Ok(ReEncryption {
        src_alg,
        dst_alg,
        dst_id,
        src_given,
        src_aad,
        dst_aad,
        text,
        datakey_len,
    })
}

pub async fn re_encrypt(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<ReEncryptRequest, KmsError>,
) -> Result<Json<ReEncryptResponse>, KmsError> {
    let job = parse(req)?;
    Ok(Json(reencrypt(&app, &caller, job).await?))
}

/// Opens the ciphertext under its source key and seals the plaintext under
/// the destination key.
async fn reencrypt(
    app: &AppState,
    caller: &Caller,
    job: ReEncryption,
) -> Result<ReEncryptResponse, KmsError> {
    let (src_id, plain) = match job.datakey_len {
        Some(len) => open_datakey(app, caller, &job, len).await?,
        None => open_data(app, caller, &job).await?,
    };
    let cipher_text = seal(app, caller, &job, &plain).await?;
    Ok(ReEncryptResponse {
        key_id: job.dst_id,
        source_key_id: src_id,
        source_encryption_algorithm: job.src_alg.as_str().to_owned(),
        destination_encryption_algorithm: job.dst_alg.as_str().to_owned(),
        cipher_text,
    })
}

type Opened = (String, Zeroizing<Vec<u8>>);

/// The source is a data key ciphertext (hex) of `len` bytes.
async fn open_datakey(
    app: &AppState,
    caller: &Caller,
    job: &ReEncryption,
    len: usize,
) -> Result<Opened, KmsError> {
    if job.src_alg != EncAlg::Symmetric {
        return Err(KmsError::InvalidParameter("source_encryption_algorithm"));
    }
    let wrapped = hex::decode(&job.text).map_err(|_| KmsError::InvalidDatakeyCiphertext)?;
    let (_, named) = datakeys::unwrap_blob(&wrapped)?;
    if job.src_given.as_deref().is_some_and(|g| g != named) {
        return Err(KmsError::InvalidDatakeyCiphertext);
    }
    let key = access::key_named_by_blob(
        app,
        &Requester::caller(caller),
        &named,
        op::DECRYPT_DATAKEY,
        KmsError::InvalidDatakeyCiphertext,
    )
    .await?;
    check_usable(&key, domain::KeyUsage::EncryptDecrypt)?;
    let dek = datakeys::open_datakey(app, &key, &job.text, &job.src_aad).await?;
    if dek.len() != len {
        return Err(KmsError::DatakeyCipherMismatch);
    }
    Ok((named, dek))
}

/// The source is what EncryptData returned (base64).
async fn open_data(
    app: &AppState,
    caller: &Caller,
    job: &ReEncryption,
) -> Result<Opened, KmsError> {
    let blob = crate::common::b64::decode(&job.text).map_err(|_| KmsError::InvalidCiphertext)?;
    let key_id = encryption::target_key_id(job.src_alg, job.src_given.as_deref(), &blob)?;
    let key = data::load_decrypting(app, caller, job.src_alg, &key_id).await?;
    let plain = encryption::decrypt_under(app, &key, job.src_alg, &blob, &job.src_aad).await?;
    Ok((key_id, plain))
}

/// Seals under the destination key: a data key re-encrypted under a
/// symmetric key keeps the data key format.
async fn seal(
    app: &AppState,
    caller: &Caller,
    job: &ReEncryption,
    plain: &[u8],
) -> Result<String, KmsError> {
    let keeps_datakey_format = job.datakey_len.is_some() && job.dst_alg == EncAlg::Symmetric;
    let dst_operation = if keeps_datakey_format {
        op::ENCRYPT_DATAKEY
    } else {
        op::ENCRYPT_DATA
    };
    let who = Requester::caller(caller);
    let dst = access::usable_key(app, &who, &job.dst_id, dst_operation, None).await?;
    if keeps_datakey_format {
        check_usable(&dst, domain::KeyUsage::EncryptDecrypt)?;
        if !dst.key_spec.is_symmetric() {
            return Err(KmsError::InvalidParameter(
                "destination_encryption_algorithm",
            ));
        }
        return datakeys::seal_datakey(app, &dst, plain, &job.dst_aad).await;
    }
    let ct = encryption::encrypt_under(app, &dst, job.dst_alg, plain, &job.dst_aad)
        .await?
        .run()
        .await?;
    Ok(crate::common::b64::encode(ct))
}
