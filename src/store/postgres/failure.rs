//! What a PostgreSQL error means for a transaction: retry, unavailable, or a
//! backend failure.

use crate::store::engine::StoreError;
use postgres::error::SqlState;

/// What a failed statement means for the transaction.
pub(super) enum Failure {
    /// Serialization failure or deadlock: run the body again.
    Conflict(String),
    Store(StoreError),
}

pub(super) fn classify(e: &postgres::Error) -> Failure {
    let detail = e.to_string();
    let Some(code) = e.code() else {
        // No SQLSTATE: the connection failed or was closed.
        return Failure::Store(StoreError::Unavailable(detail));
    };
    if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED {
        return Failure::Conflict(detail);
    }
    let c = code.code();
    let unavailable = c.starts_with("08") // connection exception
        || c.starts_with("53") // insufficient resources (too many connections, disk full)
        || c.starts_with("57") // operator intervention: shutdown, cannot connect now, statement timeout
        || c == "25006" // read-only transaction: a standby
        || e.is_closed();
    if unavailable {
        Failure::Store(StoreError::Unavailable(detail))
    } else {
        Failure::Store(StoreError::Backend(detail))
    }
}

pub(super) fn store_error(e: &postgres::Error) -> StoreError {
    match classify(e) {
        Failure::Conflict(detail) => StoreError::Backend(detail),
        Failure::Store(s) => s,
    }
}
