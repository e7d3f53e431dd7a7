//! Key tags: BatchCreateKmsTags, CreateKmsTag, DeleteTag, ShowKmsTags,
//! ListKmsTags and ListKmsByTags. Rules and operations live in
//! `common::tags`; this file says where a key keeps its tags and how KMS
//! answers each refusal.

use super::domain;
use super::error::KmsError;
use super::store::{self, KeyRecord};
use super::wire::KmsBody;
use super::wire::*;
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::tags::dialect::TagDialect;
use crate::common::tags::query::{Query, RawQuery, TagFilter};
use crate::common::tags::rules::TagKey;
use crate::common::tags::store::{Resource, TagStore, Tags};
use crate::common::tags::{batch, ops};
use crate::server::state::AppState;
use crate::store::Tx;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Keys of a project; a resource-instance row shows the key's details.
#[derive(Clone)]
struct KeyTags;

impl TagStore for KeyTags {
    type Error = KmsError;
    type Record = KeyRecord;

    fn tags_of(&self, tx: &mut dyn Tx, project: &str, id: &str) -> Result<Tags, KmsError> {
        Ok(store::load(tx, project, id)?.tags)
    }

    fn update(
        &self,
        tx: &mut dyn Tx,
        project: &str,
        id: &str,
        change: &mut dyn FnMut(&mut Tags) -> Result<(), KmsError>,
    ) -> Result<(), KmsError> {
        let mut key = store::load(tx, project, id)?;
        key.key_state.check_editable()?;
        change(&mut key.tags)?;
        store::save(tx, &key)
    }

    fn scan(&self, tx: &mut dyn Tx, project: &str) -> Result<Vec<Resource<KeyRecord>>, KmsError> {
        Ok(store::list(tx, project)?
            .into_iter()
            .map(|k| Resource {
                id: k.key_id.clone(),
                // `matches` on resource_name is a substring match on the alias.
                name: k.key_alias.clone(),
                tags: k.tags.clone(),
                record: k,
            })
            .collect())
    }
}

impl TagDialect for KmsError {
    const DEFAULT_LIMIT: usize = 10;
    const MAX_MATCH_CHARS: Option<usize> = Some(255);

    fn invalid_action() -> Self {
        KmsError::InvalidTagAction
    }
    fn value_required() -> Option<Self> {
        Some(KmsError::InvalidTagValue)
    }
    fn tag_not_found() -> Self {
        KmsError::TagNotFound
    }
    fn invalid_matches() -> Self {
        KmsError::InvalidMatches
    }
    fn invalid_limit() -> Self {
        KmsError::InvalidParameter("limit")
    }
    fn invalid_offset() -> Self {
        KmsError::InvalidOffset
    }
}

#[derive(serde::Deserialize)]
pub struct KeyPath {
    key_id: String,
}

#[derive(serde::Deserialize)]
pub struct TagPath {
    key_id: String,
    key: String,
}

fn raw_items(items: Vec<TagItem>) -> impl Iterator<Item = batch::RawItem> {
    items.into_iter().map(|t| (t.key, t.value))
}

/// The tags a new key (a replica) starts with, validated as a create batch.
pub fn initial(items: Option<Vec<TagItem>>) -> Result<Tags, KmsError> {
    let mut tags = Tags::new();
    let Some(items) = items.filter(|i| !i.is_empty()) else {
        return Ok(tags);
    };
    let action = batch::parse::<KmsError>(Some("create"), raw_items(items))?;
    crate::common::tags::rules::apply(&mut tags, action)?;
    Ok(tags)
}

fn key_values(tags: &Tags) -> Vec<KeyValue> {
    ops::key_values(tags, |key, value| KeyValue { key, value })
}

pub async fn batch_create_kms_tags(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<KeyPath>,
    Body(req, _): KmsBody<BatchCreateKmsTagsRequest>,
) -> Result<StatusCode, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let action = batch::parse::<KmsError>(
        req.action.as_deref(),
        raw_items(req.tags.unwrap_or_default()),
    )?;
    let key_id = domain::parse_key_id(Some(&path.key_id))?;
    ops::change(&app.db, KeyTags, caller.project(), key_id, action).await?;
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
    let action = batch::parse::<KmsError>(Some("create"), raw_items(vec![tag]))?;
    let key_id = domain::parse_key_id(Some(&path.key_id))?;
    ops::change(&app.db, KeyTags, caller.project(), key_id, action).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_tag(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<TagPath>,
) -> Result<StatusCode, KmsError> {
    let key_id = domain::parse_key_id(Some(&path.key_id))?;
    let tag_key = TagKey::parse(&path.key)?;
    ops::remove(&app.db, KeyTags, caller.project(), key_id, tag_key).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn show_kms_tags(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<KeyPath>,
) -> Result<Json<ShowKmsTagsResponse>, KmsError> {
    let key_id = domain::parse_key_id(Some(&path.key_id))?;
    let tags = ops::tags_of(&app.db, KeyTags, caller.project(), key_id).await?;
    Ok(Json(ShowKmsTagsResponse {
        exist_tags_num: tags.len() as i64,
        tags: key_values(&tags),
    }))
}

pub async fn list_kms_tags(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<ListKmsTagsResponse>, KmsError> {
    let all = ops::project_tags(&app.db, KeyTags, caller.project()).await?;
    Ok(Json(ListKmsTagsResponse {
        tags: all
            .into_iter()
            .map(|(k, vs)| Tag {
                key: Some(k),
                values: Some(vs),
            })
            .collect(),
    }))
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
    let query = Query::parse::<KmsError>(RawQuery {
        action: req.action,
        tags: req.tags.map(|ts| {
            ts.into_iter()
                .map(|t| TagFilter {
                    key: t.key,
                    values: t.values,
                })
                .collect()
        }),
        matches: raw_items(req.matches.unwrap_or_default()).collect(),
        limit: req.limit,
        offset: req.offset,
        ..RawQuery::default()
    })?;
    let found = ops::resource_instances(&app.db, KeyTags, caller.project(), query).await?;
    let resources = found.page.map(|page| {
        page.into_iter()
            .map(|r| ActionResources {
                key_details: KeyDetails::from_record(
                    &r.record,
                    super::api::provision::realm(&app, caller.project()),
                ),
                tags: key_values(&r.tags),
                resource_id: r.id,
                resource_name: r.name,
            })
            .collect()
    });
    Ok(Json(ListKmsByTagsResponse {
        resources,
        total_count: found.total_count,
    }))
}
