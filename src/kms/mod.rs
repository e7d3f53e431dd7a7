//! KMS: keys and their lifecycle, tags, quotas and versions.
//!
//! Operations: CreateKey, ListKeyDetail, ListKeys, EnableKey, DisableKey,
//! DeleteKey (schedule-key-deletion), CancelKeyDeletion, UpdateKeyDescription,
//! UpdateKeyAlias, BatchCreateKmsTags, CreateKmsTag, DeleteTag, ShowKmsTags,
//! ListKmsTags, ListKmsByTags, ShowUserInstances, ShowUserQuotas (ShowVersion and
//! ShowVersions are served by `server::versions`).
//! Administration (`admin.rs` and friends): EnableKeyRotation,
//! DisableKeyRotation, UpdateKeyRotationInterval, ShowKeyRotationStatus,
//! RotateOnDemand (`rotation.rs`); CreateParametersForImport,
//! ImportKeyMaterial, DeleteImportedKeyMaterial (`import.rs`); CreateGrant,
//! ListGrants, ListRetirableGrants, CancelGrant, CancelSelfGrant
//! (`grants.rs`). Handlers that use a key for a cryptographic operation load
//! it with `grants::load_for` (or `keyuse::usable_for`/`named_by_blob` on top
//! of it), naming the operation as grants list it (`grants::op`), which also
//! admits grantees of other projects.
//! Cryptography: EncryptData and DecryptData (symmetric and asymmetric keys),
//! CreateDatakey, CreateDatakeyWithoutPlaintext, EncryptDatakey, DecryptDatakey,
//! CreateRsaDatakeyPair, CreateEcDatakeyPair, ReEncrypt, CreateRandom, Sign,
//! ValidateSignature, ShowPublicKey, GenerateMac and VerifyMac;
//! DeriveSharedSecret (`derive.rs`), CreateDatakeyCapsule and
//! DecryptDatakeyCapsule (`capsule.rs`), CreatePin (`pin.rs`).
//! Aliases (`aliases.rs`): CreateAlias, AssociateAlias, DeleteAlias,
//! ListAliases. Regions (`regions.rs`): ListSupportRegions, and ReplicateKey
//! and UpdatePrimaryRegion, which a one-region dewstack always refuses.

mod admin;
mod alias_store;
mod aliases;

mod asymmetric;
mod capsule;
mod cipher;
mod crypt;
mod data;
mod datakey;
mod derive;
pub mod domain;
pub mod error;
mod grant_store;
pub mod grants;
mod import;
mod import_asym;
mod keypair;
mod keyuse;
mod mac;
mod material;
mod pin;
mod reencrypt;
mod regions;
mod rotation;
mod routes;
mod sign;
mod sign_routes;
pub mod store;
mod tags;
pub mod wire;
mod wire_admin;
mod wire_alias;
pub mod wire_crypto;
mod wire_derive;

use crate::auth;
use crate::common::body::Body;
use crate::server::state::AppState;
use axum::routing::{delete, get, post};
use axum::Router;
use domain::{KeySpec, NewKey, Origin};
pub use error::KmsError;
use std::time::Duration;
use store::KeyRecord;

pub use data::{decrypt_for, encrypt_for};

pub type KmsBody<T> = Body<T, KmsError>;

/// Keys per project, default keys not counted.
pub const CMK_QUOTA: usize = 100;
pub const GRANTS_PER_KEY_QUOTA: i64 = 100;

pub fn routes(state: AppState) -> Router<AppState> {
    let p = "/v1.0/{project_id}/kms";
    Router::new()
        .route(&format!("{p}/create-key"), post(routes::create_key))
        .route(&format!("{p}/describe-key"), post(routes::list_key_detail))
        .route(&format!("{p}/list-keys"), post(routes::list_keys))
        .route(&format!("{p}/enable-key"), post(routes::enable_key))
        .route(&format!("{p}/disable-key"), post(routes::disable_key))
        .route(
            &format!("{p}/schedule-key-deletion"),
            post(routes::delete_key),
        )
        .route(
            &format!("{p}/cancel-key-deletion"),
            post(routes::cancel_key_deletion),
        )
        .route(
            &format!("{p}/update-key-description"),
            post(routes::update_key_description),
        )
        .route(
            &format!("{p}/update-key-alias"),
            post(routes::update_key_alias),
        )
        .route(
            &format!("{p}/{{key_id}}/tags/action"),
            post(tags::batch_create_kms_tags),
        )
        .route(
            &format!("{p}/{{key_id}}/tags"),
            post(tags::create_kms_tag).get(tags::show_kms_tags),
        )
        .route(
            &format!("{p}/{{key_id}}/tags/{{key}}"),
            delete(tags::delete_tag),
        )
        .route(&format!("{p}/tags"), get(tags::list_kms_tags))
        // The SDK fills `{resource_instances}` with the literal "resource_instances";
        // it shares the `{key_id}` position, so it is checked in the handler.
        .route(
            &format!("{p}/{{key_id}}/action"),
            post(tags::list_kms_by_tags),
        )
        .route(&format!("{p}/encrypt-data"), post(data::encrypt_data))
        .route(&format!("{p}/decrypt-data"), post(data::decrypt_data))
        .merge(crypto_routes())
        .route(
            &format!("{p}/user-instances"),
            get(routes::show_user_instances),
        )
        .route(&format!("{p}/user-quotas"), get(routes::show_user_quotas))
        .merge(admin_routes())
        .merge(alias_region_routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::require::<{ auth::KMS }>,
        ))
}

