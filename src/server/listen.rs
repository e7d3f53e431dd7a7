//! The accept loop, with the limits that hold before a request is
//! authenticated: at most `max_connections` connections are served at once
//! (the rest wait in the kernel's listen queue, so a flood of connections
//! delays new clients but cannot exhaust file descriptors), each connection
//! gets `header_read_timeout` to deliver a request's headers (from the accept,
//! or from the first byte of each later request: `header_clock`) and is
//! closed after `idle_timeout` with no request in flight. On shutdown every connection
//! finishes the request it is serving, then closes; `run` returns when all have.
//! HTTPS connections (`Listener::tls`) are held to the same limits, the TLS
//! handshake counting against the header timeout.

use super::header_clock::{HeaderClock, Watched};
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
    // hyper's header timeout would also run between requests (see
    // `header_clock`); ours replaces it.
    builder.timer(TokioTimer::new()).header_read_timeout(None);
    let conn = Arc::new(ConnLimits {
        builder,
        header: secs(limits.header_read_timeout_secs),
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
    header: Option<Duration>,
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
    limits: &ConnLimits,
    mut stop: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // The peer, for handlers that care who is on the other end (`/metrics`).
    let peer = peer.map(axum::extract::ConnectInfo);
    let clock = HeaderClock::new();
    let busy = clock.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
        if let Some(peer) = peer {
            req.extensions_mut().insert(peer);
        }
        let guard = Busy::enter(&busy);
        let mut app = app.clone();
        async move {
            let _guard = guard;
            tower::Service::call(&mut app, req).await
        }
    });
    let io = TokioIo::new(Watched::new(stream, clock.clone()));
    let conn = limits.builder.serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    let idle = idle_for(&clock, limits.idle);
    let mut idle = std::pin::pin!(idle);
    // While the header clock runs: the request count it was started at.
    let header_limit = limits.header.unwrap_or(Duration::MAX);
    let mut header_since = limits.header.map(|_| clock.started());
    let header_due = tokio::time::sleep(header_limit.min(FAR));
    let mut header_due = std::pin::pin!(header_due);
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
            _ = clock.next_request_begins(), if header_since.is_none() && limits.header.is_some() => {
                header_since = Some(clock.started());
                header_due.as_mut().reset(tokio::time::Instant::now() + header_limit);
            }
            _ = &mut header_due, if header_since.is_some() => {
                if header_since.is_some_and(|mark| !clock.answered_since(mark)) {
                    // As hyper's own timeout does: close without an answer.
                    tracing::debug!("request headers not delivered in time");
                    return;
                }
                header_since = None;
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

/// A sleep that stands for "not armed" must still be a valid deadline.
const FAR: Duration = Duration::from_secs(86_400 * 365);

/// Resolves once the connection has had no request in flight for `timeout`.
/// It wakes once per `timeout` at most, however many requests pass.
async fn idle_for(clock: &HeaderClock, timeout: Option<Duration>) {
    let Some(timeout) = timeout else {
        return std::future::pending().await;
    };
    let mut due = tokio::time::Instant::now() + timeout;
    loop {
        tokio::time::sleep_until(due).await;
        let now = tokio::time::Instant::now();
        match idle_due(clock.idle_since(), timeout, now) {
            None => return,
            Some(next) => due = next,
        }
    }
}

/// When to look again (`None`: the connection has been idle long enough).
/// A connection busy now is looked at a whole `timeout` later.
fn idle_due(
    idle_since: Option<tokio::time::Instant>,
    timeout: Duration,
    now: tokio::time::Instant,
) -> Option<tokio::time::Instant> {
    match idle_since {
        None => Some(now + timeout),
        Some(since) if since + timeout <= now => None,
        Some(since) => Some(since + timeout),
    }
}

/// Counts a request in flight on its connection while alive.
struct Busy(Arc<HeaderClock>);

impl Busy {
    fn enter(clock: &Arc<HeaderClock>) -> Self {
        clock.request_started();
        Self(clock.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.request_done();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    #[test]
    fn idle_means_no_request_in_flight_for_the_whole_timeout() {
        let t = Duration::from_secs(60);
        let start = Instant::now();
        // Busy: look again a timeout later, however long it has run.
        assert_eq!(idle_due(None, t, start + t * 3), Some(start + t * 4));
        // Done 10 s ago: due 50 s from now.
        let now = start + Duration::from_secs(100);
        let since = now - Duration::from_secs(10);
        assert_eq!(idle_due(Some(since), t, now), Some(since + t));
        // Done a whole timeout ago: close.
        assert_eq!(idle_due(Some(now - t), t, now), None);
    }
}
