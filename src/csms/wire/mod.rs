//! CSMS request and response bodies with the cloud's exact field names
//! (`shared/api/csms.json`). Times are integers; like the cloud's own
//! responses they are milliseconds since the epoch (the docstrings say
//! seconds, the published response examples show milliseconds).

mod access;
pub use access::*;

use super::domain::EventType;
use super::error::CsmsError;
use super::jobs::notify::NotificationRecord;
use super::stages::{self, Stages};
use super::store::{EventRecord, SecretRecord, VersionRecord};
use crate::common::body::{string_or_number, Body};
use serde::{Deserialize, Serialize};

/// A JSON body whose rejection is a CSMS error.
pub type CsmsBody<T> = Body<T, CsmsError>;
/// A query string parsed into `T`; its rejection is a CSMS error.
pub type CsmsQuery<T> = crate::common::query::Query<T, CsmsError>;

#[derive(Deserialize, Default)]
pub struct CreateSecretRequest {
    pub name: Option<String>,
    pub kms_key_id: Option<String>,
    pub description: Option<String>,
    pub secret_binary: Option<String>,
    pub secret_string: Option<String>,
    pub secret_type: Option<String>,
    pub auto_rotation: Option<bool>,
    pub rotation_period: Option<String>,
    pub rotation_config: Option<String>,
    pub event_subscriptions: Option<Vec<String>>,
    pub enterprise_project_id: Option<String>,
    pub rotation_func_urn: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct UpdateSecretRequest {
    pub kms_key_id: Option<String>,
    pub description: Option<String>,
    pub auto_rotation: Option<bool>,
    pub rotation_period: Option<String>,
    pub event_subscriptions: Option<Vec<String>>,
    pub rotation_func_urn: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct DeleteSecretForScheduleRequest {
    pub recovery_window_in_days: Option<i64>,
}

#[derive(Serialize)]
pub struct Secret {
    pub id: String,
    pub name: String,
    pub state: String,
    pub kms_key_id: String,
    pub description: String,
    pub create_time: i64,
    pub update_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_delete_time: Option<i64>,
    pub secret_type: String,
    pub auto_rotation: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_config: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_rotation_time: Option<i64>,
    pub event_subscriptions: Vec<String>,
    pub enterprise_project_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_func_urn: Option<String>,
}

impl Secret {
    pub fn of(s: &SecretRecord) -> Self {
        Self {
            id: s.id.clone(),
            name: s.name.clone(),
            state: s.state.as_str().into(),
            kms_key_id: s.kms_key_id.clone(),
            description: s.description.clone(),
            create_time: s.create_ms,
            update_time: s.update_ms,
            scheduled_delete_time: s.scheduled_delete_ms,
            secret_type: s.secret_type.clone(),
            auto_rotation: s.auto_rotation,
            rotation_period: s.rotation_period.clone(),
            rotation_config: s.rotation_config.clone(),
            rotation_time: s.rotation_ms,
            next_rotation_time: s.next_rotation_ms,
            event_subscriptions: s.event_subscriptions.clone(),
            enterprise_project_id: s.enterprise_project_id.clone(),
            rotation_func_urn: s.rotation_func_urn.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct SecretResponse {
    pub secret: Secret,
}

#[derive(Serialize, Default)]
pub struct PageInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_marker: Option<String>,
    pub current_count: i64,
}

#[derive(Serialize)]
pub struct ListSecretsResponse {
    pub secrets: Vec<Secret>,
    pub page_info: PageInfo,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub limit: Option<String>,
    pub marker: Option<String>,
    pub event_name: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CreateSecretVersionRequest {
    pub secret_binary: Option<String>,
    pub secret_string: Option<String>,
    pub version_stages: Option<Vec<String>>,
    pub expire_time: Option<i64>,
}

#[derive(Deserialize, Default)]
pub struct UpdateVersionRequest {
    pub expire_time: Option<i64>,
}

#[derive(Serialize)]
pub struct VersionMetadata {
    pub id: String,
    pub create_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<i64>,
    pub kms_key_id: String,
    pub secret_name: String,
    pub version_stages: Vec<String>,
}

impl VersionMetadata {
    pub fn of(secret: &str, stages: &Stages, v: &VersionRecord) -> Self {
        let id = stages::version_id(v.number);
        Self {
            version_stages: stages::stages_of(stages, &id),
            id,
            create_time: v.create_ms,
            expire_time: v.expire_ms,
            kms_key_id: v.kms_key_id.clone(),
            secret_name: secret.to_owned(),
        }
    }
}

#[derive(Serialize)]
pub struct VersionMetadataResponse {
    pub version_metadata: VersionMetadata,
}

#[derive(Serialize)]
pub struct ListSecretVersionsResponse {
    pub version_metadatas: Vec<VersionMetadata>,
    pub page_info: PageInfo,
}

#[derive(Serialize)]
pub struct Version {
    pub version_metadata: VersionMetadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_binary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_string: Option<String>,
}

#[derive(Serialize)]
pub struct ShowSecretVersionResponse {
    pub version: Version,
}

#[derive(Deserialize, Default)]
pub struct UpdateSecretStageRequest {
    pub version_id: Option<String>,
}

#[derive(Serialize)]
pub struct Stage {
    pub name: String,
    pub update_time: i64,
    pub secret_name: String,
    pub version_id: String,
}

#[derive(Serialize)]
pub struct StageResponse {
    pub stage: Stage,
}

#[derive(Deserialize, Default, Clone)]
pub struct NotificationBody {
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub target_name: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CreateSecretEventRequest {
    pub name: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub state: Option<String>,
    pub notification: Option<NotificationBody>,
}

#[derive(Deserialize, Default)]
pub struct UpdateSecretEventRequest {
    pub state: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub notification: Option<NotificationBody>,
}

#[derive(Serialize)]
pub struct Notification {
    pub target_type: String,
    pub target_id: String,
    pub target_name: String,
}

#[derive(Serialize)]
pub struct Event {
    pub name: String,
    pub event_id: String,
    pub event_types: Vec<&'static str>,
    pub state: String,
    pub create_time: i64,
    pub update_time: i64,
    pub notification: Notification,
}

impl Event {
    pub fn of(e: &EventRecord) -> Self {
        Self {
            name: e.name.clone(),
            event_id: e.event_id.clone(),
            event_types: e
                .event_types
                .iter()
                .map(|t| EventType::as_str(*t))
                .collect(),
            state: if e.enabled { "ENABLED" } else { "DISABLED" }.into(),
            create_time: e.create_ms,
            update_time: e.update_ms,
            notification: Notification {
                target_type: e.target.target_type.clone(),
                target_id: e.target.target_id.clone(),
                target_name: e.target.target_name.clone(),
            },
        }
    }
}

#[derive(Serialize)]
pub struct EventResponse {
    pub event: Event,
}

#[derive(Serialize)]
pub struct ListSecretEventsResponse {
    pub events: Vec<Event>,
    pub page_info: PageInfo,
}

#[derive(Serialize)]
pub struct Record {
    pub event_name: String,
    pub trigger_event_type: &'static str,
    pub create_time: i64,
    pub secret_name: String,
    pub secret_type: String,
    pub notification_target_name: String,
    pub notification_target_id: String,
    pub notification_content: String,
    pub notification_status: String,
}

impl Record {
    pub fn of(r: &NotificationRecord) -> Self {
        Self {
            event_name: r.event_name.clone(),
            trigger_event_type: r.trigger_event_type.as_str(),
            create_time: r.create_ms,
            secret_name: r.secret_name.clone(),
            secret_type: r.secret_type.clone(),
            notification_target_name: r.target_name.clone(),
            notification_target_id: r.target_id.clone(),
            notification_content: r.content.clone(),
            notification_status: r.status.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct ListNotificationRecordsResponse {
    pub records: Vec<Record>,
    pub page_info: PageInfo,
}

/// ListProjectSecretsTags: a key and every value it has in the project.
#[derive(Serialize)]
pub struct TagList {
    pub key: String,
    pub values: Vec<String>,
}
