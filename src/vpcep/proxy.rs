//! Real traffic for local testing. An endpoint service whose `ip` is a
//! loopback address (e.g. `127.0.0.1`) has its backend on this machine: each
//! port mapping `client_port → server_port` means `127.0.0.1:server_port`.
//! While an endpoint of such a service is `accepted`, dewstack listens on the
//! endpoint's own loopback address (its `ip`, from 127.0.1.1 upwards) at every
//! `client_port` and forwards each connection to the backend. Rejecting or
//! deleting the endpoint (or changing the service's ports) closes the
//! listeners and the connections in flight. See docs/vpcep.md.

use super::domain::EndpointStatus;
use super::error::VpcepError;
use super::pool::is_loopback_backend;
use super::store::{self, EndpointRecord, ServiceRecord};
use crate::clock::Clock;
use crate::store::Db;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The address pool name of loopback endpoint addresses.
pub const LOOPBACK: &str = "loopback";

/// What an endpoint should be listening on: one route per port mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub listen: Ipv4Addr,
    pub routes: Vec<(u16, SocketAddr)>,
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

struct Running {
    spec: Spec,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        // Aborting an accept loop drops its JoinSet, which aborts its connections.
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The listeners currently open, by endpoint id.
#[derive(Default)]
pub struct Forwarders {
    running: tokio::sync::Mutex<HashMap<String, Running>>,
}

impl Forwarders {
    /// Makes the endpoint's listeners match `want`; an error names the address
    /// that could not be opened (nothing stays open then).
    pub async fn sync(&self, endpoint_id: &str, want: Option<Spec>) -> Result<(), String> {
        let mut running = self.running.lock().await;
        if running.get(endpoint_id).map(|r| &r.spec) == want.as_ref() {
            return Ok(());
        }
        if let Some(old) = running.remove(endpoint_id) {
            stop(old).await;
            tracing::info!(endpoint = endpoint_id, "endpoint forwarding closed");
        }
        let Some(spec) = want else {
            return Ok(());
        };
        let mut opened = Running {
            spec: spec.clone(),
            tasks: Vec::new(),
        };
        for (port, backend) in &spec.routes {
            match TcpListener::bind((spec.listen, *port)).await {
                Ok(listener) => opened.tasks.push(tokio::spawn(serve(listener, *backend))),
                Err(e) => {
                    stop(opened).await;
                    return Err(format!("cannot listen on {}:{port}: {e}", spec.listen));
                }
            }
            tracing::info!(
                endpoint = endpoint_id,
                listen = %format!("{}:{port}", spec.listen),
                backend = %backend,
                "endpoint forwarding open"
            );
        }
        running.insert(endpoint_id.to_owned(), opened);
        Ok(())
    }

    /// What an endpoint is listening on now (for tests and diagnostics).
    pub async fn current(&self, endpoint_id: &str) -> Option<Spec> {
        self.running
            .lock()
            .await
            .get(endpoint_id)
            .map(|r| r.spec.clone())
    }
}

/// Closes the listeners for good before returning: once a reject or delete
/// has been answered, the port refuses connections.
async fn stop(mut running: Running) {
    let tasks = std::mem::take(&mut running.tasks);
    for t in &tasks {
        t.abort();
    }
    for t in tasks {
        let _ = t.await;
    }
}

async fn serve(listener: TcpListener, backend: SocketAddr) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((mut inbound, _)) => {
                    connections.spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(backend).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "endpoint forwarding: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
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
    let reason = forwarders.sync(&e.id, desired(e, s)).await.err()?;
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
    let _ = forwarders.sync(endpoint_id, None).await;
}

#[cfg(test)]
#[path = "proxy_tests.rs"]
mod tests;
