//! The listeners open now, by endpoint, and the bounds they live within: an
//! endpoint gets all its listeners or none, never more than the server's
//! listener bound in total, and never one whose backend is dewstack itself.

use super::limits::ForwardLimits;
use super::serve::{serve, Gate};
use crate::vpcep::backend::{own_address, OwnAddress};
use crate::vpcep::whitelist::PeerFilter;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

/// What an endpoint should be listening on: one route per port mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub listen: Ipv4Addr,
    pub routes: Vec<(u16, SocketAddr)>,
}

impl Spec {
    fn listen_addrs(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.routes
            .iter()
            .map(|(port, _)| SocketAddr::from((self.listen, *port)))
    }
}

struct Running {
    spec: Spec,
    peers: watch::Sender<PeerFilter>,
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
pub struct Forwarders {
    limits: ForwardLimits,
    api: Option<SocketAddr>,
    connections: Arc<Semaphore>,
    running: tokio::sync::Mutex<HashMap<String, Running>>,
}

impl Default for Forwarders {
    fn default() -> Self {
        Self::new(ForwardLimits::default(), None)
    }
}

impl Forwarders {
    /// `api`: where the API listens, never to be forwarded to.
    pub fn new(limits: ForwardLimits, api: Option<SocketAddr>) -> Self {
        Self {
            limits,
            api,
            connections: Arc::new(Semaphore::new(limits.connections)),
            running: tokio::sync::Mutex::default(),
        }
    }

    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.api
    }

    pub fn limits(&self) -> ForwardLimits {
        self.limits
    }

    /// Forwarded connections open now in the whole server.
    pub fn open_connections(&self) -> usize {
        self.limits.connections - self.connections.available_permits()
    }

    /// Makes the endpoint's listeners match `want` and its whitelist `peers`.
    /// Only a change of `want` reopens listeners. An error says why nothing
    /// is open for the endpoint.
    pub async fn sync(
        &self,
        endpoint_id: &str,
        want: Option<Spec>,
        peers: PeerFilter,
    ) -> Result<(), String> {
        let mut running = self.running.lock().await;
        if let Some(r) = running.get(endpoint_id) {
            if Some(&r.spec) == want.as_ref() {
                r.peers.send_replace(peers);
                return Ok(());
            }
        }
        if let Some(old) = running.remove(endpoint_id) {
            stop(old).await;
            tracing::info!(endpoint = endpoint_id, "endpoint forwarding closed");
        }
        let Some(spec) = want else {
            return Ok(());
        };
        self.admissible(&spec, &running)?;
        let (peers, watcher) = watch::channel(peers);
        let gate = Gate {
            peers: watcher,
            endpoint: Arc::new(Semaphore::new(self.limits.per_endpoint)),
            server: Arc::clone(&self.connections),
        };
        let mut opened = Running {
            spec: spec.clone(),
            peers,
            tasks: Vec::new(),
        };
        for (port, backend) in &spec.routes {
            match TcpListener::bind((spec.listen, *port)).await {
                Ok(listener) => {
                    opened
                        .tasks
                        .push(tokio::spawn(serve(listener, *backend, gate.clone())))
                }
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

    /// Whether `spec` may open next to what is `running`: within the listener
    /// bound, and with no route that reaches dewstack itself, whether through
    /// the API, the endpoint range, or a listener open now (so no forwarder
    /// ever feeds another, whichever of the two opened first).
    fn admissible(&self, spec: &Spec, running: &HashMap<String, Running>) -> Result<(), String> {
        let open: usize = running.values().map(|r| r.spec.routes.len()).sum();
        if open + spec.routes.len() > self.limits.listeners {
            return Err(format!(
                "cannot open {} listeners on {}: the server's limit of {} forwarding listeners \
                 (forward_max_listeners) is reached",
                spec.routes.len(),
                spec.listen,
                self.limits.listeners
            ));
        }
        let listening: Vec<SocketAddr> = running
            .values()
            .flat_map(|r| r.spec.listen_addrs())
            .chain(spec.listen_addrs())
            .collect();
        let backends: Vec<SocketAddr> = running
            .values()
            .flat_map(|r| r.spec.routes.iter().map(|(_, b)| *b))
            .collect();
        for (port, backend) in &spec.routes {
            let why = match own_address(*backend, self.api) {
                Some(OwnAddress::Api) => Some("the API's own address"),
                Some(OwnAddress::EndpointRange) => Some("an endpoint address"),
                None if listening.contains(backend) => Some("a forwarding listener"),
                None => None,
            };
            if let Some(why) = why {
                return Err(format!(
                    "cannot forward {}:{port} to {backend}: it is {why}, forwarding would loop",
                    spec.listen
                ));
            }
        }
        if let Some(at) = spec.listen_addrs().find(|a| backends.contains(a)) {
            return Err(format!(
                "cannot listen on {at}: another endpoint forwards to it"
            ));
        }
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
