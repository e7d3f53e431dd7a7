//! Resource tags (BatchAddOrRemoveResourceInstance, ListQueryProjectResourceTags,
//! ListResourceInstances) on endpoint services and endpoints, and quotas
//! (ListQuotaDetails). Tag rules themselves live in `common::tags`.

use super::domain::{self, full_service_name};
use super::error::VpcepError;
use super::store;
use super::view::*;
use super::wire::*;
use super::{VpcepBody, ENDPOINT_QUOTA, SERVICE_QUOTA};
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::paging;
use crate::common::tags::{self as rules, TagAction, TagKey, TagValue};
use crate::server::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use std::collections::{BTreeMap, BTreeSet};

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

fn items_of(items: Vec<TagItem>) -> Result<Vec<(String, Option<String>)>, VpcepError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for t in items {
        let key = t.key.unwrap_or_default();
        if !seen.insert(key.clone()) {
            return Err(VpcepError::TagKeyDuplicated);
        }
        out.push((key, t.value));
    }
    Ok(out)
}

/// Tags given when a resource is created: may be absent or empty; a missing value is "".
pub fn parse_initial(items: Option<Vec<TagItem>>) -> Result<BTreeMap<String, String>, VpcepError> {
    let items = items_of(items.unwrap_or_default())?;
    let mut tags = BTreeMap::new();
    if items.is_empty() {
        return Ok(tags);
    }
    apply_create(&mut tags, &items)?;
    Ok(tags)
}