/// Rotation, key import and grants.
fn admin_routes() -> Router<AppState> {
    let p = "/v1.0/{project_id}/kms";
    let ops: [(&str, axum::routing::MethodRouter<AppState>); 13] = [
        ("enable-key-rotation", post(rotation::enable_key_rotation)),
        ("disable-key-rotation", post(rotation::disable_key_rotation)),
        (
            "update-key-rotation-interval",
            post(rotation::update_key_rotation_interval),
        ),
        (
            "get-key-rotation-status",
            post(rotation::show_key_rotation_status),
        ),
        ("rotate-on-demand", post(rotation::rotate_on_demand)),
        (
            "get-parameters-for-import",
            post(import::create_parameters_for_import),
        ),
        ("import-key-material", post(import::import_key_material)),
        (
            "delete-imported-key-material",
            post(import::delete_imported_key_material),
        ),
        ("create-grant", post(grants::create_grant)),
        ("list-grants", post(grants::list_grants)),
        ("list-retirable-grants", post(grants::list_retirable_grants)),
        ("revoke-grant", post(grants::cancel_grant)),
        ("retire-grant", post(grants::cancel_self_grant)),
    ];
    ops.into_iter().fold(Router::new(), |r, (path, method)| {
        r.route(&format!("{p}/{path}"), method)
    })
}

fn alias_region_routes() -> Router<AppState> {
    let p = "/v1.0/{project_id}/kms";
    let v2 = "/v2/{project_id}/kms";
    Router::new()
        .route(
            &format!("{p}/aliases"),
            post(aliases::create_alias)
                .get(aliases::list_aliases)
                .delete(aliases::delete_alias),
        )
        .route(
            &format!("{p}/alias/associate"),
            post(aliases::associate_alias),
        )
        .route(&format!("{v2}/regions"), get(regions::list_support_regions))
        .route(
            &format!("{v2}/keys/{{key_id}}/replicate"),
            post(regions::replicate_key),
        )
        .route(
            &format!("{v2}/keys/{{key_id}}/update-primary-region"),
            axum::routing::put(regions::update_primary_region),
        )
}

/// Data keys, key pairs, re-encryption, random numbers, signatures and MACs.
fn crypto_routes() -> Router<AppState> {
    let p = "/v1.0/{project_id}/kms";
    let r = |op: &str| format!("{p}/{op}");
    Router::new()
        .route(&r("create-datakey"), post(datakey::create_datakey))
        .route(
            &r("create-datakey-without-plaintext"),
            post(datakey::create_datakey_without_plaintext),
        )
        .route(&r("encrypt-datakey"), post(datakey::encrypt_datakey))
        .route(&r("decrypt-datakey"), post(datakey::decrypt_datakey))
        .route(
            &r("create-rsa-datakey-pair"),
            post(keypair::create_rsa_datakey_pair),
        )
        .route(
            &r("create-ec-datakey-pair"),
            post(keypair::create_ec_datakey_pair),
        )
        .route(&r("re-encrypt"), post(reencrypt::re_encrypt))
        .route(&r("gen-random"), post(datakey::create_random))
        .route(&r("sign"), post(sign_routes::sign))
        .route(&r("verify"), post(sign_routes::validate_signature))
        .route(&r("get-publickey"), post(sign_routes::show_public_key))
        .route(&r("generate-mac"), post(mac::generate_mac))
        .route(&r("verify-mac"), post(mac::verify_mac))
        .route(
            &r("derive-shared-secret"),
            post(derive::derive_shared_secret),
        )
        .route(
            &r("datakey-capsule/create"),
            post(capsule::create_datakey_capsule),
        )
        .route(
            &r("datakey-capsule/decrypt"),
            post(capsule::decrypt_datakey_capsule),
        )
        .route(&r("create-pin"), post(pin::create_pin))
}

