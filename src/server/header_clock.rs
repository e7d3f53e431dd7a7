//! The header timeout as nginx's `client_header_timeout` keeps it: its clock
//! starts when a connection is accepted and, on a keep-alive connection, when
//! the first byte of the next request arrives; never while the connection
//! merely waits between requests, which is `idle_timeout`'s business.
//!
//! hyper's own `header_read_timeout` starts whenever hyper begins waiting for
//! a request head, so it also closes a quiet keep-alive connection once the
//! header timeout passes. A client that reuses the connection at that moment
//! races the close and gets EOF on a request it may not retry (Go does not
//! replay a POST): the Terraform provider, which polls every 10 s, hit
//! exactly that against the 10 s default.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// What a connection's reads and requests tell the task serving it: when
/// the header clock runs, and since when the connection has been idle (for
/// `idle_timeout`, without a timer or a wake-up per request).
pub struct HeaderClock {
    in_flight: AtomicUsize,
    born: tokio::time::Instant,
    /// When the last request finished, in ms after `born`.
    last_done_ms: AtomicU64,
    /// Requests whose headers have arrived, ever: a clock armed at
    /// `started == n` has been answered once this moves past `n`.
    started: AtomicU64,
    /// A clock is running (or about to be) for the request being received.
    armed: AtomicBool,
    bytes: Notify,
}

impl HeaderClock {
    /// A clock for a freshly accepted connection: running already, since the
    /// first request is due from the accept on.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            in_flight: AtomicUsize::new(0),
            born: tokio::time::Instant::now(),
            last_done_ms: AtomicU64::new(0),
            started: AtomicU64::new(0),
            armed: AtomicBool::new(true),
            bytes: Notify::new(),
        })
    }

    pub fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.started.fetch_add(1, Ordering::AcqRel);
    }

    pub fn request_done(&self) {
        let done = self.born.elapsed().as_millis();
        self.last_done_ms
            .store(u64::try_from(done).unwrap_or(u64::MAX), Ordering::Release);
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The next byte that arrives is the start of the next request.
            self.armed.store(false, Ordering::Release);
        }
    }

    /// Since when no request has been in flight; `None` while one is.
    pub fn idle_since(&self) -> Option<tokio::time::Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let ms = self.last_done_ms.load(Ordering::Acquire);
        Some(self.born + std::time::Duration::from_millis(ms))
    }

    /// How many requests have started, to hand to [`Self::answered_since`].
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Acquire)
    }

    /// Whether a request has arrived since `started()` returned `mark`, or
    /// one is still being served.
    pub fn answered_since(&self, mark: u64) -> bool {
        self.started() != mark || self.in_flight.load(Ordering::Acquire) > 0
    }

    /// Resolves when bytes of a new request arrive on a quiet connection.
    pub async fn next_request_begins(&self) {
        self.bytes.notified().await
    }

    fn bytes_arrived(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0 && !self.armed.swap(true, Ordering::AcqRel) {
            self.bytes.notify_one();
        }
    }
}

/// A connection's stream, telling its [`HeaderClock`] when bytes arrive.
pub struct Watched<S> {
    inner: S,
    clock: Arc<HeaderClock>,
}

impl<S> Watched<S> {
    pub fn new(inner: S, clock: Arc<HeaderClock>) -> Self {
        Self { inner, clock }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.clock.bytes_arrived();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_keep_alive_connection_is_not_on_the_clock() {
        let clock = HeaderClock::new();
        // The first request arrives within the accept clock.
        clock.bytes_arrived();
        let mark = clock.started();
        clock.request_started();
        assert!(clock.answered_since(mark));
        clock.request_done();
        assert!(!clock.armed.load(Ordering::Acquire));
        // Bytes of the next request start a new clock...
        clock.bytes_arrived();
        assert!(clock.armed.load(Ordering::Acquire));
        let mark = clock.started();
        assert!(!clock.answered_since(mark));
    }

    #[test]
    fn body_bytes_do_not_start_a_clock() {
        let clock = HeaderClock::new();
        clock.request_started();
        clock.request_done();
        // A request hyper had already buffered starts without a read...
        clock.request_started();
        // ...and the reads of its body are not a new request.
        clock.bytes_arrived();
        assert!(!clock.armed.load(Ordering::Acquire));
    }
}
