//! Secret values at rest: envelope-encrypted under the secret's KMS key through
//! dewstack's own KMS (`kms::encrypt_for` / `kms::decrypt_for`), with associated
//! data binding each ciphertext to its secret name and version row. A disabled
//! key therefore makes the value unreadable, as in the cloud.

use super::domain::SecretValue;
use super::error::CsmsError;
use super::store::VersionRecord;
use crate::server::state::AppState;
use zeroize::Zeroizing;

fn aad(secret_name: &str, value_id: &str) -> Vec<u8> {
    // `format!` cost as much as the rest of this; every secret read builds it.
    const PREFIX: &[u8] = b"dewstack/csms/";
    let mut aad = Vec::with_capacity(PREFIX.len() + secret_name.len() + 1 + value_id.len());
    aad.extend_from_slice(PREFIX);
    aad.extend_from_slice(secret_name.as_bytes());
    aad.push(b'/');
    aad.extend_from_slice(value_id.as_bytes());
    aad
}

/// The key a new secret uses: the one given, or the project's `csms/default`.
pub async fn key_for(
    app: &AppState,
    domain_id: &str,
    project: &str,
    given: Option<&str>,
) -> Result<String, CsmsError> {
    match given.map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => Ok(crate::kms::parse_key_id(Some(k))?),
        None => Ok(crate::kms::ensure_default_key(app, domain_id, project, "csms").await?),
    }
}

/// Checks that `key_id` exists in `project` and can encrypt now.
pub async fn check_key(app: &AppState, project: &str, key_id: &str) -> Result<(), CsmsError> {
    crate::kms::encrypt_for(app, project, key_id, b"", b"dewstack/csms/key-check").await?;
    Ok(())
}

/// Encrypts a new version's value; returns (value_id, blob).
pub async fn seal(
    app: &AppState,
    project: &str,
    key_id: &str,
    secret_name: &str,
    value: &SecretValue,
) -> Result<(String, Vec<u8>), CsmsError> {
    let value_id = app.rng.uuid().to_string();
    let blob = crate::kms::encrypt_for(
        app,
        project,
        key_id,
        &value.bytes,
        &aad(secret_name, &value_id),
    )
    .await?;
    Ok((value_id, blob))
}

/// The plaintext of a version; zeroized when dropped.
pub async fn open(
    app: &AppState,
    project: &str,
    secret_name: &str,
    version: &VersionRecord,
) -> Result<Zeroizing<Vec<u8>>, CsmsError> {
    let (_, plain) = crate::kms::decrypt_for(
        app,
        project,
        &version.sealed,
        &aad(secret_name, &version.value_id),
    )
    .await?;
    Ok(plain)
}

/// (secret_string, secret_binary) as the wire shows them.
pub fn to_wire(binary: bool, plain: &[u8]) -> (Option<String>, Option<String>) {
    if binary {
        (None, Some(crate::common::b64::encode(plain)))
    } else {
        (Some(crate::common::json::lossy_text(plain)), None)
    }
}
