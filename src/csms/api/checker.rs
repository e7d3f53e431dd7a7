//! The secret checker: CheckSecrets (`POST .../secrets/checker/check`),
//! ShowSecretsConfig / UpdateSecretsConfig (`.../secrets/checker/config`);
//! the setting is enforced by `strength.rs`. The rules are `csms::checker`;
//! results name secrets and issue codes, never a value (docs/csms.md).

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::csms::access::{readable_secret, Reader};
use crate::csms::checker::{self, Verdict, CHECK_TYPE, MAX_CHECKED};
use crate::csms::domain::{self, SecretState, SecretValue};
use crate::csms::error::CsmsError;
use crate::csms::store::{self, CheckerConfig, SecretRecord, VersionRecord};
use crate::csms::values;
use crate::csms::wire::CsmsBody;
use crate::server::state::AppState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub async fn show_secrets_config(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<CheckerConfig>, CsmsError> {
    let project = caller.project().to_owned();
    let config = app
        .db
        .read(move |tx| store::checker_config(tx, &project))
        .await?;
    Ok(Json(config))
}

#[derive(Deserialize)]
pub struct UpdateSecretsConfigRequest {
    pub checking_secret_strength: Option<bool>,
}

pub async fn update_secrets_config(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): CsmsBody<UpdateSecretsConfigRequest>,
) -> Result<Json<CheckerConfig>, CsmsError> {
    let config = CheckerConfig {
        checking_secret_strength: req
            .checking_secret_strength
            .ok_or(CsmsError::MissingParameter("checking_secret_strength"))?,
    };
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| store::set_checker_config(tx, &project, &config))
        .await?;
    Ok(Json(config))
}

#[derive(Deserialize)]
pub struct CheckSecretsRequest {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub data: Option<CheckData>,
}

/// dewstack's shape of `data` (the cloud does not publish one): either
/// `secrets`, values to check before importing them and/or names of stored
/// secrets, or nothing, to check the project's own secrets a page at a time.
#[derive(Deserialize)]
pub struct CheckData {
    pub secrets: Option<Vec<CheckItem>>,
    pub marker: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Deserialize)]
pub struct CheckItem {
    pub name: Option<String>,
    pub secret_string: Option<String>,
    pub secret_binary: Option<String>,
    pub version_id: Option<String>,
}

#[derive(Serialize)]
pub struct CheckSecretsResponse {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub data: CheckResult,
}

#[derive(Serialize)]
pub struct CheckResult {
    pub results: Vec<CheckedSecret>,
    pub total: i64,
    pub weak: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

#[derive(Serialize)]
pub struct CheckedSecret {
    pub name: String,
    /// Set for stored secrets: the version judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// `TEXT` judged, `BINARY` not judged (not a password).
    pub value_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strong: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    pub issues: Vec<&'static str>,
}

/// One value to judge, and who it is.
struct Subject {
    name: String,
    version_id: Option<String>,
    binary: bool,
    bytes: Zeroizing<Vec<u8>>,
}

enum Source {
    Given(String, SecretValue),
    Stored(String, String),
}

pub async fn check_secrets(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): CsmsBody<CheckSecretsRequest>,
) -> Result<Json<CheckSecretsResponse>, CsmsError> {
    match req.kind.as_deref() {
        None | Some("") => return Err(CsmsError::MissingParameter("type")),
        Some(CHECK_TYPE) => {}
        Some(_) => return Err(CsmsError::InvalidParameter("type")),
    }
    let data = req.data.ok_or(CsmsError::MissingParameter("data"))?;
    let (subjects, next_marker) = match data.secrets {
        Some(items) => (listed(&app, &caller, items).await?, None),
        None => project_page(&app, &caller, data.marker, data.limit).await?,
    };
    let values: Vec<&[u8]> = subjects.iter().map(|s| s.bytes.as_slice()).collect();
    let mut verdicts: Vec<Option<Verdict>> = subjects
        .iter()
        .map(|s| checker::assess(&s.bytes, s.binary))
        .collect();
    checker::mark_reused(&values, &mut verdicts);
    let results: Vec<CheckedSecret> = subjects
        .iter()
        .zip(verdicts)
        .map(|(s, v)| CheckedSecret {
            name: s.name.clone(),
            version_id: s.version_id.clone(),
            value_type: if s.binary { "BINARY" } else { "TEXT" },
            strong: v.as_ref().map(|v| v.strong),
            score: v.as_ref().map(|v| v.score),
            issues: v
                .map(|v| v.issues.iter().map(|i| i.as_str()).collect())
                .unwrap_or_default(),
        })
        .collect();
    let weak = results.iter().filter(|r| r.strong == Some(false)).count();
    Ok(Json(CheckSecretsResponse {
        kind: CHECK_TYPE,
        data: CheckResult {
            total: results.len() as i64,
            weak: weak as i64,
            results,
            next_marker,
        },
    }))
}

