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
use axum::Json;
use base64::Engine as _;
use zeroize::Zeroizing;

const MAX_AAD_BYTES: usize = 128;

fn aad(raw: &Option<String>, field: &'static str) -> Result<Vec<u8>, KmsError> {
    let bytes = raw.as_deref().unwrap_or("").as_bytes();
    if bytes.len() > MAX_AAD_BYTES {
        return Err(KmsError::InvalidParameter(field));
    }
    Ok(bytes.to_vec())
}

pub async fn re_encrypt(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<ReEncryptRequest, KmsError>,
) -> Result<Json<ReEncryptResponse>, KmsError> {
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
        .trim();

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

    let (src_id, plain): (String, Zeroizing<Vec<u8>>) = match datakey_len {
        Some(len) => {
            if src_alg != EncAlg::Symmetric {
                return Err(KmsError::InvalidParameter("source_encryption_algorithm"));
            }
            let wrapped = hex::decode(text).map_err(|_| KmsError::InvalidDatakeyCiphertext)?;
            let (_, named) = datakeys::unwrap_blob(&wrapped)?;
            if src_given.as_deref().is_some_and(|g| g != named) {
                return Err(KmsError::InvalidDatakeyCiphertext);
            }
            let key = access::key_named_by_blob(
                &app,
                &Requester::caller(&caller),
                &named,
                op::DECRYPT_DATAKEY,
                KmsError::InvalidDatakeyCiphertext,
            )
            .await?;
            check_usable(&key, domain::KeyUsage::EncryptDecrypt)?;
            let dek = datakeys::open_datakey(&app, &key, text, &src_aad)?;
            if dek.len() != len {
                return Err(KmsError::DatakeyCipherMismatch);
            }
            (named, dek)
        }
        None => {
            let blob = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| KmsError::InvalidCiphertext)?;
            let key_id = encryption::target_key_id(src_alg, src_given.as_deref(), &blob)?;
            let key = data::load_decrypting(&app, &caller, src_alg, &key_id).await?;
            let plain = encryption::decrypt_under(&app, &key, src_alg, &blob, &src_aad).await?;
            (key_id, plain)
        }
    };

    let keeps_datakey_format = datakey_len.is_some() && dst_alg == EncAlg::Symmetric;
    let dst_operation = if keeps_datakey_format {
        op::ENCRYPT_DATAKEY
    } else {
        op::ENCRYPT_DATA
    };
    let dst = access::usable_key(
        &app,
        &Requester::caller(&caller),
        &dst_id,
        dst_operation,
        None,
    )
    .await?;
    let cipher_text = if keeps_datakey_format {
        check_usable(&dst, domain::KeyUsage::EncryptDecrypt)?;
        if !dst.key_spec.is_symmetric() {
            return Err(KmsError::InvalidParameter(
                "destination_encryption_algorithm",
            ));
        }
        datakeys::seal_datakey(&app, &dst, &plain, &dst_aad)?
    } else {
        let ct = encryption::encrypt_under(&app, &dst, dst_alg, &plain, &dst_aad)?
            .run()
            .await?;
        base64::engine::general_purpose::STANDARD.encode(ct)
    };
    Ok(Json(ReEncryptResponse {
        key_id: dst_id,
        source_key_id: src_id,
        source_encryption_algorithm: src_alg.as_str().to_owned(),
        destination_encryption_algorithm: dst_alg.as_str().to_owned(),
        cipher_text,
    }))
}
