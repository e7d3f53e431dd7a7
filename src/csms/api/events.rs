//! Events and their notifications: CreateSecretEvent, ShowSecretEvent,
//! ListSecretEvents, UpdateSecretEvent, DeleteSecretEvent and
//! ListNotificationRecords.

use super::secrets::parse_limit;
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::query::Query;
use crate::csms::domain::{self, Target};
use crate::csms::error::CsmsError;
use crate::csms::jobs::notify;
use crate::csms::store::{self, EventRecord};
use crate::csms::wire::CsmsBody;
use crate::csms::wire::CsmsQuery;
use crate::csms::wire::*;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;

#[derive(serde::Deserialize)]
pub struct EventPath {
    event_name: String,
}

fn parse_target(raw: Option<&NotificationBody>) -> Result<Target, CsmsError> {
    let raw = raw.ok_or(CsmsError::MissingParameter("notification"))?;
    Target::parse(
        raw.target_type.as_deref(),
        raw.target_id.as_deref(),
        raw.target_name.as_deref(),
    )
}

pub async fn create_secret_event(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): CsmsBody<CreateSecretEventRequest>,
) -> Result<Json<EventResponse>, CsmsError> {
    let name = domain::parse_name(req.name.as_deref(), "name")?;
    let event_types = domain::parse_event_types(req.event_types.as_deref())?;
    let enabled = domain::parse_event_state(req.state.as_deref())?;
    let target = parse_target(req.notification.as_ref())?;
    let now = app.clock.now().timestamp_millis();
    let event = EventRecord {
        event_id: app.rng.uuid().to_string(),
        name,
        project_id: caller.project().to_owned(),
        event_types,
        enabled,
        target,
        create_ms: now,
        update_ms: now,
    };
    let saved = event.clone();
    app.db.tx(move |tx| store::insert_event(tx, &event)).await?;
    Ok(Json(EventResponse {
        event: Event::of(&saved),
    }))
}

pub async fn show_secret_event(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<EventPath>,
) -> Result<Json<EventResponse>, CsmsError> {
    let project = caller.project().to_owned();
    let event = app
        .db
        .tx(move |tx| store::load_event(tx, &project, &path.event_name))
        .await?;
    Ok(Json(EventResponse {
        event: Event::of(&event),
    }))
}

pub async fn list_secret_events(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): CsmsQuery<ListQuery>,
) -> Result<Json<ListSecretEventsResponse>, CsmsError> {
    let limit = parse_limit(q.limit.as_deref())?;
    let marker = q.marker.filter(|m| !m.is_empty());
    let project = caller.project().to_owned();
    let mut page = app
        .db
        .tx(move |tx| store::list_events(tx, &project, marker.as_deref(), limit + 1))
        .await?;
    let more = page.len() > limit;
    page.truncate(limit);
    Ok(Json(ListSecretEventsResponse {
        page_info: PageInfo {
            next_marker: page.last().filter(|_| more).map(|e| e.name.clone()),
            previous_marker: page.first().map(|e| e.name.clone()),
            current_count: page.len() as i64,
        },
        events: page.iter().map(Event::of).collect(),
    }))
}

pub async fn update_secret_event(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<EventPath>,
    Body(req, _): CsmsBody<UpdateSecretEventRequest>,
) -> Result<Json<EventResponse>, CsmsError> {
    let enabled = req
        .state
        .as_deref()
        .map(|s| domain::parse_event_state(Some(s)))
        .transpose()?;
    let types = req
        .event_types
        .as_deref()
        .map(|t| domain::parse_event_types(Some(t)))
        .transpose()?;
    let target = req
        .notification
        .as_ref()
        .map(|n| parse_target(Some(n)))
        .transpose()?;
    let project = caller.project().to_owned();
    let now = app.clock.now().timestamp_millis();
    let event = app
        .db
        .tx(move |tx| {
            let mut e = store::load_event(tx, &project, &path.event_name)?;
            if let Some(on) = enabled {
                e.enabled = on;
            }
            if let Some(t) = &types {
                e.event_types = t.clone();
            }
            if let Some(t) = &target {
                e.target = t.clone();
            }
            e.update_ms = now;
            store::save_event(tx, &e)?;
            Ok::<_, CsmsError>(e)
        })
        .await?;
    Ok(Json(EventResponse {
        event: Event::of(&event),
    }))
}

/// The seed operation: deletes the event at once and for good, unless a
/// secret still subscribes to it ("如事件存在凭据引用，则无法删除，请先解除关联").
pub async fn delete_secret_event(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<EventPath>,
) -> Result<StatusCode, CsmsError> {
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| store::delete_event(tx, &project, &path.event_name))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_notification_records(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<ListNotificationRecordsResponse>, CsmsError> {
    let project = caller.project().to_owned();
    let records = app
        .db
        .tx(move |tx| notify::list_records(tx, &project))
        .await?;
    Ok(Json(ListNotificationRecordsResponse {
        page_info: PageInfo {
            next_marker: None,
            previous_marker: None,
            current_count: records.len() as i64,
        },
        records: records.iter().map(Record::of).collect(),
    }))
}
