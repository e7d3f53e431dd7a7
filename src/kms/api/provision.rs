//! Making keys: the record of a new key with fresh sealed material, the
//! per-service default keys other services ask for, the `kms/default` key
//! every project starts with, and the wire view of a key record.

use crate::kms::crypto::material;
use crate::kms::domain::keystore::DEFAULT_KEYSTORE;
use crate::kms::domain::multi_region;
use crate::kms::domain::{self, KeySpec, NewKey, Origin};
use crate::kms::error::KmsError;
use crate::kms::store::{self, KeyRecord};
use crate::kms::wire::{KeyDetails, KeyStatusInfo, MultiRegionConfiguration, RegionKey};
use crate::server::state::AppState;

/// Builds the record of a new key with fresh, sealed material (none for imported keys).
pub(crate) async fn new_record(
    app: &AppState,
    domain_id: &str,
    project_id: &str,
    new: NewKey,
    default_key: bool,
) -> Result<KeyRecord, KmsError> {
    let key_id = app.rng.uuid().to_string();
    let current = match new.origin {
        Origin::Kms if new.keystore_id != DEFAULT_KEYSTORE => {
            super::dispatch::generate_in_token(
                app,
                project_id,
                &new.keystore_id,
                &key_id,
                new.spec,
            )
            .await?;
            // The material is in the token, found by the key id: nothing sealed here.
            Some(store::KeyVersion {
                created_ms: app.clock.now().timestamp_millis(),
                sealed: Vec::new(),
            })
        }
        Origin::Kms => Some(store::KeyVersion {
            created_ms: app.clock.now().timestamp_millis(),
            sealed: sealed_material(app, &key_id, new.spec).await?,
        }),
        Origin::External => None,
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
        version_count: usize::from(current.is_some()),
        current,
        legacy_versions: Vec::new(),
        admin: Default::default(),
        multi_region: None,
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
    // A read snapshot: the key exists on every call but a project's first,
    // and a write transaction would queue behind every writer.
    if let Some(existing) = app
        .db
        .read(move |tx| store::find_by_alias(tx, &p, &a))
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

/// Every project has `kms/default` from the start; key records written
/// before key versions had rows of their own are migrated first.
pub async fn bootstrap(app: &AppState) -> anyhow::Result<()> {
    let counted = app
        .db
        .tx(store::count_existing)
        .await
        .map_err(|e: KmsError| anyhow::anyhow!("cannot count keys: {e}"))?;
    if counted > 0 {
        tracing::info!(keys = counted, "counted the keys of every project");
    }
    let listed = app
        .db
        .tx(store::index_existing)
        .await
        .map_err(|e: KmsError| anyhow::anyhow!("cannot index keys: {e}"))?;
    if listed > 0 {
        tracing::info!(keys = listed, "indexed the keys of every project for lists");
    }
    let grants = app
        .db
        .tx(store::grants::count_existing)
        .await
        .map_err(|e: KmsError| anyhow::anyhow!("cannot count grants: {e}"))?;
    if grants > 0 {
        tracing::info!(grants, "counted the grants of every key");
    }
    let moved = upgrade_key_records(app)
        .await
        .map_err(|e| anyhow::anyhow!("cannot migrate key versions: {e}"))?;
    if moved > 0 {
        tracing::info!(
            keys = moved,
            "moved older key versions into rows of their own"
        );
    }
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

/// Gives the older versions of every record written before versions had
/// rows their own rows, a page of records per transaction; returns how many
/// records changed. Records still in the old shape are readable meanwhile
/// (`store::find`), so this only makes them small again.
async fn upgrade_key_records(app: &AppState) -> Result<usize, KmsError> {
    let (mut after, mut moved) = (None::<String>, 0);
    loop {
        let from = after.clone();
        let (next, n) = app
            .db
            .tx(move |tx| store::upgrade_records(tx, from.as_deref(), 100))
            .await?;
        moved += n;
        match next {
            Some(last) => after = Some(last),
            None => return Ok(moved),
        }
    }
}

/// Generates material for a new key (off the async threads: RSA key
/// generation takes a while) and seals it under the root key.
pub(crate) async fn sealed_material(
    app: &AppState,
    key_id: &str,
    spec: KeySpec,
) -> Result<Vec<u8>, KmsError> {
    let (keyring, rng) = (app.keyring.clone(), app.rng.clone());
    let key_id = key_id.to_owned();
    let work = move || material::seal_fresh(&keyring, &rng, &key_id, spec);
    if spec.is_expensive() {
        return super::keygen::generate(work).await;
    }
    // Random bytes sealed with AES-GCM take microseconds, less than the hop
    // to a blocking thread and back.
    if spec.is_symmetric() || spec.is_hmac() {
        return work();
    }
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| KmsError::Internal(e.to_string()))?
}

/// The cloud's view of a key record. (An inherent impl of the wire type kept
/// here, on the api side, so that `wire` does not depend on `store`.)
impl KeyDetails {
    pub fn from_record(k: &KeyRecord, realm: &str) -> Self {
        let ms = |v: Option<i64>| v.map(|t| t.to_string()).unwrap_or_default();
        Self {
            key_id: k.key_id.clone(),
            domain_id: k.domain_id.clone(),
            key_alias: k.key_alias.clone(),
            realm: realm.to_owned(),
            key_spec: k.key_spec.as_str().to_owned(),
            key_usage: k.key_usage.as_str().to_owned(),
            key_description: k.key_description.clone(),
            creation_date: k.creation_ms.to_string(),
            scheduled_deletion_date: ms(k.scheduled_deletion_ms),
            key_state: k.key_state.code().to_owned(),
            default_key_flag: if k.default_key { "1" } else { "0" }.to_owned(),
            // The cloud reports "1" for user keys of its default key store.
            key_type: "1".to_owned(),
            expiration_time: ms(k.expiration_ms),
            origin: k.origin.as_str().to_owned(),
            key_rotation_enabled: k.admin.rotation_enabled.to_string(),
            sys_enterprise_project_id: k.enterprise_project_id.clone(),
            keystore_id: k.keystore_id.clone(),
            // dewstack's choice: the record keeps the deletion date, not the
            // days asked for, so this stays "" as the cloud shows it for keys
            // not pending deletion; scheduled_deletion_date says when.
            pending_days: String::new(),
            keystore_type: if k.keystore_id == DEFAULT_KEYSTORE {
                "DEFAULT"
            } else {
                domain::keystore::KEYSTORE_TYPE
            }
            .to_owned(),
            multi_region_key_type: multi_region::key_type(k.multi_region.as_ref(), &k.project_id)
                .to_owned(),
            multi_region_configuration: k.multi_region.as_ref().map(|g| {
                let entry = |p: &multi_region::Peer| RegionKey {
                    key_id: k.key_id.clone(),
                    region: p.region.clone(),
                    project_id: p.project_id.clone(),
                };
                MultiRegionConfiguration {
                    multi_region_key_type: multi_region::key_type(Some(g), &k.project_id).into(),
                    primary_key: entry(&g.primary),
                    replica_keys: g.replicas.iter().map(entry).collect(),
                }
            }),
        }
    }
}

/// The region keys of `project` report as their `realm`: the project's region.
pub fn realm<'a>(app: &'a AppState, project: &str) -> &'a str {
    app.directory.region_of(project).unwrap_or(&app.region)
}

impl KeyStatusInfo {
    pub fn of(k: &KeyRecord) -> Self {
        Self {
            key_id: k.key_id.clone(),
            key_state: k.key_state.code().to_owned(),
        }
    }
}
