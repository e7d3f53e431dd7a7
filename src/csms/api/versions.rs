//! Versions and stages: CreateSecretVersion, ListSecretVersions,
//! ShowSecretVersion, UpdateVersion, UpdateSecretStage, ShowSecretStage and
//! DeleteSecretStage. The stage rules themselves live in `stages.rs`.

use super::secrets::{parse_limit, SecretPath};
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::query::Query;
use crate::csms::access::{readable_secret, Reader};
use crate::csms::domain::{self, EventType, SecretValue};
use crate::csms::error::CsmsError;
use crate::csms::jobs::notify;
use crate::csms::stages;
use crate::csms::store::{self, SecretRecord, VersionRecord};
use crate::csms::values;
use crate::csms::wire::CsmsBody;
use crate::csms::wire::CsmsQuery;
use crate::csms::wire::*;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;

#[derive(serde::Deserialize)]
pub struct VersionPath {
    secret_name: String,
    version_id: String,
}

#[derive(serde::Deserialize)]
pub struct StagePath {
    secret_name: String,
    stage_name: String,
}

#[derive(serde::Deserialize, Default)]
pub struct VersionsQuery {
    marker: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::common::body::string_or_number::deserialize"
    )]
    limit: Option<String>,
}

fn parse_expire(raw: Option<i64>) -> Result<Option<i64>, CsmsError> {
    match raw {
        Some(t) if t < 0 => Err(CsmsError::InvalidParameter("expire_time")),
        other => Ok(other),
    }
}

/// Loads a version by id, `latest` or `previous`.
pub(super) fn load_version(
    tx: &mut dyn crate::store::Tx,
    secret: &SecretRecord,
    id: &str,
) -> Result<VersionRecord, CsmsError> {
    let id = stages::resolve(&secret.stages, id)?;
    let n = stages::version_number(&id).ok_or(CsmsError::VersionNotFound)?;
    store::find_version(tx, &secret.project_id, &secret.name, n)?.ok_or(CsmsError::VersionNotFound)
}

/// Adds a version (new value, stages, expiry) to a secret in one transaction
/// and emits the events it causes. Shared with RotateSecret.
pub(super) async fn add_version(
    app: &AppState,
    project: &str,
    secret_name: &str,
    value: &SecretValue,
    stage_names: Vec<String>,
    expire_ms: Option<i64>,
    extra_event: Option<EventType>,
) -> Result<(SecretRecord, VersionRecord), CsmsError> {
    let (p, n) = (project.to_owned(), secret_name.to_owned());
    // A read snapshot, not a write transaction: it only names the key to seal
    // under, and the write below loads and checks the secret again. As a
    // `tx` it queued behind other writers and waited for their fsync, twice
    // per new version.
    let current = app
        .db
        .read(move |tx| store::load_secret(tx, &p, &n))
        .await?;
    current.state.check_usable()?;
    let (value_id, sealed) =
        values::seal(app, project, &current.kms_key_id, secret_name, value).await?;
    let key_id = current.kms_key_id.clone();
    let binary = value.binary;
    let now = app.clock.now().timestamp_millis();
    let (p, n) = (project.to_owned(), secret_name.to_owned());
    let rng = app.rng.clone();
    app.db
        .tx(move |tx| {
            let mut s = store::load_secret(tx, &p, &n)?;
            s.state.check_usable()?;
            let number = s.last_version + 1;
            stages::move_all(
                &mut s.stages,
                &stage_names,
                &stages::version_id(number),
                now,
            )?;
            let v = VersionRecord {
                number,
                create_ms: now,
                expire_ms,
                kms_key_id: key_id.clone(),
                value_id: value_id.clone(),
                binary,
                sealed: sealed.clone(),
                expiry_notified: false,
            };
            s.last_version = number;
            s.update_ms = now;
            if extra_event == Some(EventType::Rotated) {
                s.rotation_ms = Some(now);
            }
            store::put_version(tx, &p, &n, &v)?;
            store::bound::drop_excess_versions(tx, &s)?;
            store::save_secret(tx, &s)?;
            notify::emit(tx, &rng, &s, EventType::VersionCreated, now)?;
            if let Some(extra) = extra_event {
                notify::emit(tx, &rng, &s, extra, now)?;
            }
            Ok((s, v))
        })
        .await
}

pub async fn create_secret_version(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
    Body(req, _): CsmsBody<CreateSecretVersionRequest>,
) -> Result<Json<VersionMetadataResponse>, CsmsError> {
    let value = domain::parse_value(req.secret_string.as_deref(), req.secret_binary.as_deref())?;
    let names = stages::parse_version_stages(req.version_stages.as_deref())?;
    let expire = parse_expire(req.expire_time)?;
    super::strength::enforce_strength(&app, caller.project(), &value).await?;
    let (secret, version) = add_version(
        &app,
        caller.project(),
        &path.secret_name,
        &value,
        names,
        expire,
        None,
    )
    .await?;
    Ok(Json(VersionMetadataResponse {
        version_metadata: VersionMetadata::of(&secret.name, &secret.stages, &version),
    }))
}