/// Builds the record of a new key with fresh, sealed material (none for imported keys).
pub(crate) async fn new_record(
    app: &AppState,
    domain_id: &str,
    project_id: &str,
    new: NewKey,
    default_key: bool,
) -> Result<KeyRecord, KmsError> {
    let key_id = uuid::Uuid::new_v4().to_string();
    let versions = match new.origin {
        Origin::Kms => vec![store::KeyVersion {
            created_ms: app.clock.now().timestamp_millis(),
            sealed: routes::sealed_material(app, &key_id, new.spec).await?,
        }],
        Origin::External => Vec::new(),
    };
    Ok(KeyRecord {
        key_id,
        project_id: project_id.to_owned(),
        domain_id: domain_id.to_owned(),
        key_alias: new.alias,
        key_description: new.description,
        key_spec: new.spec,
        key_usage: new.usage,
        origin: new.origin,
        key_state: new.origin.initial_state(),
        default_key,
        creation_ms: app.clock.now().timestamp_millis(),
        scheduled_deletion_ms: None,
        expiration_ms: None,
        enterprise_project_id: new.enterprise_project_id,
        keystore_id: new.keystore_id,
        tags: Default::default(),
        versions,
        admin: Default::default(),
    })
}

/// The project's default key of `service` (alias `<service>/default`),
/// created on first use. Other services call this to get their key.
pub async fn ensure_default_key(
    app: &AppState,
    domain_id: &str,
    project_id: &str,
    service: &str,
) -> Result<String, KmsError> {
    let alias = format!("{service}{}", domain::DEFAULT_SUFFIX);
    let (p, a) = (project_id.to_owned(), alias.clone());
    if let Some(existing) = app
        .db
        .tx(move |tx| store::find_by_alias(tx, &p, &a))
        .await?
    {
        return Ok(existing.key_id);
    }
    let new = NewKey {
        alias,
        description: format!("Default key of {service}"),
        spec: KeySpec::Aes256,
        usage: KeySpec::Aes256.default_usage(),
        origin: Origin::Kms,
        enterprise_project_id: "0".into(),
        keystore_id: "0".into(),
    };
    let record = new_record(app, domain_id, project_id, new, true).await?;
    app.db
        .tx(move |tx| {
            // Another request may have created it meanwhile: keep that one.
            match store::find_by_alias(tx, &record.project_id, &record.key_alias)? {
                Some(existing) => Ok(existing.key_id),
                None => store::insert(tx, &record).map(|_| record.key_id.clone()),
            }
        })
        .await
}

/// Every project has `kms/default` from the start.
pub async fn bootstrap(app: &AppState) -> anyhow::Result<()> {
    let projects: Vec<(String, String)> = app
        .directory
        .all_projects()
        .map(|(d, p)| (d.id.clone(), p.id.clone()))
        .collect();
    for (domain_id, project_id) in projects {
        ensure_default_key(app, &domain_id, &project_id, "kms")
            .await
            .map_err(|e| anyhow::anyhow!("cannot create kms/default for {project_id}: {e}"))?;
    }
    Ok(())
}

/// Deletes keys whose scheduled deletion date has passed; returns how many.
/// With several nodes on one database, one node at a time sweeps (a
/// cluster-wide lock); the others skip that round and report 0.
pub async fn sweep_deletions(app: &AppState) -> Result<usize, KmsError> {
    let now_ms = app.clock.now().timestamp_millis();
    let swept = app
        .db
        .try_exclusive("kms-deletion-sweep", move |tx| {
            let due = store::due_deletions(tx, now_ms, 200)?;
            let mut purged = 0;
            for (project, key_id) in due {
                if let Some(key) = store::find(tx, &project, &key_id)? {
                    if key.key_state == domain::KeyState::PendingDeletion
                        && key.scheduled_deletion_ms.is_some_and(|d| d <= now_ms)
                    {
                        store::purge(tx, &key)?;
                        purged += 1;
                    }
                }
            }
            Ok::<_, KmsError>(purged)
        })
        .await?;
    Ok(swept.unwrap_or(0))
}

