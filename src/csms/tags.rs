//! Secret tags: BatchCreateOrDeleteTags, CreateSecretTag, DeleteSecretTag,
//! ListSecretTags, ListProjectSecretsTags and ListResourceInstances. Rules and
//! operations live in `common::tags` (the rules are KMS's); the `{secret_id}`
//! of the path is a secret's id (its name is accepted too).

use super::error::CsmsError;
use super::store::{self, SecretRecord};
use super::wire::CsmsBody;
use super::wire::{Secret, TagList};
use crate::auth::Caller;
use crate::common::body::{string_or_number, Body};
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
use serde::{Deserialize, Serialize};

/// Secrets of a project; a resource-instance row shows the secret.
#[derive(Clone)]
struct SecretTags;

impl TagStore for SecretTags {
    type Error = CsmsError;
    type Record = SecretRecord;

    fn tags_of(&self, tx: &mut dyn Tx, project: &str, id: &str) -> Result<Tags, CsmsError> {
        Ok(store::load_secret_by_id(tx, project, id)?.tags)
    }

    fn update(
        &self,
        tx: &mut dyn Tx,
        project: &str,
        id: &str,
        change: &mut dyn FnMut(&mut Tags) -> Result<(), CsmsError>,
    ) -> Result<(), CsmsError> {
        let mut s = store::load_secret_by_id(tx, project, id)?;
        s.state.check_editable()?;
        change(&mut s.tags)?;
        store::save_secret(tx, &s)
    }

    fn scan(
        &self,
        tx: &mut dyn Tx,
        project: &str,
    ) -> Result<Vec<Resource<SecretRecord>>, CsmsError> {
        Ok(store::all_secrets(tx, project)?
            .into_iter()
            .map(|s| Resource {
                id: s.id.clone(),
                // `matches` on resource_name is a substring match on the name.
                name: s.name.clone(),
                tags: s.tags.clone(),
                record: s,
            })
            .collect())
    }
}

impl TagDialect for CsmsError {
    const DEFAULT_LIMIT: usize = 10;
    const MAX_MATCH_CHARS: Option<usize> = Some(255);

    fn invalid_action() -> Self {
        CsmsError::InvalidParameter("action")
    }
    fn value_required() -> Option<Self> {
        Some(CsmsError::InvalidParameter("tag value"))
    }
    fn tag_not_found() -> Self {
        CsmsError::TagNotFound
    }
    fn too_many_conditions() -> Option<Self> {
        Some(CsmsError::InvalidParameter("tags"))
    }
    fn invalid_matches() -> Self {
        CsmsError::InvalidParameter("matches")
    }
    fn invalid_limit() -> Self {
        CsmsError::InvalidParameter("limit")
    }
    fn invalid_offset() -> Self {
        CsmsError::InvalidParameter("offset")
    }
}

#[derive(Deserialize)]
pub struct SecretIdPath {
    secret_id: String,
}

#[derive(Deserialize)]
pub struct TagPath {
    secret_id: String,
    key: String,
}

#[derive(Deserialize, Serialize, Clone, Default)]
pub struct TagItem {
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct BatchRequest {
    pub tags: Option<Vec<TagItem>>,
    pub action: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CreateTagRequest {
    pub tag: Option<TagItem>,
}

#[derive(Deserialize, Default)]
pub struct ResourceInstancesRequest {
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub limit: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub offset: Option<String>,
    pub action: Option<String>,
    pub tags: Option<Vec<TagFilter>>,
    pub matches: Option<Vec<TagItem>>,
    pub sequence: Option<String>,
}

#[derive(Serialize)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

#[derive(Serialize)]
pub struct ListSecretTagsResponse {
    pub tags: Vec<KeyValue>,
    pub sys_tags: Vec<KeyValue>,
}

#[derive(Serialize)]
pub struct ListProjectSecretsTagsResponse {
    pub tags: Vec<TagList>,
}

#[derive(Serialize)]
pub struct ActionResources {
    pub resource_id: String,
    pub resource_detail: Secret,
    pub resource_name: String,
    pub tags: Vec<KeyValue>,
    pub sys_tags: Vec<KeyValue>,
}

#[derive(Serialize)]
pub struct ListResourceInstancesResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<ActionResources>>,
    pub total_count: i64,
}

fn raw_items(items: Vec<TagItem>) -> impl Iterator<Item = batch::RawItem> {
    items.into_iter().map(|t| (t.key, t.value))
}

fn key_values(tags: &Tags) -> Vec<KeyValue> {
    ops::key_values(tags, |key, value| KeyValue { key, value })
}

pub async fn batch_create_or_delete_tags(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretIdPath>,
    Body(req, _): CsmsBody<BatchRequest>,
) -> Result<StatusCode, CsmsError> {
    let _ = req.sequence;
    let action = batch::parse::<CsmsError>(
        req.action.as_deref(),
        raw_items(req.tags.unwrap_or_default()),
    )?;
    ops::change(
        &app.db,
        SecretTags,
        caller.project(),
        path.secret_id,
        action,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn create_secret_tag(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretIdPath>,
    Body(req, _): CsmsBody<CreateTagRequest>,
) -> Result<StatusCode, CsmsError> {
    let tag = req.tag.ok_or(CsmsError::MissingParameter("tag"))?;
    let action = batch::parse::<CsmsError>(Some("create"), raw_items(vec![tag]))?;
    ops::change(
        &app.db,
        SecretTags,
        caller.project(),
        path.secret_id,
        action,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_secret_tag(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<TagPath>,
) -> Result<StatusCode, CsmsError> {
    let key = TagKey::parse(&path.key)?;
    ops::remove(&app.db, SecretTags, caller.project(), path.secret_id, key).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_secret_tags(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretIdPath>,
) -> Result<Json<ListSecretTagsResponse>, CsmsError> {
    let tags = ops::tags_of(&app.db, SecretTags, caller.project(), path.secret_id).await?;
    Ok(Json(ListSecretTagsResponse {
        tags: key_values(&tags),
        sys_tags: Vec::new(),
    }))
}

pub async fn list_project_secrets_tags(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<ListProjectSecretsTagsResponse>, CsmsError> {
    let all = ops::project_tags(&app.db, SecretTags, caller.project()).await?;
    Ok(Json(ListProjectSecretsTagsResponse {
        tags: all
            .into_iter()
            .map(|(key, values)| TagList { key, values })
            .collect(),
    }))
}

#[derive(Deserialize)]
pub struct ResourceInstancesPath {
    secret_id: String,
}

pub async fn list_resource_instances(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ResourceInstancesPath>,
    Body(req, _): CsmsBody<ResourceInstancesRequest>,
) -> Result<Json<ListResourceInstancesResponse>, CsmsError> {
    if path.secret_id != "resource_instances" {
        return Err(CsmsError::InvalidUrl);
    }
    let _ = req.sequence;
    let query = Query::parse::<CsmsError>(RawQuery {
        action: req.action,
        tags: req.tags,
        matches: raw_items(req.matches.unwrap_or_default()).collect(),
        limit: req.limit,
        offset: req.offset,
        ..RawQuery::default()
    })?;
    let found = ops::resource_instances(&app.db, SecretTags, caller.project(), query).await?;
    let resources = found.page.map(|page| {
        page.into_iter()
            .map(|r| ActionResources {
                resource_detail: Secret::of(&r.record),
                tags: key_values(&r.tags),
                sys_tags: Vec::new(),
                resource_id: r.id,
                resource_name: r.name,
            })
            .collect()
    });
    Ok(Json(ListResourceInstancesResponse {
        resources,
        total_count: found.total_count,
    }))
}
