//! GenerateRandomPassword, RotateSecret, ListSecretTask, CreateAgency and
//! ShowAgency. What a rotation does is in `jobs/rotate/` (docs/rotation.md).

use super::secrets::{parse_limit, SecretPath};
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::query::Query;
use crate::csms::domain::{generate_password, PasswordRequest};
use crate::csms::error::CsmsError;
use crate::csms::jobs::rotate::{self, agency, tasks, tasks::SecretTask, Trigger};
use crate::csms::wire::CsmsBody;
use crate::csms::wire::CsmsQuery;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
pub struct PasswordResponse {
    pub password: String,
}

pub async fn generate_random_password(
    State(app): State<AppState>,
    _caller: Caller,
    Body(req, _): CsmsBody<PasswordRequest>,
) -> Result<Json<PasswordResponse>, CsmsError> {
    let _ = &req.password_policy_name;
    let password = generate_password(&req, &app.rng)?;
    Ok(Json(PasswordResponse {
        password: password.to_string(),
    }))
}

#[derive(Serialize)]
pub struct RotateSecretResponse {
    pub version_id: String,
    pub secret_name: String,
    pub rotation_task_id: String,
}

/// Runs one rotation now. A rotation that fails after it started answers
/// 200 with the task id (the task is FAILED and `version_id` names the version
/// still current), as the cloud reports rotation failures through tasks.
pub async fn rotate_secret(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
) -> Result<Json<RotateSecretResponse>, CsmsError> {
    let r = rotate::rotate(&app, caller.project(), &path.secret_name, Trigger::Now).await?;
    Ok(Json(RotateSecretResponse {
        version_id: r.version_id,
        secret_name: r.secret_name,
        rotation_task_id: r.task.task_id,
    }))
}

#[derive(Deserialize, Default)]
pub struct TasksQuery {
    pub secret_name: Option<String>,
    pub status: Option<String>,
    pub task_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::common::body::string_or_number::deserialize"
    )]
    pub limit: Option<String>,
    pub marker: Option<String>,
}

#[derive(Serialize)]
pub struct ListSecretTaskResponse {
    pub total: i64,
    pub tasks: Vec<SecretTask>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

pub async fn list_secret_task(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): CsmsQuery<TasksQuery>,
) -> Result<Json<ListSecretTaskResponse>, CsmsError> {
    let limit = parse_limit(q.limit.as_deref())?;
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        if s != tasks::SUCCESS && s != tasks::FAILED {
            return Err(CsmsError::InvalidParameter("status"));
        }
    }
    let project = caller.project().to_owned();
    let all: Vec<SecretTask> = app.db.tx(move |tx| tasks::list(tx, &project)).await?;
    let some = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let (name, status, id) = (some(&q.secret_name), some(&q.status), some(&q.task_id));
    let matching: Vec<SecretTask> = all
        .into_iter()
        .filter(|t| name.as_deref().is_none_or(|n| t.secret_name == n))
        .filter(|t| status.as_deref().is_none_or(|s| t.task_status == s))
        .filter(|t| id.as_deref().is_none_or(|i| t.task_id == i))
        .collect();
    let total = matching.len() as i64;
    let start = match some(&q.marker) {
        Some(m) => matching
            .iter()
            .position(|t| t.task_id == m)
            .map(|i| i + 1)
            .ok_or(CsmsError::InvalidParameter("marker"))?,
        None => 0,
    };
    let page: Vec<SecretTask> = matching.iter().skip(start).take(limit).cloned().collect();
    let more = start + page.len() < matching.len();
    Ok(Json(ListSecretTaskResponse {
        total,
        next_marker: page.last().filter(|_| more).map(|t| t.task_id.clone()),
        tasks: page,
    }))
}

#[derive(Deserialize, Default)]
pub struct AgencyBody {
    pub secret_type: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct AgencyQuery {
    pub secret_type: Option<String>,
}

#[derive(Serialize)]
pub struct CreateAgencyResponse {
    pub agencies: Vec<agency::Agency>,
}

#[derive(Serialize)]
pub struct ShowAgencyResponse {
    /// "true" or "false": a string in the cloud's reference.
    pub agency_granted: String,
}

/// CreateAgency (`POST /v1/csms/agencies`): for the caller's domain.
pub async fn create_agency(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): CsmsBody<AgencyBody>,
) -> Result<Json<CreateAgencyResponse>, CsmsError> {
    let secret_type = agency::parse_type(req.secret_type.as_deref())?;
    let (rng, domain) = (app.rng.clone(), caller.domain_id.clone());
    let now = app.clock.now().timestamp_millis();
    let agencies = app
        .db
        .tx(move |tx| agency::create(tx, &rng, &domain, &secret_type, now))
        .await?;
    Ok(Json(CreateAgencyResponse { agencies }))
}

/// ShowAgency (`GET /v1/csms/agencies?secret_type=`).
pub async fn show_agency(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): CsmsQuery<AgencyQuery>,
) -> Result<Json<ShowAgencyResponse>, CsmsError> {
    let secret_type = agency::parse_type(q.secret_type.as_deref())?;
    let domain = caller.domain_id.clone();
    let granted = app
        .db
        .tx(move |tx| agency::granted(tx, &domain, &secret_type))
        .await?;
    Ok(Json(ShowAgencyResponse {
        agency_granted: granted.to_string(),
    }))
}
