//! The accept loop, with the limits that hold before a request is
//! authenticated: at most `max_connections` connections are served at once
//! (the rest wait in the kernel's listen queue, so a flood of connections
//! delays new clients but cannot exhaust file descriptors), each connection
//! gets `header_read_timeout` to deliver a request's headers and is closed
//! after `idle_timeout` with no request in flight. On shutdown every connection
//! finishes the request it is serving, then closes; `run` returns when all have.
//! HTTPS connections (`Listener::tls`) are held to the same limits, the TLS
//! handshake counting against the header timeout.

use crate::config::Limits;
use axum::Router;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;

/// A socket to accept on, speaking TLS when it has an acceptor.
pub struct Listener {
    pub tcp: TcpListener,
    pub tls: Option<TlsAcceptor>,
}

/// Serves `app` on `listener` until `stop` turns true.
pub async fn run(listener: TcpListener, app: Router, limits: Limits, stop: watch::Receiver<bool>) {
    let plain = Listener {
        tcp: listener,
        tls: None,
    };
    run_all(vec![plain], app, limits, stop).await;
}

/// Serves `app` on every listener (HTTP and HTTPS) until `stop` turns true.
/// They share one `max_connections` budget: the limit counts connections,
/// whichever port they came in on.
pub async fn run_all(
    listeners: Vec<Listener>,
    app: Router,
    limits: Limits,
    stop: watch::Receiver<bool>,
) {
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max));
    let mut builder = Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(secs(limits.header_read_timeout_secs));
    let conn = Arc::new(ConnLimits {
        builder,
        idle: secs(limits.idle_timeout_secs),
        // A TLS handshake is part of getting a request in: it gets the
        // header timeout (10 s when that is switched off, so that a client
        // that never finishes one cannot hold a slot forever).
        handshake: secs(limits.header_read_timeout_secs).unwrap_or(Duration::from_secs(10)),
    });
    accept_loop(&listeners, app, slots.clone(), conn, stop).await;
    drop(listeners);
    // Every connection holds a slot until it is closed.
    let _ = slots.acquire_many(max as u32).await;
}

struct ConnLimits {
    builder: Builder,
    idle: Option<Duration>,
    handshake: Duration,
}

/// One loop for all listeners: a free slot goes to whichever socket has a
/// connection waiting, so an idle port never sits on a slot another needs.
async fn accept_loop(
    listeners: &[Listener],
    app: Router,
    slots: Arc<Semaphore>,
    conn: Arc<ConnLimits>,
    stop: watch::Receiver<bool>,
) {
    let mut accept_stop = stop.clone();
    let mut turn = 0usize;
    loop {
        // A slot first, then the connection: above the limit, clients wait in
        // the listen queue instead of being accepted and starved.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = accept_stop.changed() => break,
        };
        turn = turn.wrapping_add(1);
        let (stream, tls) = tokio::select! {
            accepted = std::future::poll_fn(|cx| poll_accept_any(listeners, turn, cx)) => match accepted {
                (Ok(stream), tls) => (stream, tls),
                (Err(e), _) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = accept_stop.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let peer = stream.peer_addr().ok();
        let (app, conn, stop) = (app.clone(), conn.clone(), stop.clone());
        tokio::spawn(async move {
            match tls {
                None => serve_one(stream, peer, app, &conn, stop).await,
                Some(acceptor) => match timeout(conn.handshake, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => serve_one(tls, peer, app, &conn, stop).await,
                    Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!("TLS handshake timed out"),
                },
            }
            drop(permit);
        });
    }
}

/// The first listener with a connection waiting, starting the search at a
/// different one each time so that a busy port cannot starve the other.
fn poll_accept_any(
    listeners: &[Listener],
    turn: usize,
    cx: &mut std::task::Context<'_>,
) -> std::task::Poll<(std::io::Result<TcpStream>, Option<TlsAcceptor>)> {
    let n = listeners.len();
    for i in 0..n {
        let l = &listeners[(turn + i) % n];
        if let std::task::Poll::Ready(r) = l.tcp.poll_accept(cx) {
            return std::task::Poll::Ready((r.map(|(s, _)| s), l.tls.clone()));
        }
    }
    std::task::Poll::Pending
}

fn secs(n: u64) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(n))
}

async fn serve_one<S>(
    stream: S,
    peer: Option<std::net::SocketAddr>,
    app: Router,
    conn: &ConnLimits,
    mut stop: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (builder, idle) = (&conn.builder, conn.idle);
    // The peer, for handlers that care who is on the other end (`/metrics`).
    let peer = peer.map(axum::extract::ConnectInfo);
    let (busy_tx, busy_rx) = watch::channel(0usize);
    let busy_tx = Arc::new(busy_tx);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
        if let Some(peer) = peer {
            req.extensions_mut().insert(peer);
        }
        let guard = Busy::enter(&busy_tx);
        let mut app = app.clone();
        async move {
            let _guard = guard;
            tower::Service::call(&mut app, req).await
        }
    });
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let idle = idle_for(busy_rx, idle);
    let mut idle = std::pin::pin!(idle);
    let mut closing = *stop.borrow();
    if closing {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(error = %e, "connection ended");
                }
                return;
            }
            _ = &mut idle, if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = stop.changed(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Resolves once the connection has had no request in flight for `timeout`.
async fn idle_for(mut busy: watch::Receiver<usize>, timeout: Option<Duration>) {
    let Some(timeout) = timeout else {
        return std::future::pending().await;
    };
    loop {
        let changed = if *busy.borrow_and_update() == 0 {
            match tokio::time::timeout(timeout, busy.changed()).await {
                Err(_) => return,
                Ok(r) => r,
            }
        } else {
            busy.changed().await
        };
        if changed.is_err() {
            return std::future::pending().await;
        }
    }
}

/// Counts a request in flight on its connection while alive.
struct Busy(Arc<watch::Sender<usize>>);

impl Busy {
    fn enter(tx: &Arc<watch::Sender<usize>>) -> Self {
        tx.send_modify(|n| *n += 1);
        Self(tx.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}
