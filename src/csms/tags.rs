//! Secret tags: BatchCreateOrDeleteTags, CreateSecretTag, DeleteSecretTag,
//! ListSecretTags, ListProjectSecretsTags and ListResourceInstances. The rules
//! are KMS's (`common::tags`); the `{secret_id}` of the path is a secret's id
//! (its name is accepted too).

use super::error::CsmsError;
use super::store::{self, SecretRecord};
use super::wire::{Secret, TagList};
use super::CsmsBody;
use crate::auth::Caller;
use crate::common::body::{string_or_number, Body};
use crate::common::paging;
use crate::common::tags::{self as rules, TagAction, TagKey, TagValue};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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
pub struct TagFilter {
    pub key: Option<String>,
    pub values: Option<Vec<String>>,
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

fn tag_list(tags: &BTreeMap<String, String>) -> Vec<KeyValue> {
    tags.iter()
        .map(|(k, v)| KeyValue {
            key: k.clone(),
            value: v.clone(),
        })
        .collect()
}

fn parse_batch(action: Option<&str>, items: Option<Vec<TagItem>>) -> Result<TagAction, CsmsError> {
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
                .map(|(k, v)| Ok((k, v.ok_or(CsmsError::InvalidParameter("tag value"))?)))
                .collect::<Result<Vec<_>, CsmsError>>()?;
            Ok(TagAction::Create(with_values))
        }
        Some("delete") => Ok(TagAction::Delete(rules::parse_items(&items)?)),
        _ => Err(CsmsError::InvalidParameter("action")),
    }
}

async fn change_tags(
    app: &AppState,
    caller: &Caller,
    secret_id: String,
    action: TagAction,
) -> Result<(), CsmsError> {
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| {
            let mut s = store::load_secret_by_id(tx, &project, &secret_id)?;
            s.state.check_editable()?;
            rules::apply(&mut s.tags, action.clone())?;
            store::save_secret(tx, &s)
        })
        .await
}

pub async fn batch_create_or_delete_tags(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretIdPath>,
    Body(req, _): CsmsBody<BatchRequest>,
) -> Result<StatusCode, CsmsError> {
    let _ = req.sequence;
    let action = parse_batch(req.action.as_deref(), req.tags)?;
    change_tags(&app, &caller, path.secret_id, action).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn create_secret_tag(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretIdPath>,
    Body(req, _): CsmsBody<CreateTagRequest>,
) -> Result<StatusCode, CsmsError> {
    let tag = req.tag.ok_or(CsmsError::MissingParameter("tag"))?;
    let action = parse_batch(Some("create"), Some(vec![tag]))?;
    change_tags(&app, &caller, path.secret_id, action).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_secret_tag(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<TagPath>,
) -> Result<StatusCode, CsmsError> {
    let key = TagKey::parse(&path.key)?;
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| {
            let mut s = store::load_secret_by_id(tx, &project, &path.secret_id)?;
            s.state.check_editable()?;
            if s.tags.remove(key.as_str()).is_none() {
                return Err(CsmsError::TagNotFound);
            }
            store::save_secret(tx, &s)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_secret_tags(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretIdPath>,
) -> Result<Json<ListSecretTagsResponse>, CsmsError> {
    let project = caller.project().to_owned();
    let s = app
        .db
        .tx(move |tx| store::load_secret_by_id(tx, &project, &path.secret_id))
        .await?;
    Ok(Json(ListSecretTagsResponse {
        tags: tag_list(&s.tags),
        sys_tags: Vec::new(),
    }))
}

pub async fn list_project_secrets_tags(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<ListProjectSecretsTagsResponse>, CsmsError> {
    let project = caller.project().to_owned();
    let secrets = app
        .db
        .tx(move |tx| store::all_secrets(tx, &project))
        .await?;
    let mut all: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &secrets {
        for (k, v) in &s.tags {
            all.entry(k.clone()).or_default().insert(v.clone());
        }
    }
    Ok(Json(ListProjectSecretsTagsResponse {
        tags: all
            .into_iter()
            .map(|(key, values)| TagList {
                key,
                values: values.into_iter().collect(),
            })
            .collect(),
    }))
}

/// Every tag must be present with one of its values (none = any value);
/// `matches` on `resource_name` is a substring match on the secret name.
struct Filter {
    tags: Vec<(TagKey, Vec<String>)>,
    name_contains: Option<String>,
}

impl Filter {
    fn parse(
        tags: Option<Vec<TagFilter>>,
        matches: Option<Vec<TagItem>>,
    ) -> Result<Self, CsmsError> {
        let tags = tags.unwrap_or_default();
        if tags.len() > 10 {
            return Err(CsmsError::InvalidParameter("tags"));
        }
        let mut parsed = Vec::new();
        for t in tags {
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
                _ => return Err(CsmsError::InvalidParameter("matches")),
            }
        }
        Ok(Self {
            tags: parsed,
            name_contains,
        })
    }

    fn accepts(&self, s: &SecretRecord) -> bool {
        let tags_ok = self.tags.iter().all(|(k, values)| {
            s.tags
                .get(k.as_str())
                .is_some_and(|have| values.is_empty() || values.iter().any(|v| v == have))
        });
        tags_ok
            && self
                .name_contains
                .as_deref()
                .is_none_or(|n| s.name.contains(n))
    }
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
    let counting = match req.action.as_deref() {
        Some("filter") => false,
        Some("count") => true,
        _ => return Err(CsmsError::InvalidParameter("action")),
    };
    let filter = Filter::parse(req.tags, req.matches)?;
    let limit = paging::parse_limit(req.limit.as_deref(), 10, 1000)
        .map_err(|_| CsmsError::InvalidParameter("limit"))?;
    let offset = paging::parse_offset(req.offset.as_deref())
        .map_err(|_| CsmsError::InvalidParameter("offset"))?;
    let project = caller.project().to_owned();
    let secrets = app
        .db
        .tx(move |tx| store::all_secrets(tx, &project))
        .await?;
    let matching: Vec<SecretRecord> = secrets.into_iter().filter(|s| filter.accepts(s)).collect();
    let total_count = matching.len() as i64;
    if counting {
        return Ok(Json(ListResourceInstancesResponse {
            resources: None,
            total_count,
        }));
    }
    let page = paging::page(matching, offset, limit);
    let resources = page
        .items
        .iter()
        .map(|s| ActionResources {
            resource_id: s.id.clone(),
            resource_detail: Secret::of(s),
            resource_name: s.name.clone(),
            tags: tag_list(&s.tags),
            sys_tags: Vec::new(),
        })
        .collect();
    Ok(Json(ListResourceInstancesResponse {
        resources: Some(resources),
        total_count,
    }))
}
