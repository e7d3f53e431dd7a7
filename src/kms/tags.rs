//! Key tags: BatchCreateKmsTags, CreateKmsTag, DeleteTag, ShowKmsTags,
//! ListKmsTags and ListKmsByTags. The rules themselves live in `common::tags`.

use super::domain;
use super::error::KmsError;
use super::store::{self, KeyRecord};
use super::wire::KmsBody;
use super::wire::*;
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::paging;
use crate::common::tags::{self as rules, TagAction, TagKey, TagValue};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use std::collections::{BTreeMap, BTreeSet};

#[derive(serde::Deserialize)]
pub struct KeyPath {
    key_id: String,
}

#[derive(serde::Deserialize)]
pub struct TagPath {
    key_id: String,
    key: String,
}

async fn change_tags(
    app: &AppState,
    caller: &Caller,
    key_id: &str,
    action: TagAction,
) -> Result<(), KmsError> {
    let key_id = domain::parse_key_id(Some(key_id))?;
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| {
            let mut key = store::load(tx, &project, &key_id)?;
            key.key_state.check_editable()?;
            // Cloned because the transaction body may run again after a conflict.
            rules::apply(&mut key.tags, action.clone())?;
            store::save(tx, &key)
        })
        .await?;
    Ok(())
}

fn parse_batch(action: Option<&str>, items: Option<Vec<TagItem>>) -> Result<TagAction, KmsError> {
    let items: Vec<(String, Option<String>)> = items
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key.unwrap_or_default(), t.value))
        .collect();
    match action {
        Some("create") => {
            let parsed = rules::parse_items(&items)?;
            let with_values = parsed
                .into_iter()
                .map(|(k, v)| Ok((k, v.ok_or(KmsError::InvalidTagValue)?)))
                .collect::<Result<Vec<_>, KmsError>>()?;
            Ok(TagAction::Create(with_values))
        }
        Some("delete") => Ok(TagAction::Delete(rules::parse_items(&items)?)),
        _ => Err(KmsError::InvalidTagAction),
    }
}

