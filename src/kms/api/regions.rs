//! ListSupportRegions, ReplicateKey and UpdatePrimaryRegion. The regions are
//! the config's (`Directory::regions`); the rules of multi-region keys are in
//! `domain/multi_region.rs`, keeping the records of one key in step in
//! `store` (`spread`, and `save`/`purge`). A replica is a record under the
//! same key id in the replica region's project of the caller's domain, with
//! the source's versions (the same sealed bytes), so `access::usable_key`
//! finds it in its own project and every ciphertext of the key opens there.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::paging;
use crate::common::query::Query;
use crate::kms::domain::multi_region::{self as rules, MultiRegion, Peer, Source};
use crate::kms::domain::{self, KeyState};
use crate::kms::error::KmsError;
use crate::kms::store::{self, versions, KeyAdmin, KeyRecord};
use crate::kms::wire::KmsQuery;
use crate::kms::wire::*;
use crate::server::state::AppState;
use crate::store::Tx;
use axum::extract::{Path, State};

#[derive(serde::Deserialize)]
pub struct KeyPath {
    key_id: String,
}

/// `limit` (default 10) and `offset` of ListSupportRegions.
pub fn parse_region_paging(
    limit: Option<&str>,
    offset: Option<&str>,
) -> Result<(usize, usize), KmsError> {
    let limit =
        paging::parse_limit(limit, 10, 1000).map_err(|_| KmsError::InvalidParameter("limit"))?;
    let offset = paging::parse_offset(offset).map_err(|_| KmsError::InvalidOffset)?;
    Ok((limit, offset))
}

/// The target region a request names: required, and one dewstack serves.
pub fn target_region(
    served: &[String],
    raw: Option<&str>,
    field: &'static str,
) -> Result<String, KmsError> {
    match raw.map(str::trim) {
        None | Some("") => Err(KmsError::MissingParameter(field)),
        Some(r) if served.iter().any(|s| s == r) => Ok(r.to_owned()),
        Some(_) => Err(KmsError::RegionUnsupported),
    }
}

pub async fn list_support_regions(
    State(app): State<AppState>,
    _caller: Caller,
    Query(q, _): KmsQuery<ListRegionsQuery>,
) -> Result<Json<ListSupportRegionsResponse>, KmsError> {
    let (limit, offset) = parse_region_paging(q.limit.as_deref(), q.offset.as_deref())?;
    let page = paging::page(app.directory.regions().to_vec(), offset, limit);
    Ok(Json(ListSupportRegionsResponse {
        regions: page.items,
    }))
}

async fn check_key(app: &AppState, caller: &Caller, key_id: &str) -> Result<String, KmsError> {
    let key_id = domain::parse_key_id(Some(key_id))?;
    let (project, id) = (caller.project().to_owned(), key_id.clone());
    app.db
        .read(move |tx| store::load(tx, &project, &id).map(|_| ()))
        .await?;
    Ok(key_id)
}

/// The replica's project: the one named, if it is the caller's domain's and
/// in `region`; else the domain's project named after the region. A project
/// of another domain answers as one that does not exist.
fn replica_project(
    app: &AppState,
    caller: &Caller,
    region: &str,
    named: Option<&str>,
) -> Result<String, KmsError> {
    let dir = &app.directory;
    let domain = dir
        .domain(&caller.domain_id)
        .ok_or(KmsError::InvalidReplicaProject)?;
    let project = match named.filter(|p| !p.is_empty()) {
        Some(p) => dir.project_of_domain_in(domain, p, region),
        None => dir.project_in_region(&caller.domain_id, region),
    };
    project
        .map(|p| p.id.clone())
        .ok_or(KmsError::InvalidReplicaProject)
}

/// What the replica is made of, decided before the transaction.
#[derive(Clone)]
struct Replica {
    peer: Peer,
    alias: String,
    description: String,
    tags: std::collections::BTreeMap<String, String>,
    now_ms: i64,
}

pub async fn replicate_key(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<KeyPath>,
    Body(req, _): KmsBody<ReplicateKeyRequest>,
) -> Result<Json<ReplicateKeyResponse>, KmsError> {
    let key_id = check_key(&app, &caller, &path.key_id).await?;
    let region = target_region(
        app.directory.regions(),
        req.replica_region.as_deref(),
        "replica_region",
    )?;
    let own_region = super::provision::realm(&app, caller.project()).to_owned();
    rules::check_other_region(&own_region, &region)?;
    let alias = req
        .key_alias
        .as_deref()
        .filter(|a| !a.is_empty())
        .ok_or(KmsError::MissingParameter("key_alias"))?;
    let replica = Replica {
        alias: domain::parse_alias(alias)?,
        description: domain::parse_description(req.key_description.as_deref())?,
        tags: crate::kms::tags::initial(req.tags)?,
        peer: Peer {
            project_id: replica_project(&app, &caller, &region, req.replica_project_id.as_deref())?,
            region: region.clone(),
        },
        now_ms: app.clock.now().timestamp_millis(),
    };
    let project = caller.project().to_owned();
    let quota = app.limits.keys_per_project as u64;
    let id = key_id.clone();
    app.db
        .tx(move |tx| {
            let source = store::load(tx, &project, &id)?;
            let group = rules::replicate(
                &Source {
                    project: &project,
                    region: &own_region,
                    default_key: source.default_key,
                    in_key_store: crate::kms::access::in_token(&source),
                    state: source.key_state,
                    group: source.multi_region.as_ref(),
                },
                replica.peer.clone(),
            )?;
            insert_replica(tx, &source, &replica, &group, quota)
        })
        .await?;
    Ok(Json(ReplicateKeyResponse {
        key_id,
        domain_id: caller.domain_id,
        region,
    }))
}

