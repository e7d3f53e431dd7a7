//! What VPCEP keeps, and how:
//!
//! | table | key | value |
//! |---|---|---|
//! | `vpcep_services` | `project/service_id` | `ServiceRecord` (whitelist inside) |
//! | `vpcep_services_by_id` | `service_id` | owning project (consumers of other domains look services up by id) |
//! | `vpcep_endpoints` | `project/endpoint_id` | `EndpointRecord` |
//! | `vpcep_endpoints_by_id` | `endpoint_id` | owning project (providers reach connected endpoints by id) |
//! | `vpcep_connections` | `service_id/endpoint_id` | endpoint's project |
//! | `vpcep_addresses` | `pool/ip` | endpoint_id (no address twice in a pool) |
//! | `vpcep_markers` | `marker_id` (10 digits) | endpoint_id (marker ids are unique) |
//!
//! The quotas read kept per-project counts (`store::counts`, counters
//! `vpcep_services` and `vpcep_endpoints`), moved here in the write's own
//! transaction and computed once at start-up for older databases.

use super::domain::{EndpointStatus, PortMapping};
use super::error::VpcepError;
use crate::store::{counts, Tx, TxExt};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

const SERVICES: &str = "vpcep_services";
const SERVICES_BY_ID: &str = "vpcep_services_by_id";
const ENDPOINTS: &str = "vpcep_endpoints";
const ENDPOINTS_BY_ID: &str = "vpcep_endpoints_by_id";
const CONNECTIONS: &str = "vpcep_connections";
const ADDRESSES: &str = "vpcep_addresses";
const MARKERS: &str = "vpcep_markers";

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct PermissionRecord {
    pub id: String,
    pub permission: String,
    pub description: String,
    pub created_ms: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ServerResourceRecord {
    pub resource_id: String,
    pub availability_zone_id: String,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ServiceRecord {
    pub id: String,
    pub project_id: String,
    pub domain_id: String,
    /// The name as given (may be empty); the API reports `region.name.id`.
    pub name: String,
    pub server_type: String,
    pub service_type: String,
    pub vpc_id: String,
    pub port_id: Option<String>,
    pub ip: Option<String>,
    pub ports: Vec<PortMapping>,
    pub approval_enabled: bool,
    pub tcp_proxy: String,
    pub description: String,
    pub pool_id: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub permissions: Vec<PermissionRecord>,
    #[serde(default)]
    pub server_resources: Vec<ServerResourceRecord>,
    #[serde(default)]
    pub professional: bool,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct EndpointRecord {
    pub id: String,
    pub project_id: String,
    pub domain_id: String,
    pub service_id: String,
    pub service_project_id: String,
    /// The service's full name, kept in step when the service is renamed.
    pub service_name: String,
    pub service_type: String,
    pub vpc_id: String,
    pub subnet_id: Option<String>,
    pub ip: Option<String>,
    /// Which address pool `ip` came from (`subnet:<id>` or `loopback`).
    pub pool: Option<String>,
    pub marker_id: i64,
    pub status: EndpointStatus,
    /// The consumer's description of its endpoint.
    pub description: String,
    /// The provider's description of the connection (UpdateEndpointConnectionsDesc).
    #[serde(default)]
    pub connection_description: String,
    pub enable_dns: bool,
    pub whitelist: Vec<String>,
    pub enable_whitelist: bool,
    pub routetables: Vec<String>,
    pub policy_statement: Option<serde_json::Value>,
    pub policy_document: Option<serde_json::Value>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub professional: bool,
    /// (code, message) when `status` is failed.
    pub error: Option<(String, String)>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

fn key_of(project: &str, id: &str) -> String {
    format!("{project}/{id}")
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

// ---- services ----

pub fn find_service(
    tx: &mut dyn Tx,
    project: &str,
    id: &str,
) -> Result<Option<ServiceRecord>, VpcepError> {
    Ok(tx.get_json(SERVICES, &key_of(project, id))?)
}

/// The caller's own service, or 404: services of other projects do not exist for it.
pub fn load_service(tx: &mut dyn Tx, project: &str, id: &str) -> Result<ServiceRecord, VpcepError> {
    find_service(tx, project, id)?.ok_or(VpcepError::NotFound)
}

/// A service of any project, by id.
pub fn find_service_anywhere(
    tx: &mut dyn Tx,
    id: &str,
) -> Result<Option<ServiceRecord>, VpcepError> {
    match tx.get(SERVICES_BY_ID, id)? {
        Some(project) => find_service(tx, &text(project), id),
        None => Ok(None),
    }
}

pub fn save_service(tx: &mut dyn Tx, s: &ServiceRecord) -> Result<(), VpcepError> {
    let row = key_of(&s.project_id, &s.id);
    if tx.get(SERVICES, &row)?.is_none() {
        counts::add(tx, SERVICES, &s.project_id, 1)?;
    }
    tx.put(SERVICES_BY_ID, &s.id, s.project_id.as_bytes())?;
    tx.put_json(SERVICES, &row, s)?;
    Ok(())
}

pub fn delete_service(tx: &mut dyn Tx, s: &ServiceRecord) -> Result<(), VpcepError> {
    tx.delete(SERVICES_BY_ID, &s.id)?;
    if tx.delete(SERVICES, &key_of(&s.project_id, &s.id))? {
        counts::add(tx, SERVICES, &s.project_id, -1)?;
    }
    Ok(())
}

/// The project's endpoint services, from the kept count.
pub fn count_services(tx: &mut dyn Tx, project: &str) -> Result<usize, VpcepError> {
    Ok(counts::get(tx, SERVICES, project)? as usize)
}

/// The project's endpoints, from the kept count.
pub fn count_endpoints(tx: &mut dyn Tx, project: &str) -> Result<usize, VpcepError> {
    Ok(counts::get(tx, ENDPOINTS, project)? as usize)
}

/// Counts the services and endpoints stored before they were counted (once).
pub fn count_existing(tx: &mut dyn Tx) -> Result<usize, VpcepError> {
    let services = counts::rebuild(tx, SERVICES, SERVICES, |k, _| counts::project_prefix(k))?;
    let endpoints = counts::rebuild(tx, ENDPOINTS, ENDPOINTS, |k, _| counts::project_prefix(k))?;
    Ok(services + endpoints)
}

pub fn list_services(tx: &mut dyn Tx, project: &str) -> Result<Vec<ServiceRecord>, VpcepError> {
    Ok(tx
        .scan_json::<ServiceRecord>(SERVICES, &format!("{project}/"))?
        .into_iter()
        .map(|(_, s)| s)
        .collect())
}

pub fn all_services(tx: &mut dyn Tx) -> Result<Vec<ServiceRecord>, VpcepError> {
    Ok(tx
        .scan_json::<ServiceRecord>(SERVICES, "")?
        .into_iter()
        .map(|(_, s)| s)
        .collect())
}

// ---- endpoints ----

pub fn find_endpoint(
    tx: &mut dyn Tx,
    project: &str,
    id: &str,
) -> Result<Option<EndpointRecord>, VpcepError> {
    Ok(tx.get_json(ENDPOINTS, &key_of(project, id))?)
}

pub fn load_endpoint(
    tx: &mut dyn Tx,
    project: &str,
    id: &str,
) -> Result<EndpointRecord, VpcepError> {
    find_endpoint(tx, project, id)?.ok_or(VpcepError::EndpointNotFound)
}

/// An endpoint connected to `service_id`, whatever project it lives in.
pub fn find_connection(
    tx: &mut dyn Tx,
    service_id: &str,
    endpoint_id: &str,
) -> Result<Option<EndpointRecord>, VpcepError> {
    match tx.get(CONNECTIONS, &key_of(service_id, endpoint_id))? {
        Some(project) => find_endpoint(tx, &text(project), endpoint_id),
        None => Ok(None),
    }
}

/// All endpoints connected to a service.
pub fn connections(tx: &mut dyn Tx, service_id: &str) -> Result<Vec<EndpointRecord>, VpcepError> {
    let mut out = Vec::new();
    for (key, project) in tx.scan_all(CONNECTIONS, &format!("{service_id}/"))? {
        let endpoint_id = key.rsplit('/').next().unwrap_or_default().to_owned();
        if let Some(e) = find_endpoint(tx, &text(project), &endpoint_id)? {
            out.push(e);
        }
    }
    Ok(out)
}

pub fn has_connections(tx: &mut dyn Tx, service_id: &str) -> Result<bool, VpcepError> {
    Ok(!tx
        .scan(CONNECTIONS, &format!("{service_id}/"), None, 1)?
        .is_empty())
}

/// Writes a new endpoint with its indexes; the caller checked address and marker.
pub fn insert_endpoint(tx: &mut dyn Tx, e: &EndpointRecord) -> Result<(), VpcepError> {
    tx.put(ENDPOINTS_BY_ID, &e.id, e.project_id.as_bytes())?;
    tx.put(
        CONNECTIONS,
        &key_of(&e.service_id, &e.id),
        e.project_id.as_bytes(),
    )?;
    if let (Some(pool), Some(ip)) = (&e.pool, &e.ip) {
        tx.put(ADDRESSES, &key_of(pool, ip), e.id.as_bytes())?;
    }
    tx.put(MARKERS, &marker_key(e.marker_id), e.id.as_bytes())?;
    save_endpoint(tx, e)
}

pub fn save_endpoint(tx: &mut dyn Tx, e: &EndpointRecord) -> Result<(), VpcepError> {
    let row = key_of(&e.project_id, &e.id);
    if tx.get(ENDPOINTS, &row)?.is_none() {
        counts::add(tx, ENDPOINTS, &e.project_id, 1)?;
    }
    tx.put_json(ENDPOINTS, &row, e)?;
    Ok(())
}

/// Removes an endpoint and frees its address and marker id.
pub fn delete_endpoint(tx: &mut dyn Tx, e: &EndpointRecord) -> Result<(), VpcepError> {
    tx.delete(ENDPOINTS_BY_ID, &e.id)?;
    tx.delete(CONNECTIONS, &key_of(&e.service_id, &e.id))?;
    if let (Some(pool), Some(ip)) = (&e.pool, &e.ip) {
        tx.delete(ADDRESSES, &key_of(pool, ip))?;
    }
    tx.delete(MARKERS, &marker_key(e.marker_id))?;
    if tx.delete(ENDPOINTS, &key_of(&e.project_id, &e.id))? {
        counts::add(tx, ENDPOINTS, &e.project_id, -1)?;
    }
    Ok(())
}

pub fn list_endpoints(tx: &mut dyn Tx, project: &str) -> Result<Vec<EndpointRecord>, VpcepError> {
    Ok(tx
        .scan_json::<EndpointRecord>(ENDPOINTS, &format!("{project}/"))?
        .into_iter()
        .map(|(_, e)| e)
        .collect())
}

pub fn all_endpoints(tx: &mut dyn Tx) -> Result<Vec<EndpointRecord>, VpcepError> {
    Ok(tx
        .scan_json::<EndpointRecord>(ENDPOINTS, "")?
        .into_iter()
        .map(|(_, e)| e)
        .collect())
}

// ---- addresses and markers ----

pub fn used_addresses(tx: &mut dyn Tx, pool: &str) -> Result<BTreeSet<Ipv4Addr>, VpcepError> {
    Ok(tx
        .scan_all(ADDRESSES, &format!("{pool}/"))?
        .into_iter()
        .filter_map(|(k, _)| k.rsplit('/').next().and_then(|ip| ip.parse().ok()))
        .collect())
}

fn marker_key(marker: i64) -> String {
    format!("{:010}", marker.max(0))
}

pub fn marker_taken(tx: &mut dyn Tx, marker: i64) -> Result<bool, VpcepError> {
    Ok(tx.get(MARKERS, &marker_key(marker))?.is_some())
}

/// Raw scan over a whole prefix, in pages.
trait ScanAll {
    fn scan_all(
        &mut self,
        table: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, crate::store::StoreError>;
}

impl<T: Tx + ?Sized> ScanAll for T {
    fn scan_all(
        &mut self,
        table: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, crate::store::StoreError> {
        let mut out: Vec<(String, Vec<u8>)> = Vec::new();
        loop {
            let after = out.last().map(|(k, _)| k.clone());
            let page = self.scan(table, prefix, after.as_deref(), 500)?;
            let done = page.len() < 500;
            out.extend(page);
            if done {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
