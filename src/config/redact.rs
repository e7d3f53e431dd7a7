//! What `Debug` prints for secrets in the configuration.

/// What `Debug` prints in place of a password, secret key, root key or a
/// database URL (which may carry a password).
pub const REDACTED: &str = "<redacted>";

pub fn redact<T>(value: &Option<T>) -> Option<&'static str> {
    value.as_ref().map(|_| REDACTED)
}
