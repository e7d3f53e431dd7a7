//! `[limits]`: connection, request and forwarding bounds (docs/security.md).

use serde::Deserialize;

/// Resource limits, before and after authentication. Every field is optional
/// in the `[limits]` table; the default is written next to each field.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// default 10 s: time a connection gets to deliver a request's headers,
    /// counted from when it starts waiting for that request (accept, or the end
    /// of the previous response). Slower clients are disconnected.
    pub header_read_timeout_secs: u64,
    /// default 60 s: a keep-alive connection with no request in flight for this
    /// long is closed. (The header timeout above also runs while a connection
    /// waits, so the shorter of the two decides.)
    pub idle_timeout_secs: u64,
    /// default 30 s: time to receive a whole request body once its headers are in.
    pub body_read_timeout_secs: u64,
    /// default 1024: HTTP connections served at once; further connections wait
    /// in the listen queue until one closes.
    pub max_connections: usize,
    /// default 12 MiB (Huawei's API gateway limit for signed bodies): larger
    /// bodies get 413.
    pub max_body_bytes: usize,
    /// default 1024 (the three `forward_*` bounds are dewstack's choice; the
    /// cloud publishes none): VPC endpoint forwarding listeners (one per accepted
    /// loopback endpoint and `client_port`) open in the whole server. An
    /// endpoint whose listeners do not all fit becomes `failed`. At most an
    /// eighth of the open-files limit, whatever is configured.
    pub forward_max_listeners: usize,
    /// default 2048: forwarded connections open at once in the whole server
    /// (each holds two file descriptors). At most an eighth of the open-files
    /// limit. A connection over it is accepted and closed at once.
    pub forward_max_connections: usize,
    /// default 256: forwarded connections open at once through one endpoint
    /// (all its ports together); further ones are accepted and closed at once.
    pub forward_max_connections_per_endpoint: usize,
    /// default 100 (the cloud's CMK quota, KMS.1105 past it): keys a project
    /// may hold, its default keys not counted. Raised for benchmarks and
    /// large installations.
    pub keys_per_project: usize,
    /// default 500 (the cloud's secret quota, CSMS.0202 past it): secrets a
    /// project may hold.
    pub secrets_per_project: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            body_read_timeout_secs: 30,
            max_connections: 1024,
            max_body_bytes: 12 * 1024 * 1024,
            forward_max_listeners: 1024,
            forward_max_connections: 2048,
            forward_max_connections_per_endpoint: 256,
            keys_per_project: 100,
            secrets_per_project: 500,
        }
    }
}
