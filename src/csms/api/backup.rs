//! Backup and restore: DownloadSecretBlob and UploadSecretBlob.
//!
//! A blob is the secret record with every version's value, as JSON, sealed
//! (AES-256-GCM) under `app.backup`, a subkey of the root key, with the project
//! id as associated data, then base64. It is opaque and authenticated: it can
//! be restored into the same project of any dewstack with the same root key,
//! where each value is encrypted again under the secret's KMS key if that key
//! exists there, otherwise under the project's `csms/default`.

use super::secrets::SecretPath;
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::csms::error::CsmsError;
use crate::csms::store::{self, SecretRecord, VersionRecord};
use crate::csms::values;
use crate::csms::wire::CsmsBody;
use crate::csms::wire::{Secret, SecretResponse};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

#[derive(Serialize, Deserialize)]
struct BackupVersion {
    number: u64,
    create_ms: i64,
    expire_ms: Option<i64>,
    binary: bool,
    #[serde(with = "crate::store::b64")]
    value: Vec<u8>,
}

impl Drop for BackupVersion {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

#[derive(Serialize, Deserialize)]
struct BackupBlob {
    format: u32,
    secret: SecretRecord,
    versions: Vec<BackupVersion>,
}

#[derive(Serialize)]
pub struct DownloadSecretBlobResponse {
    pub secret_blob: String,
}

#[derive(Deserialize, Default)]
pub struct UploadSecretBlobRequest {
    pub secret_blob: Option<String>,
}

fn aad(project: &str) -> Vec<u8> {
    format!("dewstack/csms-backup/v1/{project}").into_bytes()
}

pub async fn download_secret_blob(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
) -> Result<Json<DownloadSecretBlobResponse>, CsmsError> {
    let project = caller.project().to_owned();
    let p = project.clone();
    let (secret, versions) = app
        .db
        .tx(move |tx| {
            let s = store::load_secret(tx, &p, &path.secret_name)?;
            let v = store::list_versions(tx, &p, &s.name)?;
            Ok::<_, CsmsError>((s, v))
        })
        .await?;
    secret.state.check_usable()?;
    let mut backup = BackupBlob {
        format: 1,
        secret,
        versions: Vec::with_capacity(versions.len()),
    };
    for v in &versions {
        let plain = values::open(&app, &project, &backup.secret.name, v).await?;
        backup.versions.push(BackupVersion {
            number: v.number,
            create_ms: v.create_ms,
            expire_ms: v.expire_ms,
            binary: v.binary,
            value: plain.to_vec(),
        });
    }
    let json = Zeroizing::new(
        serde_json::to_vec(&backup).map_err(|e| CsmsError::Internal(e.to_string()))?,
    );
    let sealed = app.backup.seal(&json, &aad(&project));
    Ok(Json(DownloadSecretBlobResponse {
        secret_blob: crate::common::b64::encode(sealed),
    }))
}

pub async fn upload_secret_blob(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
    Body(req, _): CsmsBody<UploadSecretBlobRequest>,
) -> Result<Json<SecretResponse>, CsmsError> {
    if path.secret_name != "restore" {
        return Err(CsmsError::InvalidUrl);
    }
    let text = req
        .secret_blob
        .filter(|b| !b.is_empty())
        .ok_or(CsmsError::MissingParameter("secret_blob"))?;
    let saved = restore(&app, &caller, &text).await?;
    Ok(Json(SecretResponse {
        secret: Secret::of(&saved),
    }))
}

/// UploadSecretBlob: opens the blob, seals every value again under a key
/// that works here, and inserts secret and versions in one transaction.
pub async fn restore(
    app: &AppState,
    caller: &Caller,
    text: &str,
) -> Result<SecretRecord, CsmsError> {
    let project = caller.project().to_owned();
    let backup = open_blob(app, &project, text)?;
    // The original key if it can encrypt here, else this project's csms/default.
    let key_id = match values::check_key(app, &project, &backup.secret.kms_key_id).await {
        Ok(()) => backup.secret.kms_key_id.clone(),
        Err(CsmsError::KmsKeyNotFound) | Err(CsmsError::InvalidParameter(_)) => {
            values::key_for(app, &caller.domain_id, &project, None).await?
        }
        Err(other) => return Err(other),
    };
    let restored = reseal(app, &project, &key_id, &backup).await?;
    let mut secret = backup.secret.clone();
    secret.project_id = project.clone();
    secret.domain_id = caller.domain_id.clone();
    secret.kms_key_id = key_id;
    secret.update_ms = app.clock.now().timestamp_millis();
    let rng = app.rng.clone();
    let quota = app.limits.secrets_per_project;
    app.db
        .tx(move |tx| {
            if store::secret_quota_reached(tx, &project, quota)? {
                return Err(CsmsError::SecretQuota);
            }
            let mut s = secret.clone();
            // A secret id stays unique; subscriptions to events missing here are dropped.
            if store::load_secret_by_id(tx, &project, &s.id).is_ok() {
                s.id = rng.uuid().to_string();
            }
            let mut subs = Vec::new();
            for e in &s.event_subscriptions {
                if store::find_event(tx, &project, e)?.is_some() {
                    subs.push(e.clone());
                }
            }
            s.event_subscriptions = subs;
            store::insert_secret(tx, &s)?;
            for v in &restored {
                store::put_version(tx, &project, &s.name, v)?;
            }
            Ok(s)
        })
        .await
}

/// The backup inside a blob made for `project`, checked.
fn open_blob(app: &AppState, project: &str, text: &str) -> Result<BackupBlob, CsmsError> {
    let bad = || CsmsError::InvalidParameter("secret_blob");
    let sealed = crate::common::b64::decode(text.trim()).map_err(|_| bad())?;
    let json = app.backup.open(&sealed, &aad(project)).map_err(|_| bad())?;
    let backup: BackupBlob = serde_json::from_slice(&json).map_err(|_| bad())?;
    if backup.format != 1 || !crate::csms::domain::is_valid_name(&backup.secret.name) {
        return Err(bad());
    }
    Ok(backup)
}

/// Every version of `backup`, its value sealed again under `key_id`.
async fn reseal(
    app: &AppState,
    project: &str,
    key_id: &str,
    backup: &BackupBlob,
) -> Result<Vec<VersionRecord>, CsmsError> {
    let name = &backup.secret.name;
    let mut restored = Vec::with_capacity(backup.versions.len());
    for v in &backup.versions {
        let value = crate::csms::domain::SecretValue {
            bytes: Zeroizing::new(v.value.clone()),
            binary: v.binary,
        };
        let (value_id, sealed) = values::seal(app, project, key_id, name, &value).await?;
        restored.push(VersionRecord {
            number: v.number,
            create_ms: v.create_ms,
            expire_ms: v.expire_ms,
            kms_key_id: key_id.to_owned(),
            value_id,
            binary: v.binary,
            sealed,
            expiry_notified: false,
        });
    }
    Ok(restored)
}
