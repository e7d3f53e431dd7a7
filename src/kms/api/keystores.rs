//! CreateKeyStore, DeleteKeyStore, EnableKeyStore, DisableKeyStore,
//! ListKeyStores, ShowKeyStore. A key store is one configured PKCS#11 token
//! (`[[hsm_clusters]]`, `kms::hsm`), claimed by one project.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::paging;
use crate::common::query::Query;
use crate::kms::domain::keystore::{self, KeystoreState, NewKeystore};
use crate::kms::error::KmsError;
use crate::kms::store::{self, keystores, KeystoreRecord};
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::{Path, State};

impl KeystoreDetails {
    fn of(ks: &KeystoreRecord) -> Self {
        Self {
            keystore_id: ks.keystore_id.clone(),
            domain_id: ks.domain_id.clone(),
            keystore_alias: ks.keystore_alias.clone(),
            keystore_type: keystore::KEYSTORE_TYPE.to_owned(),
            hsm_cluster_id: ks.hsm_cluster_id.clone(),
            cluster_id: ks.hsm_cluster_id.clone(),
            create_time: ks.create_ms.to_string(),
        }
    }
}

pub async fn create_key_store(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<CreateKeyStoreRequest>,
) -> Result<Json<CreateKeyStoreResponse>, KmsError> {
    let configured = app.hsm.clusters_for(&caller.domain_id);
    let new = NewKeystore::validate(
        req.keystore_alias.as_deref(),
        req.hsm_cluster_id.as_deref(),
        req.cluster_id.as_deref(),
        req.keystore_type.as_deref(),
        &configured,
    )?;
    let record = KeystoreRecord {
        keystore_id: app.rng.uuid().to_string(),
        project_id: caller.project().to_owned(),
        domain_id: caller.domain_id.clone(),
        keystore_alias: new.alias,
        hsm_cluster_id: new.hsm_cluster_id,
        state: KeystoreState::Enabled,
        create_ms: app.clock.now().timestamp_millis(),
    };
    let ks = record.clone();
    app.db
        .tx(move |tx| {
            if keystores::cluster_taken(tx, &ks.hsm_cluster_id)? {
                return Err(KmsError::HsmClusterInUse);
            }
            if keystores::alias_taken(tx, &ks.project_id, &ks.keystore_alias)? {
                return Err(KmsError::KeystoreAliasExists);
            }
            keystores::insert(tx, &ks)
        })
        .await?;
    Ok(Json(CreateKeyStoreResponse {
        keystore: KeystoreInfo {
            keystore_id: record.keystore_id,
            domain_id: record.domain_id,
        },
    }))
}

pub async fn show_key_store(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<KeystorePath>,
) -> Result<Json<ShowKeyStoreResponse>, KmsError> {
    let project = caller.project().to_owned();
    let ks = app
        .db
        .read(move |tx| keystores::load(tx, &project, &path.keystore_id))
        .await?;
    Ok(Json(ShowKeyStoreResponse {
        keystore: KeystoreDetails::of(&ks),
    }))
}

pub async fn list_key_stores(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): KmsQuery<ListKeyStoresQuery>,
) -> Result<Json<ListKeyStoresResponse>, KmsError> {
    let limit = paging::parse_limit(
        q.limit.as_deref(),
        keystore::LIST_DEFAULT,
        keystore::LIST_MAX,
    )
    .map_err(|_| KmsError::LimitOutOfRange)?;
    let offset = paging::parse_offset(q.offset.as_deref()).map_err(|_| KmsError::InvalidOffset)?;
    let project = caller.project().to_owned();
    let all = app.db.read(move |tx| keystores::list(tx, &project)).await?;
    Ok(Json(ListKeyStoresResponse {
        total: all.len() as i64,
        keystores: all
            .iter()
            .skip(offset)
            .take(limit)
            .map(KeystoreDetails::of)
            .collect(),
    }))
}

async fn change_state(
    app: &AppState,
    caller: &Caller,
    id: String,
    change: fn(KeystoreState) -> Result<KeystoreState, KmsError>,
) -> Result<Json<KeyStoreStateResponse>, KmsError> {
    let project = caller.project().to_owned();
    let ks = app
        .db
        .tx(move |tx| {
            let mut ks = keystores::load(tx, &project, &id)?;
            ks.state = change(ks.state)?;
            keystores::save(tx, &ks)?;
            Ok::<_, KmsError>(ks)
        })
        .await?;
    Ok(Json(KeyStoreStateResponse {
        keystore: KeyStoreStateInfo {
            keystore_id: ks.keystore_id,
            keystore_state: ks.state.code().to_owned(),
        },
    }))
}

pub async fn enable_key_store(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<KeystorePath>,
) -> Result<Json<KeyStoreStateResponse>, KmsError> {
    change_state(&app, &caller, path.keystore_id, KeystoreState::enable).await
}

pub async fn disable_key_store(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<KeystorePath>,
) -> Result<Json<KeyStoreStateResponse>, KmsError> {
    change_state(&app, &caller, path.keystore_id, KeystoreState::disable).await
}

/// Refused while any key of the project (in whatever state, pending
/// deletion included) still lives in the key store: its material would be
/// lost with the token.
pub async fn delete_key_store(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<KeystorePath>,
) -> Result<Json<serde_json::Value>, KmsError> {
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| {
            let ks = keystores::load(tx, &project, &path.keystore_id)?;
            if store::keys_in_keystore(tx, &project, &ks.keystore_id)? > 0 {
                return Err(KmsError::KeystoreHasKeys);
            }
            keystores::remove(tx, &ks)
        })
        .await?;
    Ok(Json(serde_json::json!({})))
}
