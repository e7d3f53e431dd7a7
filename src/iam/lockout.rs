//! Account lockout for password logins, as Huawei IAM's "Login Authentication
//! Policy" does it: after `failures` failed logins within `reset_minutes` a
//! user is locked for `lockout_minutes`; while locked even the right password
//! is refused, and nothing unlocks a user early.
//!
//! Counted per user (domain id + user name), with the injected clock. Per
//! node, in memory (dewstack's choice): several nodes on one PostgreSQL
//! database each count on their own, so a cluster of N nodes allows up to N
//! times `failures` guesses per window; a restart forgets the counts.
//!
//! Memory is bounded: names of existing users are always tracked (there are
//! as many as the directory holds); names that match no user are tracked too,
//! so that a lockout does not reveal which users exist, but only up to
//! [`MAX_UNKNOWN`] of them, and they never push out an existing user's count.

use crate::config::LockoutPolicy;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// At most this many names that match no user are tracked at once.
pub const MAX_UNKNOWN: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// When the first failure of the current counting window happened.
    window_start: DateTime<Utc>,
    failures: u32,
    locked_until: Option<DateTime<Utc>>,
    known: bool,
}

#[derive(Debug)]
pub struct Lockout {
    policy: LockoutPolicy,
    entries: Mutex<HashMap<(String, String), Entry>>,
}

impl Lockout {
    pub fn new(policy: LockoutPolicy) -> Self {
        Self {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn policy(&self) -> LockoutPolicy {
        self.policy
    }

    fn reset_window(&self) -> Duration {
        Duration::minutes(i64::from(self.policy.reset_minutes))
    }

    fn expired(&self, e: &Entry, now: DateTime<Utc>) -> bool {
        match e.locked_until {
            Some(until) => now >= until,
            None => now - e.window_start >= self.reset_window(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Entry>> {
        // A poisoned lock only means another request panicked mid-update;
        // the counts are still usable.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the user is locked out at `now`.
    pub fn is_locked(&self, domain_id: &str, user_name: &str, now: DateTime<Utc>) -> bool {
        let key = (domain_id.to_owned(), user_name.to_owned());
        self.lock()
            .get(&key)
            .and_then(|e| e.locked_until)
            .is_some_and(|until| now < until)
    }

    /// Counts a failed login; `known` says whether the name is an existing user.
    pub fn record_failure(
        &self,
        domain_id: &str,
        user_name: &str,
        known: bool,
        now: DateTime<Utc>,
    ) {
        let mut entries = self.lock();
        let key = (domain_id.to_owned(), user_name.to_owned());
        if let Some(e) = entries.get(&key).copied() {
            if self.expired(&e, now) {
                entries.remove(&key);
            }
        }
        if !known && !entries.contains_key(&key) {
            let unknown = entries.values().filter(|e| !e.known).count();
            if unknown >= MAX_UNKNOWN {
                entries.retain(|_, e| e.known || !self.expired(e, now));
                if entries.values().filter(|e| !e.known).count() >= MAX_UNKNOWN {
                    return;
                }
            }
        }
        let entry = entries.entry(key).or_insert(Entry {
            window_start: now,
            failures: 0,
            locked_until: None,
            known,
        });
        if entry.locked_until.is_some() {
            return;
        }
        entry.failures += 1;
        if entry.failures >= self.policy.failures {
            entry.locked_until =
                Some(now + Duration::minutes(i64::from(self.policy.lockout_minutes)));
        }
    }

    /// A successful login clears the user's count.
    pub fn record_success(&self, domain_id: &str, user_name: &str) {
        self.lock()
            .remove(&(domain_id.to_owned(), user_name.to_owned()));
    }

    /// How many names are tracked (for tests and metrics).
    pub fn tracked(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests;
