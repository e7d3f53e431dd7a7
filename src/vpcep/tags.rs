//! Resource tags (BatchAddOrRemoveResourceInstance, ListQueryProjectResourceTags,
//! ListResourceInstances) on endpoint services and endpoints, and quotas
//! (ListQuotaDetails). Rules and operations live in `common::tags`; this
//! file says where each resource kind keeps its tags and how VPCEP answers.

use super::domain::{self, full_service_name};
use super::domain::{ENDPOINT_QUOTA, SERVICE_QUOTA};
use super::error::VpcepError;
use super::store;
use super::view::*;
use super::wire::VpcepBody;
use super::wire::*;
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::query::Query;
use crate::common::tags::dialect::TagDialect;
use crate::common::tags::query::{self, RawQuery, TagFilter};
use crate::common::tags::rules::{self, TagAction};
use crate::common::tags::store::{Resource, TagStore, Tags};
use crate::common::tags::{batch, ops};
use crate::server::state::AppState;
use crate::store::Tx;
use crate::vpcep::wire::VpcepQuery;
use axum::extract::{Path, State};
use axum::http::StatusCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Service,
    Endpoint,
}

fn parse_kind(raw: &str) -> Result<Kind, VpcepError> {
    match raw {
        "endpoint_service" => Ok(Kind::Service),
        "endpoint" => Ok(Kind::Endpoint),
        _ => Err(VpcepError::InvalidResourceType),
    }
}

/// Endpoint services or endpoints of a project. A resource-instance row
/// shows only id, name (a service's full name; an endpoint's id) and tags.
#[derive(Clone)]
struct ResourceTags {
    kind: Kind,
    region: String,
    /// Stamped as `updated_ms` on a resource whose tags change.
    now_ms: i64,
}

impl TagStore for ResourceTags {
    type Error = VpcepError;
    type Record = ();

    fn tags_of(&self, tx: &mut dyn Tx, project: &str, id: &str) -> Result<Tags, VpcepError> {
        Ok(match self.kind {
            Kind::Service => store::load_service(tx, project, id)?.tags,
            Kind::Endpoint => store::load_endpoint(tx, project, id)?.tags,
        })
    }

    fn update(
        &self,
        tx: &mut dyn Tx,
        project: &str,
        id: &str,
        change: &mut dyn FnMut(&mut Tags) -> Result<(), VpcepError>,
    ) -> Result<(), VpcepError> {
        match self.kind {
            Kind::Service => {
                let mut s = store::load_service(tx, project, id)?;
                change(&mut s.tags)?;
                s.updated_ms = self.now_ms;
                store::save_service(tx, &s)
            }
            Kind::Endpoint => {
                let mut e = store::load_endpoint(tx, project, id)?;
                change(&mut e.tags)?;
                e.updated_ms = self.now_ms;
                store::save_endpoint(tx, &e)
            }
        }
    }

    fn scan(&self, tx: &mut dyn Tx, project: &str) -> Result<Vec<Resource<()>>, VpcepError> {
        Ok(match self.kind {
            Kind::Service => store::list_services(tx, project)?
                .into_iter()
                .map(|s| Resource {
                    name: full_service_name(&self.region, &s.name, &s.id),
                    id: s.id,
                    tags: s.tags,
                    record: (),
                })
                .collect(),
            Kind::Endpoint => store::list_endpoints(tx, project)?
                .into_iter()
                .map(|e| Resource {
                    name: e.id.clone(),
                    id: e.id,
                    tags: e.tags,
                    record: (),
                })
                .collect(),
        })
    }
}

impl TagDialect for VpcepError {
    const DEFAULT_LIMIT: usize = 1000;
    const MATCH_BY_ID: bool = true;
    const SORT_BY_ID: bool = true;

    fn invalid_action() -> Self {
        VpcepError::InvalidTagAction
    }
    /// A tag without a value gets "".
    fn value_required() -> Option<Self> {
        None
    }
    /// Not reachable: VPCEP has no single-tag delete.
    fn tag_not_found() -> Self {
        VpcepError::NotFound
    }
    fn duplicate_key() -> Option<Self> {
        Some(VpcepError::TagKeyDuplicated)
    }
    fn too_many_conditions() -> Option<Self> {
        Some(VpcepError::InvalidParameter("tags"))
    }
    fn invalid_matches() -> Self {
        VpcepError::InvalidParameter("matches")
    }
    fn invalid_limit() -> Self {
        VpcepError::InvalidLimit
    }
    fn invalid_offset() -> Self {
        VpcepError::InvalidOffset
    }
    /// "" matches only an empty name; otherwise a case-insensitive substring.
    fn name_matches(name: &str, pattern: &str) -> bool {
        match pattern {
            "" => name.is_empty(),
            p => domain::fuzzy_match(name, p),
        }
    }
}

fn raw_items(items: Option<Vec<TagItem>>) -> impl Iterator<Item = batch::RawItem> {
    items
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.value))
}

