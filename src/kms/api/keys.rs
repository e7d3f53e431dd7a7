//! Key lifecycle handlers: read the request, apply one domain rule inside one
//! transaction, answer with the wire type.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::paging;
use crate::kms::access::{self, Requester};
use crate::kms::domain::grants::op;
use crate::kms::domain::limits::GRANTS_PER_KEY_QUOTA;
use crate::kms::domain::{self, KeySpec, KeyState, NewKey};
use crate::kms::error::KmsError;
use crate::kms::store::{self, KeyRecord};
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::State;

pub async fn create_key(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<CreateKeyRequest>,
) -> Result<Json<CreateKeyResponse>, KmsError> {
    let new = NewKey::validate(
        req.key_alias.as_deref(),
        req.key_spec.as_deref(),
        req.key_usage.as_deref(),
        req.key_description.as_deref(),
        req.origin.as_deref(),
        req.enterprise_project_id.as_deref(),
        req.keystore_id.as_deref(),
        req.sequence.as_deref(),
    )?;
    let key =
        super::provision::new_record(&app, &caller.domain_id, caller.project(), new, false).await?;
    let record = key.clone();
    let quota = app.limits.keys_per_project;
    let inserted = app
        .db
        .tx(move |tx| {
            if store::count(tx, &record.project_id)? >= quota as u64 {
                return Err(KmsError::KeyQuotaExceeded);
            }
            if access::in_token(&record) {
                // The key store may have been disabled or deleted meanwhile.
                store::keystores::load(tx, &record.project_id, &record.keystore_id)?
                    .state
                    .check_usable()?;
            }
            store::insert(tx, &record)
        })
        .await;
    if let Err(e) = inserted {
        if let Err(cleanup) = super::dispatch::destroy_in_token(&app, &key).await {
            tracing::warn!(key_id = %key.key_id, error = %cleanup, "cannot remove the token object of a key not created");
        }
        return Err(e);
    }
    Ok(Json(CreateKeyResponse {
        key_info: KekInfo {
            key_id: key.key_id,
            domain_id: key.domain_id,
            region_id: super::provision::realm(&app, caller.project()).to_owned(),
        },
    }))
}

/// Loads a key, lets `change` apply a rule to it, and saves it, all in one
/// transaction: two racing requests end as some serial order would.
async fn change_key<F>(
    app: &AppState,
    caller: &Caller,
    key_id: Option<&str>,
    mut change: F,
) -> Result<KeyRecord, KmsError>
where
    F: FnMut(&mut dyn crate::store::Tx, &mut KeyRecord) -> Result<(), KmsError> + Send + 'static,
{
    let key_id = domain::parse_key_id(key_id)?;
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| {
            let mut key = store::load(tx, &project, &key_id)?;
            change(tx, &mut key)?;
            store::save(tx, &key)?;
            Ok(key)
        })
        .await
}

pub async fn list_key_detail(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<OperateKeyRequest>,
) -> Result<Json<KeyInfoResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let key = access::usable_key(
        &app,
        &Requester::caller(&caller),
        &key_id,
        op::DESCRIBE_KEY,
        None,
    )
    .await?;
    Ok(Json(KeyInfoResponse {
        key_info: KeyDetails::from_record(&key, super::provision::realm(&app, caller.project())),
    }))
}

pub async fn list_keys(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<ListKeysRequest>,
) -> Result<Json<ListKeysResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let limit = paging::parse_limit(req.limit.as_deref(), 1000, 1000)
        .map_err(|_| KmsError::InvalidParameter("limit"))?;
    let offset = paging::parse_offset(req.marker.as_deref())
        .map_err(|_| KmsError::InvalidParameter("marker"))?;
    let state = req
        .key_state
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(KeyState::parse_filter)
        .transpose()?;
    // As documented for the cloud: without key_spec only AES_256 keys are
    // listed; "ALL" lists every spec.
    let spec = match req.key_spec.as_deref() {
        None | Some("") => Some(KeySpec::Aes256),
        Some("ALL") => None,
        Some(s) => Some(KeySpec::parse(s)?),
    };
    let project = caller.project().to_owned();
    let (items, total) = app
        .db
        .read(move |tx| store::list_page(tx, &project, spec, state, offset, limit))
        .await?;
    let next = paging::next_offset(offset, items.len(), total);
    Ok(Json(ListKeysResponse {
        keys: items.iter().map(|k| k.key_id.clone()).collect(),
        key_details: items
            .iter()
            .map(|k| KeyDetails::from_record(k, super::provision::realm(&app, caller.project())))
            .collect(),
        next_marker: next.map(|n| n.to_string()).unwrap_or_default(),
        truncated: next.is_some().to_string(),
        total: i64::try_from(total).unwrap_or(i64::MAX),
    }))
}

