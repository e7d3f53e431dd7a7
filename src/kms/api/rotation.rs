//! Key rotation: EnableKeyRotation, DisableKeyRotation,
//! UpdateKeyRotationInterval, ShowKeyRotationStatus, RotateOnDemand. The
//! rules are in `domain/rotation.rs`, the scheduled sweep in `jobs.rs`. A
//! rotation appends a key version with fresh material sealed under the root
//! key (associated data = key id); the newest version encrypts, every older
//! one still decrypts. The key record keeps only the newest; older versions
//! are rows of their own (`store/versions.rs`).

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::kms::access;
use crate::kms::crypto::material;
use crate::kms::domain;
use crate::kms::domain::rotation::{self as rules, material_id};
use crate::kms::error::KmsError;
use crate::kms::store::KeyRecord;
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::State;

fn parse_key(req: &OperateKeyRequest) -> Result<String, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    domain::parse_key_id(req.key_id.as_deref())
}

pub async fn enable_key_rotation(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<OperateKeyRequest>,
) -> Result<Json<Empty>, KmsError> {
    let key_id = parse_key(&req)?;
    let now = app.clock.now().timestamp_millis();
    access::change_own_key(&app, &caller, &key_id, move |_, key| {
        rules::enable(key, now)
    })
    .await?;
    Ok(Json(Empty {}))
}

pub async fn disable_key_rotation(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<OperateKeyRequest>,
) -> Result<Json<Empty>, KmsError> {
    let key_id = parse_key(&req)?;
    access::change_own_key(&app, &caller, &key_id, |_, key| rules::disable(key)).await?;
    Ok(Json(Empty {}))
}

pub async fn update_key_rotation_interval(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<UpdateKeyRotationIntervalRequest>,
) -> Result<Json<Empty>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let days = rules::parse_interval(req.rotation_interval.as_deref())?;
    access::change_own_key(&app, &caller, &key_id, move |_, key| {
        rules::set_interval(key, days)
    })
    .await?;
    Ok(Json(Empty {}))
}

pub async fn rotate_on_demand(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<OperateKeyRequest>,
) -> Result<Json<RotateOnDemandResponse>, KmsError> {
    let key_id = parse_key(&req)?;
    let now = app.clock.now().timestamp_millis();
    let (keyring, rng) = (app.keyring.clone(), app.rng.clone());
    let key = access::change_own_key(&app, &caller, &key_id, move |_, key| {
        rules::check_rotatable(key)?;
        rules::check_version_room(key)?;
        let sealed = material::seal_fresh(&keyring, &rng, &key.key_id, key.key_spec)?;
        rules::add_version(key, sealed, now);
        Ok(())
    })
    .await?;
    Ok(Json(RotateOnDemandResponse { key_id: key.key_id }))
}

pub async fn show_key_rotation_status(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<OperateKeyRequest>,
) -> Result<Json<ShowKeyRotationStatusResponse>, KmsError> {
    let key_id = parse_key(&req)?;
    let (key, history) = access::own_key_history(&app, &caller, &key_id).await?;
    Ok(Json(status_of(&key, &history)))
}

/// The rotation status of `key`, whose versions' numbers and creation
/// times are `history` (`store::version_history`).
pub fn status_of(key: &KeyRecord, history: &[(usize, i64)]) -> ShowKeyRotationStatusResponse {
    let expiry = key.expiration_ms.map(|t| t.to_string()).unwrap_or_default();
    ShowKeyRotationStatusResponse {
        key_rotation_enabled: key.admin.rotation_enabled,
        rotation_interval: key.admin.interval_days(),
        last_rotation_time: key
            .admin
            .last_rotation_ms
            .map(|t| t.to_string())
            .unwrap_or_default(),
        number_of_rotations: key.admin.rotation_count,
        key_materials: history
            .iter()
            .map(|&(i, created_ms)| KeyMaterialInfo {
                material_id: material_id(&key.key_id, i),
                charge_id: String::new(),
                create_time: created_ms.to_string(),
                expiration_time: expiry.clone(),
                state: 2,
            })
            .collect(),
    }
}
