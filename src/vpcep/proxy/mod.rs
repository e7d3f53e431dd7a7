//! Real traffic for local testing. An endpoint service whose `ip` is a
//! loopback address (e.g. `127.0.0.1`) has its backend on this machine: each
//! port mapping `client_port → server_port` means `<ip>:server_port`.
//! While an endpoint of such a service is `accepted`, dewstack listens on the
//! endpoint's own loopback address (its `ip`, from 127.0.1.1 upwards) at every
//! `client_port` and forwards each connection to the backend. Rejecting or
//! deleting the endpoint (or changing the service's ports) closes the
//! listeners and the connections in flight. See docs/vpcep.md.
//!
//! Bounds (`limits.rs`): listeners in the server, connections in the server
//! and per endpoint. Refusals (`forwarders.rs`): backends that are dewstack's
//! own addresses. Per connection (`serve.rs`): the endpoint whitelist.

mod forwarders;
mod limits;
mod serve;

pub use forwarders::{Forwarders, Spec};
pub use limits::ForwardLimits;

use super::domain::EndpointStatus;
use super::error::VpcepError;
use super::pool::is_loopback_backend;
use super::store::{self, EndpointRecord, ServiceRecord};
use super::whitelist::PeerFilter;
use crate::clock::Clock;
use crate::config::Limits;
use crate::store::Db;
use std::net::{Ipv4Addr, SocketAddr};

/// The address pool name of loopback endpoint addresses.
pub const LOOPBACK: &str = "loopback";

/// The forwarders of a server: `[limits]` capped by the open-files limit in
/// force, refusing to forward to `api`. Logs the bounds chosen.
pub fn for_server(cfg: &Limits, open_files: Option<u64>, api: SocketAddr) -> Forwarders {
    let limits = ForwardLimits::resolve(cfg, open_files);
    tracing::info!(
        listeners = limits.listeners,
        connections = limits.connections,
        per_endpoint = limits.per_endpoint,
        "VPC endpoint forwarding limits"
    );
    if limits.listeners < cfg.forward_max_listeners
        || limits.connections < cfg.forward_max_connections
    {
        tracing::warn!(
            open_files,
            "VPC endpoint forwarding limits lowered to an eighth of the open-files limit"
        );
    }
    Forwarders::new(limits, Some(api))
}

/// The forwarding an endpoint should have, given its service; `None` = none.
pub fn desired(e: &EndpointRecord, s: Option<&ServiceRecord>) -> Option<Spec> {
    let s = s?;
    if e.status != EndpointStatus::Accepted
        || e.pool.as_deref() != Some(LOOPBACK)
        || !is_loopback_backend(s.ip.as_deref())
    {
        return None;
    }
    let listen: Ipv4Addr = e.ip.as_deref()?.parse().ok()?;
    let backend: Ipv4Addr = s.ip.as_deref()?.parse().ok()?;
    let routes = s
        .ports
        .iter()
        .map(|m| (m.client_port, SocketAddr::from((backend, m.server_port))))
        .collect();
    Some(Spec { listen, routes })
}

/// Who may connect through the endpoint.
pub fn peers(e: &EndpointRecord) -> PeerFilter {
    PeerFilter::of(e.enable_whitelist, &e.whitelist)
}

/// Brings the endpoint's forwarding in line with its state after a change has
/// been committed. If the listeners cannot be opened the endpoint becomes
/// `failed` (with the reason in `error`) and the failed record is returned.
/// Takes only what it uses (the listeners, the store, the clock), not `AppState`.
pub async fn reconcile(
    forwarders: &Forwarders,
    db: &Db,
    clock: &dyn Clock,
    e: &EndpointRecord,
    s: Option<&ServiceRecord>,
) -> Option<EndpointRecord> {
    let reason = forwarders
        .sync(&e.id, desired(e, s), peers(e))
        .await
        .err()?;
    tracing::warn!(endpoint = %e.id, reason = %reason, "endpoint forwarding failed");
    let (project, id) = (e.project_id.clone(), e.id.clone());
    let now = clock.now().timestamp_millis();
    let marked = db
        .tx(move |tx| {
            let Some(mut rec) = store::find_endpoint(tx, &project, &id)? else {
                return Ok::<_, VpcepError>(None);
            };
            rec.status = EndpointStatus::Failed;
            rec.error = Some(("EndPoint.2022".into(), reason.clone()));
            rec.updated_ms = now;
            store::save_endpoint(tx, &rec)?;
            Ok(Some(rec))
        })
        .await;
    marked.unwrap_or_else(|err| {
        tracing::warn!(error = %err, "cannot mark endpoint failed");
        None
    })
}

/// Closes an endpoint's forwarding (it was deleted).
pub async fn close(forwarders: &Forwarders, endpoint_id: &str) {
    let _ = forwarders.sync(endpoint_id, None, PeerFilter::Anyone).await;
}

#[cfg(test)]
mod tests;
