//! The accept loop, with the limits that hold before a request is
//! authenticated: at most `max_connections` connections are served at once
//! (the rest wait in the kernel's listen queue, so a flood of connections
//! delays new clients but cannot exhaust file descriptors), each connection
//! gets `header_read_timeout` to deliver a request's headers and is closed
//! after `idle_timeout` with no request in flight. On shutdown every connection
//! finishes the request it is serving, then closes; `run` returns when all have.

use crate::config::Limits;
use axum::Router;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

/// Serves `app` on `listener` until `stop` turns true.
pub async fn run(listener: TcpListener, app: Router, limits: Limits, stop: watch::Receiver<bool>) {
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max));
    let mut builder = Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(secs(limits.header_read_timeout_secs));
    let builder = Arc::new(builder);
    let idle = secs(limits.idle_timeout_secs);
    let mut accept_stop = stop.clone();
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
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = accept_stop.changed() => break,
        };
        let (app, builder, stop) = (app.clone(), builder.clone(), stop.clone());
        tokio::spawn(async move {
            serve_one(stream, app, &builder, idle, stop).await;
            drop(permit);
        });
    }
    drop(listener);
    // Every connection holds a slot until it is closed.
    let _ = slots.acquire_many(max as u32).await;
}

fn secs(n: u64) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(n))
}

async fn serve_one(
    stream: TcpStream,
    app: Router,
    builder: &Builder,
    idle: Option<Duration>,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    // The peer, for handlers that care who is on the other end (`/metrics`).
    let peer = stream.peer_addr().ok().map(axum::extract::ConnectInfo);
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
