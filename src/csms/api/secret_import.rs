//! BatchImportSecrets (`POST /v1/{project_id}/secrets/batch-import`), and the
//! one handler for `POST /secrets/{name}`: the API puts two collection
//! actions (`restore`, `batch-import`) where a secret's name goes, and a
//! secret may be called either, so the two share that route and a secret
//! named "restore" keeps its GET/PUT/DELETE.

use super::backup;
use super::secret_create::{create, NewSecret};
use super::secrets::SecretPath;
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::csms::error::CsmsError;
use crate::csms::wire::{CreateSecretRequest, CsmsBody};
use crate::ops::operations::Operation;
use crate::server::state::AppState;
use axum::extract::{Path, Request, State};
use axum::handler::Handler;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// dewstack's choice: the cloud publishes no batch size; the secret quota
/// bounds the total anyway.
pub const MAX_IMPORT_BATCH: usize = 100;

pub async fn post_on_secret_path(
    State(app): State<AppState>,
    Path(path): Path<SecretPath>,
    req: Request,
) -> Response {
    match path.secret_name.as_str() {
        "restore" => backup::upload_secret_blob.call(req, app).await,
        "batch-import" => {
            let mut response = batch_import_secrets.call(req, app).await;
            response.extensions_mut().insert(Operation {
                service: "csms",
                name: "BatchImportSecrets",
            });
            response
        }
        _ => CsmsError::InvalidUrl.into_response(),
    }
}

#[derive(Deserialize)]
pub struct ImportSecretsRequest {
    pub secrets: Option<Vec<CreateSecretRequest>>,
}

#[derive(Serialize)]
pub struct ErrorInfo {
    pub name: String,
    pub error_msg: String,
}

#[derive(Serialize)]
pub struct BatchImportSecretsResponse {
    pub error_list: Vec<ErrorInfo>,
    pub total: i64,
    pub success: i64,
    pub failed: i64,
}

/// Each secret is created as CreateSecret creates it, in a transaction of its
/// own: one that fails is reported in `error_list` and leaves nothing behind,
/// and the others are still created.
pub async fn batch_import_secrets(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): CsmsBody<ImportSecretsRequest>,
) -> Result<Json<BatchImportSecretsResponse>, CsmsError> {
    let secrets = req
        .secrets
        .filter(|s| !s.is_empty())
        .ok_or(CsmsError::MissingParameter("secrets"))?;
    if secrets.len() > MAX_IMPORT_BATCH {
        return Err(CsmsError::InvalidParameter("secrets"));
    }
    let total = secrets.len();
    let mut error_list = Vec::new();
    for one in secrets {
        let name = one.name.clone().unwrap_or_default();
        let created = match NewSecret::from_request(one) {
            Ok(new) => create(&app, &caller, new).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = created {
            if matches!(e, CsmsError::Internal(_) | CsmsError::Unavailable) {
                return Err(e);
            }
            error_list.push(ErrorInfo {
                name,
                error_msg: e.to_string(),
            });
        }
    }
    let failed = error_list.len();
    Ok(Json(BatchImportSecretsResponse {
        error_list,
        total: total as i64,
        success: (total - failed) as i64,
        failed: failed as i64,
    }))
}
