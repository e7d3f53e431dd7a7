//! CTS's ListTraces (`GET /v3/{project_id}/traces`) over dewstack's own
//! trail file: the caller's project only, newest first, at most 200 per
//! page, paged by `next` (the last trace id of the previous page). Reads
//! the current file and its rotated predecessors, so the scan is bounded by
//! `max_bytes × (keep + 1)`. With no file sink there is nothing to list.

use crate::audit::record::Trace;
use crate::auth::Caller;
use crate::server::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::path::PathBuf;

/// CTS's page size: 10 unless asked, at most 200 (ListTracesRequest).
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 200;
/// Without `from`, the last hour (CTS's default).
const DEFAULT_WINDOW_MS: i64 = 3_600_000;

/// CTS answers `{"error_code":"CTS.XXX","error_msg":..}`; the codes are
/// dewstack's choice (CTS publishes the shape, not these numbers).
#[derive(Debug, thiserror::Error)]
pub enum CtsError {
    #[error("Invalid parameter: {0}")]
    BadParameter(String),
    #[error("Internal error. Please retry later.")]
    Internal(String),
}

impl IntoResponse for CtsError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            CtsError::BadParameter(_) => (StatusCode::BAD_REQUEST, "CTS.0001"),
            CtsError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "CTS.0002"),
        };
        let mut response = (
            status,
            axum::Json(json!({"error_code": code, "error_msg": self.to_string()})),
        )
            .into_response();
        if let CtsError::Internal(detail) = self {
            response
                .extensions_mut()
                .insert(crate::common::envelope::InternalDetail(detail));
        }
        response
    }
}

impl From<crate::common::query::QueryError> for CtsError {
    fn from(e: crate::common::query::QueryError) -> Self {
        CtsError::BadParameter(e.0)
    }
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub trace_type: Option<String>,
    pub limit: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub next: Option<String>,
    pub tracker_name: Option<String>,
    pub service_type: Option<String>,
    pub user: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub resource_type: Option<String>,
    pub trace_id: Option<String>,
    pub trace_name: Option<String>,
    pub trace_rating: Option<String>,
    pub access_key_id: Option<String>,
    /// Accepted and not filtered on: dewstack has no enterprise projects.
    #[allow(dead_code)]
    pub enterprise_project_id: Option<String>,
}

pub async fn list_traces(
    State(app): State<AppState>,
    caller: Caller,
    crate::common::query::Query(filter, _): crate::common::query::Query<Filter, CtsError>,
) -> Result<Response, CtsError> {
    let limit = match filter.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| CtsError::BadParameter(format!("limit must be 1..={MAX_LIMIT}")))?,
    };
    if let Some(rating) = &filter.trace_rating {
        if !["normal", "warning", "incident"].contains(&rating.as_str()) {
            return Err(CtsError::BadParameter(
                "trace_rating must be normal, warning or incident".into(),
            ));
        }
    }
    if let Some(t) = &filter.trace_type {
        if t != "system" && t != "data" {
            return Err(CtsError::BadParameter(
                "trace_type must be system or data".into(),
            ));
        }
    }
    let now = app.clock.now().timestamp_millis();
    let window = (
        filter.from.unwrap_or(now - DEFAULT_WINDOW_MS),
        filter.to.unwrap_or(now),
    );
    if window.0 >= window.1 {
        return Err(CtsError::BadParameter("from must be before to".into()));
    }
    app.audit.settle().await;
    let files = app.audit.files();
    let project = caller.project().to_owned();
    let (traces, more) = tokio::task::spawn_blocking(move || {
        scan(
            &files,
            |t| matches(t, &filter, &project, window),
            limit,
            filter.next.as_deref(),
        )
    })
    .await
    .map_err(|e| CtsError::Internal(format!("trail scan: {e}")))?
    .map_err(|e| CtsError::Internal(format!("trail read: {e}")))?;
    let marker = if more {
        traces.last().map(|t| t.trace_id.clone())
    } else {
        None
    };
    Ok(axum::Json(json!({
        "traces": traces,
        "meta_data": {"count": traces.len(), "marker": marker},
    }))
    .into_response())
}

/// Whether a trace answers the query (CTS: `trace_id` alone overrides the rest).
pub fn matches(t: &Trace, f: &Filter, project: &str, (from, to): (i64, i64)) -> bool {
    if t.project_id.as_deref() != Some(project) {
        return false;
    }
    if f.trace_type.as_deref() == Some("data")
        || f.tracker_name.as_deref().is_some_and(|n| n != "system")
    {
        return false;
    }
    if let Some(id) = &f.trace_id {
        return &t.trace_id == id;
    }
    let eq =
        |want: &Option<String>, have: Option<&str>| want.as_deref().is_none_or(|w| have == Some(w));
    t.time > from
        && t.time < to
        && eq(&f.service_type, Some(&t.service_type))
        && eq(&f.user, Some(&t.user.name))
        && eq(&f.resource_id, t.resource_id.as_deref())
        && eq(&f.resource_name, t.resource_name.as_deref())
        && eq(&f.resource_type, Some(&t.resource_type))
        && eq(&f.trace_name, Some(&t.trace_name))
        && eq(&f.trace_rating, Some(&t.trace_rating))
        && eq(&f.access_key_id, t.user.access_key_id.as_deref())
}

/// Up to `limit` matching traces, newest first, after the trace `next`;
/// and whether more match.
pub fn scan(
    files: &[PathBuf],
    keep: impl Fn(&Trace) -> bool,
    limit: usize,
    next: Option<&str>,
) -> std::io::Result<(Vec<Trace<'static>>, bool)> {
    let mut out = Vec::new();
    let mut past_marker = next.is_none();
    for path in files {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for line in text.lines().rev() {
            let Ok(trace) = serde_json::from_str::<Trace<'static>>(line) else {
                continue;
            };
            if !past_marker {
                past_marker = Some(&*trace.trace_id) == next;
                continue;
            }
            if keep(&trace) {
                if out.len() == limit {
                    return Ok((out, true));
                }
                out.push(trace);
            }
        }
    }
    Ok((out, false))
}