/// Writes the replica with every version of `source`, and the new group into
/// every record of it. The owner index keeps naming the source's project.
fn insert_replica(
    tx: &mut dyn Tx,
    source: &KeyRecord,
    r: &Replica,
    group: &MultiRegion,
    quota: u64,
) -> Result<(), KmsError> {
    let target = &r.peer.project_id;
    if store::find(tx, target, &source.key_id)?.is_some() {
        return Err(KmsError::ReplicaExists);
    }
    if store::count(tx, target)? >= quota {
        return Err(KmsError::KeyQuotaExceeded);
    }
    let mut older: Vec<store::KeyVersion> = Vec::new();
    for (index, version) in versions::list(tx, &source.project_id, &source.key_id)? {
        if index != older.len() {
            return Err(KmsError::Internal(format!(
                "key {}: version {index} out of order",
                source.key_id
            )));
        }
        older.push(version);
    }
    let mut replica = KeyRecord {
        project_id: target.clone(),
        key_alias: r.alias.clone(),
        key_description: r.description.clone(),
        // dewstack's choice: a replica starts enabled, whatever the source's state.
        key_state: KeyState::Enabled,
        creation_ms: r.now_ms,
        scheduled_deletion_ms: None,
        enterprise_project_id: "0".into(),
        tags: r.tags.clone(),
        // Replicas do not rotate on their own: the primary's rotations reach
        // them. Imported material keeps its fingerprint: a re-import into the
        // replica must bring the same material.
        admin: KeyAdmin {
            material_fingerprint: source.admin.material_fingerprint.clone(),
            ..KeyAdmin::default()
        },
        multi_region: Some(group.clone()),
        ..source.clone()
    };
    older.extend(source.current.clone());
    replica.legacy_versions = older;
    store::insert(tx, &replica)?;
    store::index_owner(tx, source)?;
    store::spread(tx, &source.key_id, group, target)
}

pub async fn update_primary_region(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<KeyPath>,
    Body(req, _): KmsBody<UpdatePrimaryRegionRequest>,
) -> Result<Json<UpdatePrimaryRegionResponse>, KmsError> {
    let key_id = check_key(&app, &caller, &path.key_id).await?;
    let region = target_region(
        app.directory.regions(),
        req.primary_region.as_deref(),
        "primary_region",
    )?;
    let (project, id, to) = (caller.project().to_owned(), key_id.clone(), region.clone());
    app.db
        .tx(move |tx| move_primary(tx, &project, &id, &to))
        .await?;
    Ok(Json(UpdatePrimaryRegionResponse {
        key_id,
        primary_region: region,
    }))
}

/// The replica in `region` becomes the primary, with the old primary's
/// rotation schedule (only a primary rotates); the old one becomes a replica.
fn move_primary(
    tx: &mut dyn Tx,
    project: &str,
    key_id: &str,
    region: &str,
) -> Result<(), KmsError> {
    let mut old = store::load(tx, project, key_id)?;
    let peer = old
        .multi_region
        .as_ref()
        .and_then(|g| g.replicas.iter().find(|p| p.region == region).cloned());
    let mut new = match &peer {
        Some(p) => store::find(tx, &p.project_id, key_id)?,
        None => None,
    };
    let group = rules::move_primary(
        old.multi_region.as_ref(),
        project,
        region,
        new.as_ref().map(|n| n.key_state),
    )?;
    let Some(new) = new.as_mut() else {
        return Err(KmsError::NoReplicaInRegion);
    };
    new.admin = KeyAdmin {
        material_fingerprint: new.admin.material_fingerprint.take(),
        ..old.admin.clone()
    };
    old.admin.rotation_enabled = false;
    new.multi_region = Some(group.clone());
    old.multi_region = Some(group.clone());
    store::save(tx, new)?;
    store::save(tx, &old)?;
    store::spread(tx, key_id, &group, project)
}

#[cfg(test)]
#[path = "regions_tests.rs"]
mod tests;
