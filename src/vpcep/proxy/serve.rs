//! One listener's accept loop. Every accepted connection passes the gate in
//! this order: the endpoint whitelist (on the peer address), the endpoint's
//! connection bound, the server's connection bound. A connection that fails
//! any of them is closed at once, before the backend is contacted; nothing
//! waits in a queue of dewstack's own.

use crate::vpcep::whitelist::PeerFilter;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// A backend that does not answer within this is given up on (dewstack's
/// choice; loopback backends answer or refuse at once).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What decides whether an accepted connection is forwarded.
#[derive(Clone)]
pub struct Gate {
    /// The endpoint's whitelist; replaced in place when it changes, so new
    /// connections see the change without the listener being reopened.
    pub peers: watch::Receiver<PeerFilter>,
    /// Shared by all listeners of one endpoint.
    pub endpoint: Arc<Semaphore>,
    /// Shared by every listener of the server.
    pub server: Arc<Semaphore>,
}

/// Why a connection was closed without being forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotWhitelisted,
    EndpointFull,
    ServerFull,
}

impl Gate {
    /// The permits a forwarded connection holds until it ends.
    pub fn admit(
        &self,
        peer: SocketAddr,
    ) -> Result<(OwnedSemaphorePermit, OwnedSemaphorePermit), Refusal> {
        if !self.peers.borrow().admits(peer.ip()) {
            return Err(Refusal::NotWhitelisted);
        }
        let one = Arc::clone(&self.endpoint)
            .try_acquire_owned()
            .map_err(|_| Refusal::EndpointFull)?;
        let all = Arc::clone(&self.server)
            .try_acquire_owned()
            .map_err(|_| Refusal::ServerFull)?;
        Ok((one, all))
    }
}

pub async fn serve(listener: TcpListener, backend: SocketAddr, gate: Gate) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((inbound, peer)) => match gate.admit(peer) {
                    Ok(permits) => {
                        connections.spawn(forward(inbound, backend, permits));
                    }
                    // Dropping `inbound` closes it.
                    Err(why) => tracing::debug!(peer = %peer, reason = ?why, "endpoint connection refused"),
                },
                Err(e) => {
                    tracing::warn!(error = %e, "endpoint forwarding: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn forward(
    mut inbound: TcpStream,
    backend: SocketAddr,
    _permits: (OwnedSemaphorePermit, OwnedSemaphorePermit),
) {
    let connect = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(backend)).await;
    if let Ok(Ok(mut outbound)) = connect {
        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
    }
}
