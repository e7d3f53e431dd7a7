//! Quotas and fixed bounds that several parts of KMS share.

/// Keys per project, default keys not counted.
pub const CMK_QUOTA: usize = 100;
pub const GRANTS_PER_KEY_QUOTA: i64 = 100;

pub const DAY_MS: i64 = 86_400_000;

/// Rotation interval in days when none was set, and the bounds of a set one.
pub const DEFAULT_INTERVAL_DAYS: i64 = 365;
pub const MIN_INTERVAL_DAYS: i64 = 30;
pub const MAX_INTERVAL_DAYS: i64 = 365;
