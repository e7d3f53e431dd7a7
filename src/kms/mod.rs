//! KMS: keys and their lifecycle, tags, quotas, administration and
//! cryptography, wire-compatible with Huawei Cloud KMS.
//!
//! Operations, and where their handlers live (`api/` unless noted):
//! - Keys (`keys.rs`): CreateKey, ListKeyDetail, ListKeys, EnableKey,
//!   DisableKey, DeleteKey (schedule-key-deletion), CancelKeyDeletion,
//!   UpdateKeyDescription, UpdateKeyAlias, ShowUserInstances, ShowUserQuotas.
//!   (ShowVersion and ShowVersions are served by `server::versions`.)
//! - Tags (`kms/tags.rs`): BatchCreateKmsTags, CreateKmsTag, DeleteTag,
//!   ShowKmsTags, ListKmsTags, ListKmsByTags.
//! - Rotation (`rotation.rs`): EnableKeyRotation, DisableKeyRotation,
//!   UpdateKeyRotationInterval, ShowKeyRotationStatus, RotateOnDemand.
//! - Import (`import.rs`): CreateParametersForImport, ImportKeyMaterial,
//!   DeleteImportedKeyMaterial.
//! - Grants (`grants.rs`): CreateGrant, ListGrants, ListRetirableGrants,
//!   CancelGrant, CancelSelfGrant.
//! - Data (`data.rs`): EncryptData, DecryptData (symmetric and asymmetric
//!   keys); ReEncrypt (`reencrypt.rs`).
//! - Data keys (`datakeys.rs`): CreateDatakey, CreateDatakeyWithoutPlaintext,
//!   EncryptDatakey, DecryptDatakey, CreateRandom; key pairs (`keypairs.rs`):
//!   CreateRsaDatakeyPair, CreateEcDatakeyPair.
//! - Signatures and MACs: Sign, ValidateSignature, ShowPublicKey (`sign.rs`);
//!   GenerateMac, VerifyMac (`mac.rs`); DeriveSharedSecret (`derive.rs`);
//!   CreateDatakeyCapsule, DecryptDatakeyCapsule (`capsule.rs`); CreatePin
//!   (`pin.rs`).
//! - Aliases (`aliases.rs`): CreateAlias, AssociateAlias, DeleteAlias,
//!   ListAliases. Regions (`regions.rs`): ListSupportRegions, and ReplicateKey
//!   and UpdatePrimaryRegion, which a one-region dewstack always refuses.
//! - Key stores (`keystores.rs`): CreateKeyStore, DeleteKeyStore,
//!   EnableKeyStore, DisableKeyStore, ListKeyStores, ShowKeyStore; keys of a
//!   key store live in a PKCS#11 token (`hsm/`).
//! - Key spaces: CreateAccessPoint, DeleteAccessPoint, EnableAccessPoint,
//!   DisableAccessPoint, ListAccessPoint, DownloadAccessPointPrivateKey
//!   (`access_points.rs`, which also proves a request came through an access
//!   point); CreateKeyPolicy, DeleteKeyPolicy, UpdateKeyPolicy, ListKeyPolicy,
//!   ShowKeyPolicy (`policies.rs`), enforced by `access.rs` on every key use.
//!
//! Beneath the handlers: `access.rs` is the one way to a usable key (every
//! cryptographic handler asks `access::usable_key`, naming the operation as
//! grants list it, `domain::grants::op`, which also admits grantees of other
//! projects); `domain/` holds the pure rules, `crypto/` the cryptography,
//! `store/` the records and indexes, `wire/` the serde bodies, `jobs.rs` the
//! background sweeps. Other services use only the pub items below.

mod access;
mod api;
mod crypto;
mod domain;
mod error;
pub(crate) mod hsm;
mod jobs;
mod key_cache;
pub mod store;
mod tags;
mod wire;

use crate::auth;
use crate::server::state::AppState;
use api::{
    access_points, aliases, capsule, data, datakeys, derive, grants, import, keypairs, keys,
    keystores, mac, pin, policies, reencrypt, regions, rotation, sign,
};
use axum::routing::{delete, get, post};
use axum::Router;

pub use api::data::{decrypt_for, encrypt_for};
pub use api::provision::{bootstrap, ensure_default_key};
pub use error::KmsError;
pub use hsm::Tokens as HsmTokens;
pub use jobs::{run_round, spawn_background, sweep_deletions, Round};

/// A key id as KMS accepts it (`^[0-9a-z]{8}-...-[0-9a-z]{12}$`), for other
/// services that take a KMS key id from their callers.
pub fn parse_key_id(raw: Option<&str>) -> Result<String, KmsError> {
    domain::parse_key_id(raw)
}

