//! Secret handlers: CreateSecret, ShowSecret, ListSecrets, UpdateSecret,
//! DeleteSecret, DeleteSecretForSchedule and RestoreSecret.

use super::secret_create::{create, NewSecret};
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::query::Query;
use crate::csms::access::{readable_secret, Reader};
use crate::csms::domain::{self, EventType};
use crate::csms::error::CsmsError;
use crate::csms::jobs::notify;
use crate::csms::store::{self, SecretRecord};
use crate::csms::values;
use crate::csms::wire::CsmsBody;
use crate::csms::wire::CsmsQuery;
use crate::csms::wire::*;
use crate::server::state::AppState;
use crate::store::Tx;
use axum::extract::{Path, State};
use axum::http::StatusCode;

#[derive(serde::Deserialize)]
pub struct SecretPath {
    pub secret_name: String,
}

/// `limit` of the list operations: 1–1000, 50 when not given.
pub(super) fn parse_limit(raw: Option<&str>) -> Result<usize, CsmsError> {
    crate::common::paging::parse_limit(raw, 50, 1000)
        .map_err(|_| CsmsError::InvalidParameter("limit"))
}

pub async fn create_secret(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): CsmsBody<CreateSecretRequest>,
) -> Result<Json<SecretResponse>, CsmsError> {
    let new = NewSecret::from_request(req)?;
    let saved = create(&app, &caller, new).await?;
    Ok(Json(SecretResponse {
        secret: Secret::of(&saved),
    }))
}

pub async fn show_secret(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
) -> Result<Json<SecretResponse>, CsmsError> {
    let who = Reader::of(&caller);
    let now = app.clock.now().timestamp_millis();
    let secret = app
        .db
        .read(move |tx| readable_secret(tx, &who, &path.secret_name, now))
        .await?;
    Ok(Json(SecretResponse {
        secret: Secret::of(&secret),
    }))
}

pub async fn list_secrets(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): CsmsQuery<ListQuery>,
) -> Result<Json<ListSecretsResponse>, CsmsError> {
    let limit = parse_limit(q.limit.as_deref())?;
    let marker = q.marker.filter(|m| !m.is_empty());
    let event = q.event_name.filter(|e| !e.is_empty());
    let project = caller.project().to_owned();
    let (page, more) = app
        .db
        .tx(move |tx| {
            let mut page = match &event {
                None => store::list_secrets(tx, &project, marker.as_deref(), limit + 1)?,
                Some(event) => {
                    let names =
                        store::subscribers(tx, &project, event, marker.as_deref(), limit + 1)?;
                    let mut out = Vec::with_capacity(names.len());
                    for name in names {
                        out.extend(store::find_secret(tx, &project, &name)?);
                    }
                    out
                }
            };
            let more = page.len() > limit;
            page.truncate(limit);
            Ok::<_, CsmsError>((page, more))
        })
        .await?;
    Ok(Json(ListSecretsResponse {
        page_info: PageInfo {
            next_marker: page.last().filter(|_| more).map(|s| s.name.clone()),
            previous_marker: page.first().map(|s| s.name.clone()),
            current_count: page.len() as i64,
        },
        secrets: page.iter().map(Secret::of).collect(),
    }))
}

pub async fn update_secret(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
    Body(req, _): CsmsBody<UpdateSecretRequest>,
) -> Result<Json<SecretResponse>, CsmsError> {
    let project = caller.project().to_owned();
    let description = req
        .description
        .as_deref()
        .map(|d| domain::parse_description(Some(d)))
        .transpose()?;
    let subscriptions = req
        .event_subscriptions
        .as_deref()
        .map(|s| domain::parse_subscriptions(Some(s)))
        .transpose()?;
    let period = req.rotation_period.filter(|p| !p.is_empty());
    let period_secs = period
        .as_deref()
        .map(domain::parse_rotation_period)
        .transpose()?;
    let key_id = match req.kms_key_id.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => {
            let k = crate::kms::parse_key_id(Some(k))?;
            values::check_key(&app, &project, &k).await?;
            Some(k)
        }
        None => None,
    };
    let (auto_rotation, func_urn) = (req.auto_rotation, req.rotation_func_urn);
    let secret = change_secret(&app, &caller, path.secret_name, move |tx, s, now| {
        s.state.check_editable()?;
        if let Some(k) = &key_id {
            s.kms_key_id = k.clone();
        }
        if let Some(d) = &description {
            s.description = d.clone();
        }
        if let Some(subs) = &subscriptions {
            store::check_subscriptions(tx, &project, subs)?;
            s.event_subscriptions = subs.clone();
        }
        if let Some(p) = &period {
            s.rotation_period = Some(p.clone());
        }
        if let Some(u) = &func_urn {
            s.rotation_func_urn = Some(u.clone()).filter(|u| !u.is_empty());
        }
        if let Some(on) = auto_rotation {
            s.auto_rotation = on;
        }
        if s.auto_rotation {
            let secs = match (period_secs, s.rotation_period.as_deref()) {
                (Some(secs), _) => secs,
                (None, Some(p)) => domain::parse_rotation_period(p)?,
                (None, None) => return Err(CsmsError::MissingParameter("rotation_period")),
            };
            s.next_rotation_ms = Some(now + secs * 1000);
        } else {
            s.next_rotation_ms = None;
        }
        Ok(())
    })
    .await?;
    Ok(Json(SecretResponse {
        secret: Secret::of(&secret),
    }))
}

/// Loads a secret of the caller's project, lets `change` apply a rule to it,
/// stamps the update time and saves it, all in one transaction.
async fn change_secret<F>(
    app: &AppState,
    caller: &Caller,
    name: String,
    mut change: F,
) -> Result<SecretRecord, CsmsError>
where
    F: FnMut(&mut dyn Tx, &mut SecretRecord, i64) -> Result<(), CsmsError> + Send + 'static,
{
    let project = caller.project().to_owned();
    let now = app.clock.now().timestamp_millis();
    app.db
        .tx(move |tx| {
            let mut s = store::load_secret(tx, &project, &name)?;
            change(tx, &mut s, now)?;
            s.update_ms = now;
            store::save_secret(tx, &s)?;
            Ok(s)
        })
        .await
}

pub async fn delete_secret(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
) -> Result<StatusCode, CsmsError> {
    let project = caller.project().to_owned();
    let now = app.clock.now().timestamp_millis();
    let rng = app.rng.clone();
    app.db
        .tx(move |tx| {
            let secret = store::load_secret(tx, &project, &path.secret_name)?;
            notify::emit(tx, &rng, &secret, EventType::Deleted, now)?;
            store::purge_secret(tx, &secret)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_secret_for_schedule(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
    Body(req, _): CsmsBody<DeleteSecretForScheduleRequest>,
) -> Result<Json<SecretResponse>, CsmsError> {
    let days = domain::parse_recovery_days(req.recovery_window_in_days)?;
    let secret = change_secret(&app, &caller, path.secret_name, move |_, s, now| {
        s.state = s.state.schedule_deletion()?;
        s.scheduled_delete_ms = Some(now + days * 86_400_000);
        Ok(())
    })
    .await?;
    Ok(Json(SecretResponse {
        secret: Secret::of(&secret),
    }))
}

pub async fn restore_secret(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
) -> Result<Json<SecretResponse>, CsmsError> {
    let secret = change_secret(&app, &caller, path.secret_name, |_, s, _| {
        s.state = s.state.restore()?;
        s.scheduled_delete_ms = None;
        Ok(())
    })
    .await?;
    Ok(Json(SecretResponse {
        secret: Secret::of(&secret),
    }))
}
