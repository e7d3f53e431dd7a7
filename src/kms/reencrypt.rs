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

use super::asymmetric::EncAlg;
use super::crypt;
use super::data;
use super::datakey;
use super::domain;
use super::error::KmsError;
use super::grants::{self, op};
use super::keyuse;
use super::wire_crypto::*;
use crate::auth::Caller;
use crate::common::body::Body;
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
            let (_, named) = datakey::unwrap_blob(&wrapped)?;
            if src_given.as_deref().is_some_and(|g| g != named) {
                return Err(KmsError::InvalidDatakeyCiphertext);
            }
            let key = keyuse::named_by_blob(
                &app,
                &caller,
                &named,
                op::DECRYPT_DATAKEY,
                KmsError::InvalidDatakeyCiphertext,
            )
            .await?;
            super::cipher::check_usable(&key, domain::KeyUsage::EncryptDecrypt)?;
            let dek = datakey::open_datakey(&app, &key, text, &src_aad)?;
            if dek.len() != len {
                return Err(KmsError::DatakeyCipherMismatch);
            }
            (named, dek)
        }
        None => {
            let blob = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| KmsError::InvalidCiphertext)?;
            let key_id = crypt::target_key_id(src_alg, src_given.as_deref(), &blob)?;
            let key = data::load_decrypting(&app, &caller, src_alg, &key_id).await?;
            let plain = crypt::decrypt_under(&app, &key, src_alg, &blob, &src_aad).await?;
            (key_id, plain)
        }
    };

    let keeps_datakey_format = datakey_len.is_some() && dst_alg == EncAlg::Symmetric;
    let dst_operation = if keeps_datakey_format {
        op::ENCRYPT_DATAKEY
    } else {
        op::ENCRYPT_DATA
    };
    let dst = grants::load_for(&app, &caller, &dst_id, dst_operation).await?;
    let cipher_text = if keeps_datakey_format {
        super::cipher::check_usable(&dst, domain::KeyUsage::EncryptDecrypt)?;
        if !dst.key_spec.is_symmetric() {
            return Err(KmsError::InvalidParameter(
                "destination_encryption_algorithm",
            ));
        }
        datakey::seal_datakey(&app, &dst, &plain, &dst_aad)?
    } else {
        let ct = crypt::encrypt_under(&app, &dst, dst_alg, &plain, &dst_aad)?
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