/// `data.secrets`: every item checked before any value is read, so a bad
/// item refuses the call without decrypting anything.
async fn listed(
    app: &AppState,
    caller: &Caller,
    items: Vec<CheckItem>,
) -> Result<Vec<Subject>, CsmsError> {
    if items.is_empty() {
        return Err(CsmsError::MissingParameter("secrets"));
    }
    if items.len() > MAX_CHECKED {
        return Err(CsmsError::InvalidParameter("secrets"));
    }
    let mut sources = Vec::with_capacity(items.len());
    for item in items {
        let name = domain::parse_name(item.name.as_deref(), "name")?;
        let given = item.secret_string.is_some() || item.secret_binary.is_some();
        sources.push(if given {
            let v =
                domain::parse_value(item.secret_string.as_deref(), item.secret_binary.as_deref())?;
            Source::Given(name, v)
        } else {
            let version = item.version_id.filter(|v| !v.is_empty());
            Source::Stored(name, version.unwrap_or_else(|| "latest".into()))
        });
    }
    let mut out = Vec::with_capacity(sources.len());
    for source in sources {
        out.push(match source {
            Source::Given(name, v) => Subject {
                name,
                version_id: None,
                binary: v.binary,
                bytes: v.bytes,
            },
            Source::Stored(name, version) => stored(app, caller, &name, &version).await?,
        });
    }
    Ok(out)
}

/// A stored secret's version, read as ShowSecretVersion reads it (the one
/// access check: the caller's project, or a grant naming the caller).
async fn stored(
    app: &AppState,
    caller: &Caller,
    name: &str,
    version: &str,
) -> Result<Subject, CsmsError> {
    let who = Reader::of(caller);
    let now = app.clock.now().timestamp_millis();
    let (n, v) = (name.to_owned(), version.to_owned());
    let (secret, record) = app
        .db
        .read(move |tx| {
            let s = readable_secret(tx, &who, &n, now)?;
            let r = super::versions::load_version(tx, &s, &v)?;
            Ok::<_, CsmsError>((s, r))
        })
        .await?;
    secret.state.check_usable()?;
    open(app, &secret, &record).await
}

async fn open(
    app: &AppState,
    secret: &SecretRecord,
    version: &VersionRecord,
) -> Result<Subject, CsmsError> {
    let bytes = values::open(app, &secret.project_id, &secret.name, version).await?;
    Ok(Subject {
        name: secret.name.clone(),
        version_id: Some(crate::csms::stages::version_id(version.number)),
        binary: version.binary,
        bytes,
    })
}

/// No `data.secrets`: the `SYSCURRENT` versions of the caller's own project's
/// secrets, in name order after `marker`, at most `limit` (≤ 50) a call.
/// Secrets pending deletion cannot be read and are passed over.
async fn project_page(
    app: &AppState,
    caller: &Caller,
    marker: Option<String>,
    limit: Option<i64>,
) -> Result<(Vec<Subject>, Option<String>), CsmsError> {
    let limit = match limit {
        None => MAX_CHECKED,
        Some(n @ 1..) if n as usize <= MAX_CHECKED => n as usize,
        Some(_) => return Err(CsmsError::InvalidParameter("limit")),
    };
    let project = caller.project().to_owned();
    let marker = marker.filter(|m| !m.is_empty());
    let (page, more) = app
        .db
        .read(move |tx| {
            let mut page = store::list_secrets(tx, &project, marker.as_deref(), limit + 1)?;
            let more = page.len() > limit;
            page.truncate(limit);
            let mut out = Vec::with_capacity(page.len());
            for s in page {
                let current = super::versions::load_version(tx, &s, "latest").ok();
                out.push((s, current));
            }
            Ok::<_, CsmsError>((out, more))
        })
        .await?;
    let next = page.last().filter(|_| more).map(|(s, _)| s.name.clone());
    let mut out = Vec::with_capacity(page.len());
    for (secret, version) in page {
        if let (SecretState::Enabled, Some(v)) = (secret.state, version) {
            out.push(open(app, &secret, &v).await?);
        }
    }
    Ok((out, next))
}
