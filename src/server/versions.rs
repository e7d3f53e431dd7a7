//! `GET /` and `GET /{version}`: both the KMS SDK (ShowVersions, ShowVersion)
//! and the VPCEP SDK (ListVersionDetails, ListSpecifiedVersionDetails) call
//! these on the same dewstack endpoint, so one answer serves both: every
//! version either API has (KMS `v1.0`, VPCEP `v1`), each with the union of
//! the two SDKs' version fields (`links[].type` is VPCEP's, the rest shared).
//!
//! No credentials are asked: VPCEP's API reference lists no X-Auth-Token
//! for either call (only Content-Type), version documents are public in
//! the OpenStack convention these follow, and they hold nothing of any
//! project. KMS's ShowVersions/ShowVersion share the route, so they are
//! public too (dewstack's choice). A signed request is answered the same.

use crate::common::envelope::{render, Style};
use crate::common::json::Json;
use crate::server::state::AppState;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;

#[derive(Serialize, Clone)]
pub struct Link {
    pub href: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub rel: String,
}

#[derive(Serialize, Clone)]
pub struct VersionDetail {
    pub id: String,
    pub links: Vec<Link>,
    pub version: String,
    pub status: String,
    pub updated: String,
    pub min_version: String,
}

#[derive(Serialize)]
pub struct VersionsResponse {
    pub versions: Vec<VersionDetail>,
}

#[derive(Serialize)]
pub struct VersionResponse {
    pub version: VersionDetail,
}

/// (id, release date): KMS v1.0, VPCEP v1.
pub const API_VERSIONS: [(&str, &str); 2] = [
    ("v1.0", "2018-09-30T00:00:00Z"),
    ("v1", "2018-06-30T00:00:00Z"),
];

fn detail(headers: &HeaderMap, id: &str, updated: &str) -> VersionDetail {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    VersionDetail {
        id: id.to_owned(),
        links: vec![Link {
            href: format!("http://{host}/{id}/"),
            kind: "application/json".into(),
            rel: "self".into(),
        }],
        version: String::new(),
        status: "CURRENT".into(),
        updated: updated.to_owned(),
        min_version: String::new(),
    }
}

pub async fn list_versions(headers: HeaderMap) -> Json<VersionsResponse> {
    Json(VersionsResponse {
        versions: API_VERSIONS
            .iter()
            .map(|(id, updated)| detail(&headers, id, updated))
            .collect(),
    })
}

pub async fn show_version(headers: HeaderMap, Path(version_id): Path<String>) -> Response {
    match API_VERSIONS.iter().find(|(id, _)| *id == version_id) {
        Some((id, updated)) => Json(VersionResponse {
            version: detail(&headers, id, updated),
        })
        .into_response(),
        // KMS's answer to an unknown URL (the KMS SDK tests expect it).
        None => render(
            Style::Dew,
            StatusCode::BAD_REQUEST,
            "KMS.0201",
            "Invalid request URL.",
        ),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(list_versions))
        .route("/{version_id}", get(show_version))
}