pub fn spawn_background(
    app: AppState,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match sweep_deletions(&app).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    keys = n,
                    "deleted keys whose scheduled deletion date passed"
                ),
                Err(e) => tracing::warn!(error = %e, "deletion sweep failed; will retry"),
            }
            admin::sweep_all(&app).await;
            tokio::select! {
                _ = tokio::time::sleep(every) => {},
                _ = stop.changed() => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clock::FixedClock;
    use crate::common::crypto::RootKey;
    use crate::iam::directory::{Directory, RootIdentity};
    use crate::store::Db;
    use std::sync::Arc;

    const PROJECT: &str = "p0000000000000000000000000000000";

    fn state(db: Db, clock: FixedClock) -> AppState {
        let identity = RootIdentity {
            domain_id: "d0000000000000000000000000000000".into(),
            domain_name: "dewstack".into(),
            project_id: PROJECT.into(),
            user_name: "admin".into(),
            user_id: "u0000000000000000000000000000000".into(),
            password: "password".into(),
            access_key: "AKAKAKAKAKAKAKAKAKAK".into(),
            secret_key: "secret".into(),
        };
        let directory = Directory::build(&identity, "cn-north-4", &[]).unwrap();
        AppState::new(
            db,
            Arc::new(clock),
            crate::rng::Rng::seeded(0),
            directory,
            &RootKey::from_bytes([7; 32]),
            "cn-north-4",
        )
    }

    /// `n` keys whose scheduled deletion date is already past.
    async fn seed_due(app: &AppState, round: usize, n: usize) {
        let now_ms = app.clock.now().timestamp_millis();
        for i in 0..n {
            let new = NewKey {
                alias: format!("due-{round}-{i}"),
                description: String::new(),
                spec: KeySpec::Aes256,
                usage: KeySpec::Aes256.default_usage(),
                origin: Origin::Kms,
                enterprise_project_id: "0".into(),
                keystore_id: "0".into(),
            };
            let mut record = new_record(app, "d", PROJECT, new, false).await.unwrap();
            record.key_state = domain::KeyState::PendingDeletion;
            record.scheduled_deletion_ms = Some(now_ms - 1000 - i as i64);
            app.db
                .tx(move |tx| store::insert(tx, &record))
                .await
                .unwrap();
        }
    }

    /// Two nodes (two `Db` handles on one database) sweep at the same time,
    /// several rounds: every due key is deleted and reported exactly once.
    fn sweeps_run_exactly_once(a: AppState, b: AppState) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            for round in 0..5 {
                seed_due(&a, round, 20).await;
                let (ra, rb) = tokio::join!(sweep_deletions(&a), sweep_deletions(&b));
                let (ra, rb) = (ra.unwrap(), rb.unwrap());
                assert_eq!(ra + rb, 20, "round {round}: a={ra} b={rb}");
                let left = a.db.tx(|tx| store::list(tx, PROJECT)).await.unwrap();
                assert!(left.is_empty(), "round {round}: {} keys left", left.len());
                assert_eq!(sweep_deletions(&b).await.unwrap(), 0);
            }
        });
    }

    /// A purged key takes its alias resources with it; other keys' aliases stay.
    #[test]
    fn deletion_sweep_removes_aliases_of_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None).unwrap();
        let app = state(db, FixedClock::new(chrono::Utc::now()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            seed_due(&app, 0, 1).await;
            let keys = app.db.tx(|tx| store::list(tx, PROJECT)).await.unwrap();
            let doomed = keys[0].key_id.clone();
            let alias = |name: &str, key_id: &str| alias_store::AliasRecord {
                alias: name.into(),
                key_id: key_id.into(),
                domain_id: "d".into(),
                create_ms: 1,
                update_ms: 1,
            };
            let (a, b) = (alias("alias/a", &doomed), alias("alias/b", &doomed));
            let kept = alias("alias/kept", "00000000-0000-0000-0000-000000000000");
            app.db
                .tx(move |tx| {
                    for r in [&a, &b, &kept] {
                        alias_store::save(tx, PROJECT, r)?;
                    }
                    Ok::<_, KmsError>(())
                })
                .await
                .unwrap();
            assert_eq!(sweep_deletions(&app).await.unwrap(), 1);
            let (left, gone) = app
                .db
                .tx(move |tx| {
                    Ok::<_, KmsError>((
                        alias_store::list(tx, PROJECT, None)?,
                        alias_store::list(tx, PROJECT, Some(&doomed))?,
                    ))
                })
                .await
                .unwrap();
            assert_eq!(
                left.iter().map(|a| a.alias.as_str()).collect::<Vec<_>>(),
                ["alias/kept"]
            );
            assert!(gone.is_empty());
        });
    }

    #[test]
    fn deletion_sweep_runs_once_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None).unwrap();
        let clock = FixedClock::new(chrono::Utc::now());
        sweeps_run_exactly_once(state(db.clone(), clock.clone()), state(db, clock));
    }

    #[test]
    fn deletion_sweep_runs_once_across_postgres_nodes() {
        let Some(url) =
            crate::store::testing::fresh_database("deletion_sweep_runs_once_across_postgres_nodes")
        else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let node_a = Db::open(dir.path(), Some(&url)).unwrap();
        let node_b = Db::open(dir.path(), Some(&url)).unwrap();
        let clock = FixedClock::new(chrono::Utc::now());
        sweeps_run_exactly_once(state(node_a, clock.clone()), state(node_b, clock));
    }
}