fn filters(raw: Option<Vec<TagValues>>) -> Option<Vec<TagFilter>> {
    raw.map(|ts| {
        ts.into_iter()
            .map(|t| TagFilter {
                key: t.key,
                values: t.values,
            })
            .collect()
    })
}

/// Tags given when a resource is created: may be absent or empty; a missing value is "".
pub fn parse_initial(items: Option<Vec<TagItem>>) -> Result<Tags, VpcepError> {
    let items = batch::keyed::<VpcepError>(raw_items(items))?;
    let mut tags = Tags::new();
    if items.is_empty() {
        return Ok(tags);
    }
    rules::apply(
        &mut tags,
        TagAction::Create(batch::creates::<VpcepError>(&items)?),
    )?;
    Ok(tags)
}

#[derive(serde::Deserialize)]
pub struct TagPath {
    resource_type: String,
    resource_id: String,
}

pub async fn batch_add_or_remove_resource_instance(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<TagPath>,
    Body(req, _): VpcepBody<TagActionRequest>,
) -> Result<StatusCode, VpcepError> {
    let kind = parse_kind(&path.resource_type)?;
    let id = match kind {
        Kind::Service => domain::parse_uuid(Some(&path.resource_id), VpcepError::InvalidServiceId)?,
        Kind::Endpoint => {
            domain::parse_uuid(Some(&path.resource_id), VpcepError::InvalidEndpointId)?
        }
    };
    let action = batch::parse::<VpcepError>(req.action.as_deref(), raw_items(req.tags))?;
    if let TagAction::Create(_) = action {
        // Validated up front so that a bad tag (or too many) is refused before any lookup.
        rules::apply(&mut Tags::new(), action.clone())?;
    }
    let store = ResourceTags {
        kind,
        region: app.region.to_string(),
        now_ms: app.clock.now().timestamp_millis(),
    };
    ops::change(&app.db, store, caller.project(), id, action).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A store for reading only: nothing is stamped with `now_ms`.
fn scanner(app: &AppState, kind: Kind) -> ResourceTags {
    ResourceTags {
        kind,
        region: app.region.to_string(),
        now_ms: 0,
    }
}

#[derive(serde::Deserialize)]
pub struct TypePath {
    resource_type: String,
}

pub async fn list_query_project_resource_tags(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<TypePath>,
) -> Result<Json<ProjectTagsResponse>, VpcepError> {
    let kind = parse_kind(&path.resource_type)?;
    let all = ops::project_tags(&app.db, scanner(&app, kind), caller.project()).await?;
    Ok(Json(ProjectTagsResponse {
        tags: all
            .into_iter()
            .map(|(k, vs)| TagValues {
                key: Some(k),
                values: Some(vs),
            })
            .collect(),
    }))
}

pub async fn list_resource_instances(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<TypePath>,
    Body(req, _): VpcepBody<ResourceInstancesRequest>,
) -> Result<Json<ResourceInstancesResponse>, VpcepError> {
    let kind = parse_kind(&path.resource_type)?;
    let query = query::Query::parse::<VpcepError>(RawQuery {
        action: req.action,
        tags: filters(req.tags),
        tags_any: filters(req.tags_any),
        not_tags: filters(req.not_tags),
        not_tags_any: filters(req.not_tags_any),
        matches: raw_items(req.matches).collect(),
        without_any_tag: req.without_any_tag.unwrap_or(false),
        limit: req.limit,
        offset: req.offset,
    })?;
    let found =
        ops::resource_instances(&app.db, scanner(&app, kind), caller.project(), query).await?;
    let resources = found.page.map(|page| {
        page.into_iter()
            .map(|r| ResourceInstance {
                tags: tag_list(&r.tags),
                resource_id: r.id,
                resource_name: r.name,
            })
            .collect()
    });
    Ok(Json(ResourceInstancesResponse {
        resources,
        total_count: found.total_count,
    }))
}

pub async fn list_quota_details(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): VpcepQuery<QuotaQuery>,
) -> Result<Json<QuotasResponse>, VpcepError> {
    let only = q
        .kind
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(parse_kind)
        .transpose()?;
    let project = caller.project().to_owned();
    let (services, endpoints) = app
        .db
        .tx(move |tx| {
            let s = store::count_services(tx, &project)? as i64;
            let e = store::count_endpoints(tx, &project)? as i64;
            Ok::<_, VpcepError>((s, e))
        })
        .await?;
    let mut resources = Vec::new();
    if only.is_none_or(|k| k == Kind::Service) {
        resources.push(Quota {
            kind: "endpoint_service".into(),
            used: services,
            quota: SERVICE_QUOTA as i64,
        });
    }
    if only.is_none_or(|k| k == Kind::Endpoint) {
        resources.push(Quota {
            kind: "endpoint".into(),
            used: endpoints,
            quota: ENDPOINT_QUOTA as i64,
        });
    }
    Ok(Json(QuotasResponse {
        quotas: Quotas { resources },
    }))
}