fn apply_create(
    tags: &mut BTreeMap<String, String>,
    items: &[(String, Option<String>)],
) -> Result<(), VpcepError> {
    let parsed = rules::parse_items(items)?
        .into_iter()
        .map(|(k, v)| Ok((k, v.map_or_else(|| TagValue::parse(""), Ok)?)))
        .collect::<Result<Vec<_>, VpcepError>>()?;
    rules::apply(tags, TagAction::Create(parsed))?;
    Ok(())
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
    let creating = match req.action.as_deref() {
        Some("create") => true,
        Some("delete") => false,
        _ => return Err(VpcepError::InvalidTagAction),
    };
    let items = items_of(req.tags.unwrap_or_default())?;
    let deletes = if creating {
        None
    } else {
        Some(rules::parse_items(&items)?)
    };
    if creating {
        // Validated up front so that a bad tag is refused before any lookup.
        apply_create(&mut BTreeMap::new(), &items)?;
    }
    let project = caller.project().to_owned();
    let now = app.clock.now().timestamp_millis();
    app.db
        .tx(move |tx| {
            let change = |tags: &mut BTreeMap<String, String>| -> Result<(), VpcepError> {
                match &deletes {
                    None => apply_create(tags, &items),
                    Some(d) => Ok(rules::apply(tags, TagAction::Delete(d.clone()))?),
                }
            };
            match kind {
                Kind::Service => {
                    let mut s = store::load_service(tx, &project, &id)?;
                    change(&mut s.tags)?;
                    s.updated_ms = now;
                    store::save_service(tx, &s)
                }
                Kind::Endpoint => {
                    let mut e = store::load_endpoint(tx, &project, &id)?;
                    change(&mut e.tags)?;
                    e.updated_ms = now;
                    store::save_endpoint(tx, &e)
                }
            }
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// (id, name, tags) of every resource of a kind in a project.
async fn resources(
    app: &AppState,
    project: &str,
    kind: Kind,
) -> Result<Vec<(String, String, BTreeMap<String, String>)>, VpcepError> {
    let project = project.to_owned();
    let region = app.region.to_string();
    app.db
        .tx(move |tx| {
            Ok(match kind {
                Kind::Service => store::list_services(tx, &project)?
                    .into_iter()
                    .map(|s| {
                        (
                            s.id.clone(),
                            full_service_name(&region, &s.name, &s.id),
                            s.tags,
                        )
                    })
                    .collect(),
                Kind::Endpoint => store::list_endpoints(tx, &project)?
                    .into_iter()
                    .map(|e| (e.id.clone(), e.id, e.tags))
                    .collect(),
            })
        })
        .await
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
    let mut all: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, _, tags) in resources(&app, caller.project(), kind).await? {
        for (k, v) in tags {
            all.entry(k).or_default().insert(v);
        }
    }
    Ok(Json(ProjectTagsResponse {
        tags: all
            .into_iter()
            .map(|(k, vs)| TagValues {
                key: Some(k),
                values: Some(vs.into_iter().collect()),
            })
            .collect(),
    }))
}

/// Parsed tag conditions: each key with the values it may have (none = any).
type Conditions = Vec<(String, Vec<String>)>;

fn conditions(raw: Option<Vec<TagValues>>) -> Result<Conditions, VpcepError> {
    let raw = raw.unwrap_or_default();
    if raw.len() > 10 {
        return Err(VpcepError::InvalidParameter("tags"));
    }
    let mut out: Conditions = Vec::new();
    for t in raw {
        let key = TagKey::parse(t.key.as_deref().unwrap_or_default())?;
        if out.iter().any(|(k, _)| k == key.as_str()) {
            return Err(VpcepError::TagKeyDuplicated);
        }
        let values = t.values.unwrap_or_default();
        for v in &values {
            TagValue::parse(v)?;
        }
        out.push((key.as_str().to_owned(), values));
    }
    Ok(out)
}

fn holds(tags: &BTreeMap<String, String>, (key, values): &(String, Vec<String>)) -> bool {
    tags.get(key)
        .is_some_and(|v| values.is_empty() || values.contains(v))
}

pub async fn list_resource_instances(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<TypePath>,
    Body(req, _): VpcepBody<ResourceInstancesRequest>,
) -> Result<Json<ResourceInstancesResponse>, VpcepError> {
    let kind = parse_kind(&path.resource_type)?;
    let counting = match req.action.as_deref() {
        Some("filter") => false,
        Some("count") => true,
        _ => return Err(VpcepError::InvalidTagAction),
    };
    let all_of = conditions(req.tags)?;
    let any_of = conditions(req.tags_any)?;
    let none_of_all = conditions(req.not_tags)?;
    let none_of_any = conditions(req.not_tags_any)?;
    let mut name_match: Option<String> = None;
    let mut id_match: Option<String> = None;
    for m in req.matches.unwrap_or_default() {
        match (m.key.as_deref(), m.value) {
            (Some("resource_name"), Some(v)) => name_match = Some(v),
            (Some("resource_id"), Some(v)) => id_match = Some(v),
            _ => return Err(VpcepError::InvalidParameter("matches")),
        }
    }
    let limit = paging::parse_limit(req.limit.as_deref(), 1000, 1000)
        .map_err(|_| VpcepError::InvalidLimit)?;
    let offset =
        paging::parse_offset(req.offset.as_deref()).map_err(|_| VpcepError::InvalidOffset)?;
    let untagged_only = req.without_any_tag.unwrap_or(false);
    let mut matching: Vec<_> = resources(&app, caller.project(), kind)
        .await?
        .into_iter()
        .filter(|(id, name, tags)| {
            let tags_ok = if untagged_only {
                tags.is_empty()
            } else {
                all_of.iter().all(|c| holds(tags, c))
                    && (any_of.is_empty() || any_of.iter().any(|c| holds(tags, c)))
                    && (none_of_all.is_empty() || !none_of_all.iter().all(|c| holds(tags, c)))
                    && !none_of_any.iter().any(|c| holds(tags, c))
            };
            let name_ok = name_match.as_deref().is_none_or(|n| match n {
                "" => name.is_empty(),
                n => domain::fuzzy_match(name, n),
            });
            tags_ok && name_ok && id_match.as_deref().is_none_or(|i| i == id)
        })
        .collect();
    matching.sort_by(|a, b| a.0.cmp(&b.0));
    let total_count = matching.len() as i64;
    if counting {
        return Ok(Json(ResourceInstancesResponse {
            resources: None,
            total_count,
        }));
    }
    let page = paging::page(matching, offset, limit);
    Ok(Json(ResourceInstancesResponse {
        resources: Some(
            page.items
                .into_iter()
                .map(|(id, name, tags)| ResourceInstance {
                    resource_id: id,
                    tags: tag_list(&tags),
                    resource_name: name,
                })
                .collect(),
        ),
        total_count,
    }))
}

pub async fn list_quota_details(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<QuotaQuery>,
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
            let s = store::list_services(tx, &project)?.len() as i64;
            let e = store::list_endpoints(tx, &project)?.len() as i64;
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
