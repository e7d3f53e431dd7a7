//! How much loopback forwarding one dewstack process may hold open: the
//! `[limits]` settings, capped by the open-files limit in force at start so
//! that forwarding alone can never exhaust the descriptors the API needs.

use crate::config::Limits;
use tokio::sync::Semaphore;

/// Bounds in force (after capping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardLimits {
    /// Listeners open in the whole server.
    pub listeners: usize,
    /// Forwarded connections open in the whole server.
    pub connections: usize,
    /// Forwarded connections open through one endpoint.
    pub per_endpoint: usize,
}

/// The share of the open-files limit each server-wide bound may take. A
/// listener holds one descriptor and a connection two, so forwarding holds at
/// most 3/8 of the descriptors (dewstack's choice: the API's connections, the
/// database and the log keep the rest).
const FD_SHARE: u64 = 8;

impl ForwardLimits {
    /// The configured bounds, each capped at `open_files / 8` when the limit
    /// is known; a per-endpoint bound never exceeds the server-wide one.
    pub fn resolve(cfg: &Limits, open_files: Option<u64>) -> Self {
        let cap = open_files
            .map(|n| usize::try_from(n / FD_SHARE).unwrap_or(usize::MAX))
            .unwrap_or(usize::MAX);
        let connections = cfg
            .forward_max_connections
            .min(cap)
            .min(Semaphore::MAX_PERMITS);
        Self {
            listeners: cfg.forward_max_listeners.min(cap),
            connections,
            per_endpoint: cfg.forward_max_connections_per_endpoint.min(connections),
        }
    }
}

impl Default for ForwardLimits {
    fn default() -> Self {
        Self::resolve(&Limits::default(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(listeners: usize, connections: usize, per_endpoint: usize) -> Limits {
        Limits {
            forward_max_listeners: listeners,
            forward_max_connections: connections,
            forward_max_connections_per_endpoint: per_endpoint,
            ..Limits::default()
        }
    }

    #[test]
    fn configured_bounds_hold_when_descriptors_are_plenty() {
        let l = ForwardLimits::resolve(&cfg(1024, 2048, 256), Some(1 << 20));
        assert_eq!(
            (l.listeners, l.connections, l.per_endpoint),
            (1024, 2048, 256)
        );
        assert_eq!(ForwardLimits::default().listeners, 1024);
    }

    #[test]
    fn a_small_descriptor_limit_caps_every_bound() {
        let l = ForwardLimits::resolve(&cfg(1024, 2048, 256), Some(1024));
        assert_eq!(
            (l.listeners, l.connections, l.per_endpoint),
            (128, 128, 128)
        );
        // Forwarding then holds at most 128 + 2 * 128 descriptors of 1024.
        assert!(l.listeners + 2 * l.connections <= 1024 * 3 / 8);
        let l = ForwardLimits::resolve(&cfg(1024, 2048, 64), Some(1024));
        assert_eq!(l.per_endpoint, 64);
    }

    #[test]
    fn per_endpoint_never_exceeds_the_server_bound() {
        let l = ForwardLimits::resolve(&cfg(10, 5, 50), None);
        assert_eq!((l.listeners, l.connections, l.per_endpoint), (10, 5, 5));
        let off = ForwardLimits::resolve(&cfg(0, 0, 0), None);
        assert_eq!(
            (off.listeners, off.connections, off.per_endpoint),
            (0, 0, 0)
        );
    }
}