pub async fn enable_key(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<OperateKeyRequest>,
) -> Result<Json<KeyStatusResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key = change_key(&app, &caller, req.key_id.as_deref(), |_, key| {
        key.key_state = key.key_state.enable()?;
        Ok(())
    })
    .await?;
    Ok(Json(KeyStatusResponse {
        key_info: KeyStatusInfo::of(&key),
    }))
}

pub async fn disable_key(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<OperateKeyRequest>,
) -> Result<Json<KeyStatusResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key = change_key(&app, &caller, req.key_id.as_deref(), |_, key| {
        if key.default_key {
            return Err(KmsError::DefaultKey);
        }
        key.key_state = key.key_state.disable()?;
        Ok(())
    })
    .await?;
    Ok(Json(KeyStatusResponse {
        key_info: KeyStatusInfo::of(&key),
    }))
}

pub async fn delete_key(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<ScheduleKeyDeletionRequest>,
) -> Result<Json<KeyStatusInfo>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let days = domain::parse_pending_days(req.pending_days.as_deref())?;
    let due_ms = app.clock.now().timestamp_millis() + days * 86_400_000;
    let key = change_key(&app, &caller, Some(&key_id), move |_, key| {
        if key.default_key {
            return Err(KmsError::DefaultKey);
        }
        domain::multi_region::check_deletable(key.multi_region.as_ref(), &key.project_id)?;
        key.key_state = key.key_state.schedule_deletion()?;
        key.scheduled_deletion_ms = Some(due_ms);
        Ok(())
    })
    .await?;
    Ok(Json(KeyStatusInfo::of(&key)))
}

pub async fn cancel_key_deletion(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<OperateKeyRequest>,
) -> Result<Json<KeyStatusInfo>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key = change_key(&app, &caller, req.key_id.as_deref(), |_, key| {
        key.key_state = key.key_state.cancel_deletion()?;
        key.scheduled_deletion_ms = None;
        Ok(())
    })
    .await?;
    Ok(Json(KeyStatusInfo::of(&key)))
}

pub async fn update_key_description(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<UpdateKeyDescriptionRequest>,
) -> Result<Json<UpdateKeyDescriptionResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let description = domain::parse_description(Some(
        req.key_description
            .as_deref()
            .ok_or(KmsError::MissingParameter("key_description"))?,
    ))?;
    let key = change_key(&app, &caller, Some(&key_id), move |_, key| {
        if key.default_key {
            return Err(KmsError::DefaultKey);
        }
        key.key_state.check_editable()?;
        key.key_description = description.clone();
        Ok(())
    })
    .await?;
    Ok(Json(UpdateKeyDescriptionResponse {
        key_info: KeyDescriptionInfo {
            key_id: key.key_id,
            key_description: key.key_description,
        },
    }))
}

pub async fn update_key_alias(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<UpdateKeyAliasRequest>,
) -> Result<Json<UpdateKeyAliasResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let alias = domain::parse_alias(
        req.key_alias
            .as_deref()
            .ok_or(KmsError::MissingParameter("key_alias"))?,
    )?;
    let key = change_key(&app, &caller, Some(&key_id), move |tx, key| {
        if key.default_key {
            return Err(KmsError::DefaultKey);
        }
        key.key_state.check_editable()?;
        store::rename(tx, key, alias.clone())
    })
    .await?;
    Ok(Json(UpdateKeyAliasResponse {
        key_info: KeyAliasInfo {
            key_id: key.key_id,
            key_alias: key.key_alias,
        },
    }))
}

pub async fn show_user_instances(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<ShowUserInstancesResponse>, KmsError> {
    let project = caller.project().to_owned();
    // The kept count: non-default keys, as the quota counts them.
    let keys = app.db.read(move |tx| store::count(tx, &project)).await?;
    Ok(Json(ShowUserInstancesResponse {
        instance_num: keys as i64,
    }))
}

pub async fn show_user_quotas(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<ShowUserQuotasResponse>, KmsError> {
    let project = caller.project().to_owned();
    let (keys, most_grants) = app
        .db
        .read(move |tx| {
            let keys = store::count(tx, &project)?;
            // The grant quota holds per key, so the key closest to it is what is used.
            Ok::<_, KmsError>((
                keys,
                crate::kms::store::grants::most_on_one_key(tx, &project)?,
            ))
        })
        .await?;
    Ok(Json(ShowUserQuotasResponse {
        quotas: Quotas {
            resources: vec![
                QuotaResource {
                    kind: "CMK".into(),
                    used: keys as i64,
                    quota: app.limits.keys_per_project as i64,
                },
                QuotaResource {
                    kind: "grant_per_CMK".into(),
                    used: most_grants as i64,
                    quota: GRANTS_PER_KEY_QUOTA,
                },
            ],
        },
    }))
}
