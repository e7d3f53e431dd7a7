//! Quotas and fixed bounds that several parts of KMS share.

// Keys per project: `[limits] keys_per_project` (config/limits.rs).
pub const GRANTS_PER_KEY_QUOTA: i64 = 100;

/// Alias resources (CreateAlias) per key and per project. The cloud
/// publishes neither bound; these are dewstack's choice (AWS KMS allows 50
/// aliases per key), so a tenant cannot grow the alias tables without end.
pub const ALIASES_PER_KEY: usize = 50;
pub const ALIASES_PER_PROJECT: usize = 1000;

/// Whether a key holding `on_key` aliases in a project holding `in_project`
/// may take one more (`new_name`: the alias does not exist yet).
pub fn check_alias_quota(
    on_key: usize,
    in_project: usize,
    new_name: bool,
) -> Result<(), crate::kms::error::KmsError> {
    if on_key >= ALIASES_PER_KEY || (new_name && in_project >= ALIASES_PER_PROJECT) {
        return Err(crate::kms::error::KmsError::AliasQuotaExceeded);
    }
    Ok(())
}

/// Versions a key may hold, rotations on demand and scheduled ones alike
/// (`rotation::check_version_room`). The cloud publishes no bound on
/// rotations; this is dewstack's choice: older versions are rows of their
/// own, read only for the ciphertexts that name them, so the bound only keeps
/// one key's storage finite (about 2 MB of rows). Scheduled rotation, at
/// least 30 days apart, would take over 800 years to reach it.
pub const MAX_KEY_VERSIONS: usize = 10_000;

pub const DAY_MS: i64 = 86_400_000;

/// Rotation interval in days when none was set, and the bounds of a set one.
pub const DEFAULT_INTERVAL_DAYS: i64 = 365;
pub const MIN_INTERVAL_DAYS: i64 = 30;
pub const MAX_INTERVAL_DAYS: i64 = 365;