pub async fn batch_create_kms_tags(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<KeyPath>,
    Body(req, _): KmsBody<BatchCreateKmsTagsRequest>,
) -> Result<StatusCode, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let action = parse_batch(req.action.as_deref(), req.tags)?;
    change_tags(&app, &caller, &path.key_id, action).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn create_kms_tag(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<KeyPath>,
    Body(req, _): KmsBody<CreateKmsTagRequest>,
) -> Result<StatusCode, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let tag = req.tag.ok_or(KmsError::MissingParameter("tag"))?;
    let action = parse_batch(Some("create"), Some(vec![tag]))?;
    change_tags(&app, &caller, &path.key_id, action).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_tag(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<TagPath>,
) -> Result<StatusCode, KmsError> {
    let key_id = domain::parse_key_id(Some(&path.key_id))?;
    let tag_key = TagKey::parse(&path.key)?;
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| {
            let mut key = store::load(tx, &project, &key_id)?;
            key.key_state.check_editable()?;
            if key.tags.remove(tag_key.as_str()).is_none() {
                return Err(KmsError::TagNotFound);
            }
            store::save(tx, &key)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn tag_list(tags: &BTreeMap<String, String>) -> Vec<KeyValue> {
    tags.iter()
        .map(|(k, v)| KeyValue {
            key: k.clone(),
            value: v.clone(),
        })
        .collect()
}

pub async fn show_kms_tags(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<KeyPath>,
) -> Result<Json<ShowKmsTagsResponse>, KmsError> {
    let key_id = domain::parse_key_id(Some(&path.key_id))?;
    let project = caller.project().to_owned();
    let key = app
        .db
        .tx(move |tx| store::load(tx, &project, &key_id))
        .await?;
    Ok(Json(ShowKmsTagsResponse {
        exist_tags_num: key.tags.len() as i64,
        tags: tag_list(&key.tags),
    }))
}

pub async fn list_kms_tags(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<ListKmsTagsResponse>, KmsError> {
    let project = caller.project().to_owned();
    let keys = app.db.tx(move |tx| store::list(tx, &project)).await?;
    let mut all: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for key in &keys {
        for (k, v) in &key.tags {
            all.entry(k.clone()).or_default().insert(v.clone());
        }
    }
    Ok(Json(ListKmsTagsResponse {
        tags: all
            .into_iter()
            .map(|(k, vs)| Tag {
                key: Some(k),
                values: Some(vs.into_iter().collect()),
            })
            .collect(),
    }))
}

/// A parsed `resource_instances` query: every tag must be present with one of
/// its values (no values = any value); `matches` on `resource_name` is a
/// substring match on the alias.
struct Filter {
    tags: Vec<(TagKey, Vec<String>)>,
    name_contains: Option<String>,
}

impl Filter {
    fn parse(tags: Option<Vec<Tag>>, matches: Option<Vec<TagItem>>) -> Result<Self, KmsError> {
        let mut parsed = Vec::new();
        for t in tags.unwrap_or_default() {
            let key = TagKey::parse(t.key.as_deref().unwrap_or(""))?;
            let values = t.values.unwrap_or_default();
            for v in &values {
                TagValue::parse(v)?;
            }
            parsed.push((key, values));
        }
        let mut name_contains = None;
        for m in matches.unwrap_or_default() {
            match (m.key.as_deref(), m.value) {
                (Some("resource_name"), Some(v)) if v.chars().count() <= 255 => {
                    name_contains = Some(v)
                }
                _ => return Err(KmsError::InvalidMatches),
            }
        }
        Ok(Self {
            tags: parsed,
            name_contains,
        })
    }

    fn accepts(&self, key: &KeyRecord) -> bool {
        let tags_ok = self.tags.iter().all(|(k, values)| {
            key.tags
                .get(k.as_str())
                .is_some_and(|have| values.is_empty() || values.iter().any(|v| v == have))
        });
        tags_ok
            && self
                .name_contains
                .as_deref()
                .is_none_or(|n| key.key_alias.contains(n))
    }
}

#[derive(serde::Deserialize)]
pub struct ResourceInstancesPath {
    key_id: String,
}

pub async fn list_kms_by_tags(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ResourceInstancesPath>,
    Body(req, _): KmsBody<ListKmsByTagsRequest>,
) -> Result<Json<ListKmsByTagsResponse>, KmsError> {
    if path.key_id != "resource_instances" {
        return Err(KmsError::InvalidUrl);
    }
    domain::check_sequence(req.sequence.as_deref())?;
    let counting = match req.action.as_deref() {
        Some("filter") => false,
        Some("count") => true,
        _ => return Err(KmsError::InvalidTagAction),
    };
    let filter = Filter::parse(req.tags, req.matches)?;
    let limit = paging::parse_limit(req.limit.as_deref(), 10, 1000)
        .map_err(|_| KmsError::InvalidParameter("limit"))?;
    let offset =
        paging::parse_offset(req.offset.as_deref()).map_err(|_| KmsError::InvalidOffset)?;
    let project = caller.project().to_owned();
    let keys = app.db.tx(move |tx| store::list(tx, &project)).await?;
    let matching: Vec<KeyRecord> = keys.into_iter().filter(|k| filter.accepts(k)).collect();
    let total_count = matching.len() as i64;
    if counting {
        return Ok(Json(ListKmsByTagsResponse {
            resources: None,
            total_count,
        }));
    }
    let page = paging::page(matching, offset, limit);
    let resources = page
        .items
        .iter()
        .map(|k| ActionResources {
            resource_id: k.key_id.clone(),
            resource_detail: KeyDetails::from_record(k, &app.region),
            resource_name: k.key_alias.clone(),
            tags: tag_list(&k.tags),
        })
        .collect();
    Ok(Json(ListKmsByTagsResponse {
        resources: Some(resources),
        total_count,
    }))
}
