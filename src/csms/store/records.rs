//! The records CSMS stores (`store.rs` says in which tables).

use super::super::domain::{EventType, SecretState, Target};
use super::super::stages::Stages;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct SecretRecord {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub domain_id: String,
    pub state: SecretState,
    pub kms_key_id: String,
    pub description: String,
    pub secret_type: String,
    pub auto_rotation: bool,
    pub rotation_period: Option<String>,
    pub rotation_config: Option<String>,
    pub rotation_func_urn: Option<String>,
    pub rotation_ms: Option<i64>,
    pub next_rotation_ms: Option<i64>,
    pub event_subscriptions: Vec<String>,
    pub enterprise_project_id: String,
    pub create_ms: i64,
    pub update_ms: i64,
    pub scheduled_delete_ms: Option<i64>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub stages: Stages,
    /// Number of the newest version; versions are `v1`, `v2`, ...
    pub last_version: u64,
}

/// One version. The value is a `kms::encrypt_for` blob (it names its key) with
/// associated data binding it to the secret name and `value_id`.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct VersionRecord {
    pub number: u64,
    pub create_ms: i64,
    pub expire_ms: Option<i64>,
    pub kms_key_id: String,
    pub value_id: String,
    pub binary: bool,
    #[serde(with = "crate::store::b64")]
    pub sealed: Vec<u8>,
    #[serde(default)]
    pub expiry_notified: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct EventRecord {
    pub event_id: String,
    pub name: String,
    pub project_id: String,
    pub event_types: Vec<EventType>,
    pub enabled: bool,
    pub target: Target,
    pub create_ms: i64,
    pub update_ms: i64,
}