/// A project's keys by state, for the metrics sampler (`ops::inventory`):
/// the kept tally, at most specs × states rows, whatever the project holds.
pub async fn inventory(
    app: &AppState,
    project: &str,
) -> Result<Vec<(&'static str, usize)>, KmsError> {
    use domain::KeyState;
    let project = project.to_owned();
    let tally = app
        .db
        .read(move |tx| store::count_by_state(tx, &project))
        .await?;
    let states = [
        (KeyState::Enabled, "enabled"),
        (KeyState::Disabled, "disabled"),
        (KeyState::PendingDeletion, "pending_deletion"),
        (KeyState::PendingImport, "pending_import"),
        (KeyState::Frozen, "frozen"),
    ];
    let of = |state: KeyState| {
        tally
            .iter()
            .find(|(s, _)| s == state.code())
            .map(|(_, n)| *n)
    };
    Ok(states
        .iter()
        .filter_map(|(state, name)| Some((*name, usize::try_from(of(*state)?).ok()?)))
        .filter(|(_, n)| *n > 0)
        .collect())
}

pub fn routes(state: AppState) -> Router<AppState> {
    let p = "/v1.0/{project_id}/kms";
    Router::new()
        .route(&format!("{p}/create-key"), post(keys::create_key))
        .route(&format!("{p}/describe-key"), post(keys::list_key_detail))
        .route(&format!("{p}/list-keys"), post(keys::list_keys))
        .route(&format!("{p}/enable-key"), post(keys::enable_key))
        .route(&format!("{p}/disable-key"), post(keys::disable_key))
        .route(
            &format!("{p}/schedule-key-deletion"),
            post(keys::delete_key),
        )
        .route(
            &format!("{p}/cancel-key-deletion"),
            post(keys::cancel_key_deletion),
        )
        .route(
            &format!("{p}/update-key-description"),
            post(keys::update_key_description),
        )
        .route(
            &format!("{p}/update-key-alias"),
            post(keys::update_key_alias),
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
            get(keys::show_user_instances),
        )
        .route(&format!("{p}/user-quotas"), get(keys::show_user_quotas))
        .merge(admin_routes())
        .merge(alias_region_routes())
        .merge(keystore_routes())
        .merge(keyspace_routes())
        // Innermost: a request's proof of its access point is checked once
        // its caller is known, before any handler reads a key.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access_points::prove_access_point,
        ))
        // Authentication, then the audit trail (which sees the caller and the read body).
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::server::gate::gate::<{ auth::KMS }, KmsError>,
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

/// Key stores (one per configured PKCS#11 token).
fn keystore_routes() -> Router<AppState> {
    let p = "/v1.0/{project_id}/keystores";
    Router::new()
        .route(
            p,
            post(keystores::create_key_store).get(keystores::list_key_stores),
        )
        .route(
            &format!("{p}/{{keystore_id}}"),
            get(keystores::show_key_store).delete(keystores::delete_key_store),
        )
        .route(
            &format!("{p}/{{keystore_id}}/enable"),
            post(keystores::enable_key_store),
        )
        .route(
            &format!("{p}/{{keystore_id}}/disable"),
            post(keystores::disable_key_store),
        )
}

/// Access points and key policies of key spaces.
fn keyspace_routes() -> Router<AppState> {
    let ap = "/v1.0/{project_id}/kms/access-points";
    let kp = "/v1.0/{project_id}/kms/key-policies";
    Router::new()
        .route(
            ap,
            post(access_points::create_access_point).get(access_points::list_access_point),
        )
        .route(
            &format!("{ap}/{{access_point_id}}"),
            delete(access_points::delete_access_point),
        )
        .route(
            &format!("{ap}/{{access_point_id}}/enable"),
            post(access_points::enable_access_point),
        )
        .route(
            &format!("{ap}/{{access_point_id}}/disable"),
            post(access_points::disable_access_point),
        )
        .route(
            &format!("{ap}/{{access_point_id}}/get-privatekey"),
            post(access_points::download_access_point_private_key),
        )
        .route(
            kp,
            post(policies::create_key_policy).get(policies::list_key_policy),
        )
        .route(
            &format!("{kp}/{{policy_id}}"),
            get(policies::show_key_policy)
                .put(policies::update_key_policy)
                .delete(policies::delete_key_policy),
        )
}

/// Data keys, key pairs, re-encryption, random numbers, signatures and MACs.
fn crypto_routes() -> Router<AppState> {
    let p = "/v1.0/{project_id}/kms";
    let r = |op: &str| format!("{p}/{op}");
    Router::new()
        .route(&r("create-datakey"), post(datakeys::create_datakey))
        .route(
            &r("create-datakey-without-plaintext"),
            post(datakeys::create_datakey_without_plaintext),
        )
        .route(&r("encrypt-datakey"), post(datakeys::encrypt_datakey))
        .route(&r("decrypt-datakey"), post(datakeys::decrypt_datakey))
        .route(
            &r("create-rsa-datakey-pair"),
            post(keypairs::create_rsa_datakey_pair),
        )
        .route(
            &r("create-ec-datakey-pair"),
            post(keypairs::create_ec_datakey_pair),
        )
        .route(&r("re-encrypt"), post(reencrypt::re_encrypt))
        .route(&r("gen-random"), post(datakeys::create_random))
        .route(&r("sign"), post(sign::sign))
        .route(&r("verify"), post(sign::validate_signature))
        .route(&r("get-publickey"), post(sign::show_public_key))
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

impl crate::audit::Refusal for error::KmsError {
    fn audit_refusal() -> axum::response::Response {
        use axum::response::IntoResponse;
        error::KmsError::Internal("the audit record of this call could not be written".into())
            .into_response()
    }
}