pub async fn list_secret_versions(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
    Query(q, _): CsmsQuery<VersionsQuery>,
) -> Result<Json<ListSecretVersionsResponse>, CsmsError> {
    let limit = parse_limit(q.limit.as_deref())?;
    let after = match q.marker.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => Some(stages::version_number(m).ok_or(CsmsError::InvalidParameter("marker"))?),
        None => None,
    };
    let who = Reader::of(&caller);
    let now = app.clock.now().timestamp_millis();
    let (secret, mut page) = app
        .db
        .read(move |tx| {
            let s = readable_secret(tx, &who, &path.secret_name, now)?;
            let page = store::list_versions_after(tx, &s.project_id, &s.name, after, limit + 1)?;
            Ok::<_, CsmsError>((s, page))
        })
        .await?;
    let more = page.len() > limit;
    page.truncate(limit);
    let metas: Vec<VersionMetadata> = page
        .iter()
        .map(|v| VersionMetadata::of(&secret.name, &secret.stages, v))
        .collect();
    Ok(Json(ListSecretVersionsResponse {
        page_info: PageInfo {
            next_marker: metas.last().filter(|_| more).map(|m| m.id.clone()),
            previous_marker: metas.first().map(|m| m.id.clone()),
            current_count: metas.len() as i64,
        },
        version_metadatas: metas,
    }))
}

pub async fn show_secret_version(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<VersionPath>,
) -> Result<Json<ShowSecretVersionResponse>, CsmsError> {
    let who = Reader::of(&caller);
    let now = app.clock.now().timestamp_millis();
    // A read snapshot, not a write transaction: on the embedded engine it
    // runs on this thread and never queues behind a commit.
    let (secret, version) = app
        .db
        .read(move |tx| {
            let s = readable_secret(tx, &who, &path.secret_name, now)?;
            let v = load_version(tx, &s, &path.version_id)?;
            Ok::<_, CsmsError>((s, v))
        })
        .await?;
    secret.state.check_usable()?;
    let plain = values::open(&app, &secret.project_id, &secret.name, &version).await?;
    let (secret_string, secret_binary) = values::to_wire(version.binary, &plain);
    Ok(Json(ShowSecretVersionResponse {
        version: Version {
            version_metadata: VersionMetadata::of(&secret.name, &secret.stages, &version),
            secret_binary,
            secret_string,
        },
    }))
}

pub async fn update_version(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<VersionPath>,
    Body(req, _): CsmsBody<UpdateVersionRequest>,
) -> Result<Json<VersionMetadataResponse>, CsmsError> {
    let expire =
        parse_expire(req.expire_time)?.ok_or(CsmsError::MissingParameter("expire_time"))?;
    let project = caller.project().to_owned();
    let (secret, version) = app
        .db
        .tx(move |tx| {
            let s = store::load_secret(tx, &project, &path.secret_name)?;
            s.state.check_editable()?;
            let mut v = load_version(tx, &s, &path.version_id)?;
            v.expire_ms = Some(expire);
            v.expiry_notified = false;
            store::put_version(tx, &project, &s.name, &v)?;
            Ok::<_, CsmsError>((s, v))
        })
        .await?;
    Ok(Json(VersionMetadataResponse {
        version_metadata: VersionMetadata::of(&secret.name, &secret.stages, &version),
    }))
}

fn stage_of(secret: &SecretRecord, name: &str) -> Result<Stage, CsmsError> {
    let s = secret.stages.get(name).ok_or(CsmsError::StageNotFound)?;
    Ok(Stage {
        name: name.to_owned(),
        update_time: s.update_ms,
        secret_name: secret.name.clone(),
        version_id: s.version_id.clone(),
    })
}

pub async fn update_secret_stage(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<StagePath>,
    Body(req, _): CsmsBody<UpdateSecretStageRequest>,
) -> Result<Json<StageResponse>, CsmsError> {
    let stage = stages::parse_stage_name(&path.stage_name)?;
    let shown = stage.clone();
    let version_id = req
        .version_id
        .filter(|v| !v.is_empty())
        .ok_or(CsmsError::MissingParameter("version_id"))?;
    let project = caller.project().to_owned();
    let now = app.clock.now().timestamp_millis();
    let secret = app
        .db
        .tx(move |tx| {
            let mut s = store::load_secret(tx, &project, &path.secret_name)?;
            s.state.check_editable()?;
            let n = stages::version_number(&version_id).ok_or(CsmsError::VersionNotFound)?;
            store::find_version(tx, &project, &s.name, n)?.ok_or(CsmsError::VersionNotFound)?;
            stages::move_stage(&mut s.stages, &stage, &version_id, now)?;
            s.update_ms = now;
            store::save_secret(tx, &s)?;
            Ok::<_, CsmsError>(s)
        })
        .await?;
    Ok(Json(StageResponse {
        stage: stage_of(&secret, &shown)?,
    }))
}

pub async fn show_secret_stage(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<StagePath>,
) -> Result<Json<StageResponse>, CsmsError> {
    let who = Reader::of(&caller);
    let now = app.clock.now().timestamp_millis();
    let name = path.secret_name.clone();
    let secret = app
        .db
        .read(move |tx| readable_secret(tx, &who, &name, now))
        .await?;
    Ok(Json(StageResponse {
        stage: stage_of(&secret, &path.stage_name)?,
    }))
}

pub async fn delete_secret_stage(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<StagePath>,
) -> Result<StatusCode, CsmsError> {
    let project = caller.project().to_owned();
    let now = app.clock.now().timestamp_millis();
    app.db
        .tx(move |tx| {
            let mut s = store::load_secret(tx, &project, &path.secret_name)?;
            s.state.check_editable()?;
            stages::remove_stage(&mut s.stages, &path.stage_name)?;
            s.update_ms = now;
            store::save_secret(tx, &s)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
