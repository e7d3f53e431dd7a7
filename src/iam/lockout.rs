//! Account lockout for password logins, as Huawei IAM's "Login Authentication
//! Policy" does it: after `failures` failed logins within `reset_minutes` a
//! user is locked for `lockout_minutes`; while locked even the right password
//! is refused, and nothing unlocks a user early.
//!
//! Counted per user (domain id + user name), with the injected clock, in the
//! store (table `iam_lockout`), so that every node of a cluster on one
//! PostgreSQL database counts the same failures and a restart forgets none.
//! Rows are keyed by a SHA-256 of the name, never the name itself: a user
//! name field sometimes receives a password typed in the wrong box.
//!
//! Size is bounded: names of existing users are always tracked (there are as
//! many as the directory holds); names that match no user are tracked too, so
//! that a lockout does not reveal which users exist, but only up to
//! [`MAX_UNKNOWN`] of them at once (a counter row keeps their number), and
//! they never push out an existing user's count.

use crate::config::LockoutPolicy;
use crate::store::{StoreError, Tx, TxExt};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// At most this many names that match no user are tracked at once.
pub const MAX_UNKNOWN: usize = 4096;

const TABLE: &str = "iam_lockout";
/// Existing users' rows start with this, unknown names' with [`UNKNOWN`].
const KNOWN: &str = "k/";
const UNKNOWN: &str = "u/";
/// The number of `u/` rows.
const UNKNOWN_COUNT: &str = "n";
/// While the unknown names are at their bound: the earliest time (ms) one of
/// them can expire, so that until then a new name costs one read, not a scan.
const NEXT_PRUNE: &str = "p";

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Entry {
    /// When the first failure of the current counting window happened (ms).
    window_start_ms: i64,
    failures: u32,
    locked_until_ms: Option<i64>,
}

#[derive(Debug)]
pub struct Lockout {
    policy: LockoutPolicy,
    max_unknown: u64,
}

fn row_key(known: bool, domain_id: &str, user_name: &str) -> String {
    let mut h = Sha256::new();
    h.update(domain_id.as_bytes());
    h.update([0]);
    h.update(user_name.as_bytes());
    let prefix = if known { KNOWN } else { UNKNOWN };
    format!("{prefix}{}", hex::encode(h.finalize()))
}

impl Lockout {
    pub fn new(policy: LockoutPolicy) -> Self {
        Self {
            policy,
            max_unknown: MAX_UNKNOWN as u64,
        }
    }

    #[cfg(test)]
    fn with_max_unknown(mut self, n: u64) -> Self {
        self.max_unknown = n;
        self
    }

    pub fn policy(&self) -> LockoutPolicy {
        self.policy
    }

    /// When the entry stops counting: its lock ends, or its window passes.
    fn expiry_ms(&self, e: &Entry) -> i64 {
        let window = Duration::minutes(i64::from(self.policy.reset_minutes));
        e.locked_until_ms
            .unwrap_or_else(|| e.window_start_ms.saturating_add(window.num_milliseconds()))
    }

    fn expired(&self, e: &Entry, now: DateTime<Utc>) -> bool {
        now.timestamp_millis() >= self.expiry_ms(e)
    }

    /// Whether the user is locked out at `now`; `known` says whether the
    /// name is an existing user.
    pub fn is_locked(
        &self,
        tx: &mut dyn Tx,
        domain_id: &str,
        user_name: &str,
        known: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let e: Option<Entry> = tx.get_json(TABLE, &row_key(known, domain_id, user_name))?;
        Ok(e.and_then(|e| e.locked_until_ms)
            .is_some_and(|until| now.timestamp_millis() < until))
    }

    /// Counts a failed login; `known` says whether the name is an existing user.
    pub fn record_failure(
        &self,
        tx: &mut dyn Tx,
        domain_id: &str,
        user_name: &str,
        known: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = row_key(known, domain_id, user_name);
        let stored: Option<Entry> = tx.get_json(TABLE, &key)?;
        let is_new_row = stored.is_none();
        let mut entry = match stored.filter(|e| !self.expired(e, now)) {
            Some(e) => e,
            None => {
                if !known && is_new_row && !self.room_for_unknown(tx, now)? {
                    return Ok(());
                }
                if !known && is_new_row {
                    let n = unknown_count(tx)?;
                    tx.put_json(TABLE, UNKNOWN_COUNT, &(n + 1))?;
                }
                Entry {
                    window_start_ms: now.timestamp_millis(),
                    failures: 0,
                    locked_until_ms: None,
                }
            }
        };
        if entry.locked_until_ms.is_some() {
            return Ok(());
        }
        entry.failures += 1;
        if entry.failures >= self.policy.failures {
            let lock = Duration::minutes(i64::from(self.policy.lockout_minutes));
            entry.locked_until_ms = Some(now.timestamp_millis() + lock.num_milliseconds());
        }
        tx.put_json(TABLE, &key, &entry)
    }

    /// Whether one more unknown name may be tracked; at the bound, rows whose
    /// window or lock has passed are dropped first (at most one scan until
    /// the earliest of the rest can expire).
    fn room_for_unknown(&self, tx: &mut dyn Tx, now: DateTime<Utc>) -> Result<bool, StoreError> {
        if unknown_count(tx)? < self.max_unknown {
            return Ok(true);
        }
        let now_ms = now.timestamp_millis();
        let next_prune: Option<i64> = tx.get_json(TABLE, NEXT_PRUNE)?;
        if next_prune.is_some_and(|p| now_ms < p) {
            return Ok(false);
        }
        let limit = usize::try_from(self.max_unknown).unwrap_or(MAX_UNKNOWN) + 1;
        let (mut kept, mut earliest) = (0u64, i64::MAX);
        for (key, bytes) in tx.scan(TABLE, UNKNOWN, None, limit)? {
            match serde_json::from_slice::<Entry>(&bytes) {
                Ok(e) if !self.expired(&e, now) => {
                    kept += 1;
                    earliest = earliest.min(self.expiry_ms(&e));
                }
                _ => {
                    tx.delete(TABLE, &key)?;
                }
            }
        }
        tx.put_json(TABLE, UNKNOWN_COUNT, &kept)?;
        if kept < self.max_unknown {
            tx.delete(TABLE, NEXT_PRUNE)?;
            Ok(true)
        } else {
            tx.put_json(TABLE, NEXT_PRUNE, &earliest)?;
            Ok(false)
        }
    }

    /// A successful login clears the user's count.
    pub fn record_success(
        &self,
        tx: &mut dyn Tx,
        domain_id: &str,
        user_name: &str,
    ) -> Result<(), StoreError> {
        tx.delete(TABLE, &row_key(true, domain_id, user_name))?;
        Ok(())
    }

    /// How many names are tracked (for tests and metrics).
    pub fn tracked(&self, tx: &mut dyn Tx) -> Result<usize, StoreError> {
        let known = tx.scan(TABLE, KNOWN, None, 1 << 20)?.len();
        Ok(known + usize::try_from(unknown_count(tx)?).unwrap_or(usize::MAX))
    }
}

fn unknown_count(tx: &mut dyn Tx) -> Result<u64, StoreError> {
    Ok(tx.get_json::<u64>(TABLE, UNKNOWN_COUNT)?.unwrap_or(0))
}

#[cfg(test)]
mod tests;
