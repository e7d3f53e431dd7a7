//! ListSupportRegions, ReplicateKey and UpdatePrimaryRegion. dewstack serves
//! one region (`AppState::region`): it lists that one, and refuses to copy a
//! key to, or move its primary to, any region, after the same checks a
//! multi-region cloud makes first (key id, key existence in the project).

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::paging;
use crate::common::query::Query;
use crate::kms::domain;
use crate::kms::error::KmsError;
use crate::kms::store;
use crate::kms::wire::KmsQuery;
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::Json;

#[derive(serde::Deserialize)]
pub struct KeyPath {
    key_id: String,
}

/// `limit` (default 10) and `offset` of ListSupportRegions.
pub fn parse_region_paging(
    limit: Option<&str>,
    offset: Option<&str>,
) -> Result<(usize, usize), KmsError> {
    let limit =
        paging::parse_limit(limit, 10, 1000).map_err(|_| KmsError::InvalidParameter("limit"))?;
    let offset = paging::parse_offset(offset).map_err(|_| KmsError::InvalidOffset)?;
    Ok((limit, offset))
}

/// Why a request naming a target region fails: the region is required, and
/// every region is one dewstack cannot serve (even its own, which is no
/// other region to copy to or to move the primary to).
pub fn target_region_error(raw: Option<&str>, field: &'static str) -> KmsError {
    match raw.map(str::trim) {
        None | Some("") => KmsError::MissingParameter(field),
        Some(_) => KmsError::RegionUnsupported,
    }
}

pub async fn list_support_regions(
    State(app): State<AppState>,
    _caller: Caller,
    Query(q, _): KmsQuery<ListRegionsQuery>,
) -> Result<Json<ListSupportRegionsResponse>, KmsError> {
    let (limit, offset) = parse_region_paging(q.limit.as_deref(), q.offset.as_deref())?;
    let page = paging::page(vec![app.region.to_string()], offset, limit);
    Ok(Json(ListSupportRegionsResponse {
        regions: page.items,
    }))
}

async fn check_key(app: &AppState, caller: &Caller, key_id: &str) -> Result<(), KmsError> {
    let key_id = domain::parse_key_id(Some(key_id))?;
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| store::load(tx, &project, &key_id).map(|_| ()))
        .await
}

pub async fn replicate_key(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<KeyPath>,
    Body(req, _): KmsBody<ReplicateKeyRequest>,
) -> Result<Json<serde_json::Value>, KmsError> {
    check_key(&app, &caller, &path.key_id).await?;
    Err(target_region_error(
        req.replica_region.as_deref(),
        "replica_region",
    ))
}

pub async fn update_primary_region(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<KeyPath>,
    Body(req, _): KmsBody<UpdatePrimaryRegionRequest>,
) -> Result<Json<serde_json::Value>, KmsError> {
    check_key(&app, &caller, &path.key_id).await?;
    Err(target_region_error(
        req.primary_region.as_deref(),
        "primary_region",
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn paging() {
        assert_eq!(parse_region_paging(None, None).unwrap(), (10, 0));
        assert_eq!(parse_region_paging(Some("1"), Some("1")).unwrap(), (1, 1));
        assert!(parse_region_paging(Some("0"), None).is_err());
        assert!(parse_region_paging(Some("x"), None).is_err());
        assert!(parse_region_paging(None, Some("-1")).is_err());
    }

    #[test]
    fn target_regions() {
        let code = |r: Option<&str>| target_region_error(r, "replica_region").status_and_code();
        assert_eq!(code(None).1, "KMS.0204");
        assert_eq!(code(Some(" ")).1, "KMS.0204");
        assert_eq!(
            code(Some("cn-north-4")),
            (axum::http::StatusCode::BAD_REQUEST, "KMS.1102")
        );
    }
}
