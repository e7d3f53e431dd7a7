#![allow(clippy::unwrap_used)]
use super::*;
use crate::clock::{Clock, FixedClock};
use crate::store::Db;

/// A lockout over a real (embedded) store.
struct Harness {
    l: Lockout,
    db: Db,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new(policy: LockoutPolicy) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None).unwrap();
        Self {
            l: Lockout::new(policy),
            db,
            _dir: dir,
        }
    }

    fn record_failure(&self, d: &str, u: &str, known: bool, now: DateTime<Utc>) {
        self.db
            .tx_blocking(|tx| self.l.record_failure(tx, d, u, known, now))
            .unwrap();
    }

    /// Locked, looked up as the route does: `known` for the test's real users.
    fn is_locked(&self, d: &str, u: &str, now: DateTime<Utc>) -> bool {
        let known = !u.starts_with("ghost") && u != "newcomer";
        self.db
            .tx_blocking(|tx| self.l.is_locked(tx, d, u, known, now))
            .unwrap()
    }

    fn record_success(&self, d: &str, u: &str) {
        self.db
            .tx_blocking(|tx| self.l.record_success(tx, d, u))
            .unwrap();
    }

    fn tracked(&self) -> usize {
        self.db.tx_blocking(|tx| self.l.tracked(tx)).unwrap()
    }
}

fn clock() -> FixedClock {
    FixedClock::new(crate::testing::fixed_time())
}

#[test]
fn locks_after_n_failures_for_the_lockout_duration() {
    let c = clock();
    let l = Harness::new(LockoutPolicy::default());
    for _ in 0..4 {
        l.record_failure("d", "alice", true, c.now());
        assert!(!l.is_locked("d", "alice", c.now()));
    }
    l.record_failure("d", "alice", true, c.now());
    assert!(l.is_locked("d", "alice", c.now()));
    // Another user of the same domain, and the same name elsewhere, are not locked.
    assert!(!l.is_locked("d", "bob", c.now()));
    assert!(!l.is_locked("e", "alice", c.now()));
    // No early unlock: a success recorded while locked is never reached by the
    // route, and further failures do not extend the lock.
    c.advance(Duration::minutes(14));
    l.record_failure("d", "alice", true, c.now());
    assert!(l.is_locked("d", "alice", c.now()));
    c.advance(Duration::minutes(1));
    assert!(!l.is_locked("d", "alice", c.now()));
    // Unlocked: counting starts afresh.
    l.record_failure("d", "alice", true, c.now());
    assert!(!l.is_locked("d", "alice", c.now()));
}

#[test]
fn failures_outside_the_reset_window_do_not_add_up() {
    let c = clock();
    let l = Harness::new(LockoutPolicy {
        failures: 3,
        reset_minutes: 20,
        lockout_minutes: 30,
    });
    l.record_failure("d", "u", true, c.now());
    l.record_failure("d", "u", true, c.now());
    c.advance(Duration::minutes(20));
    l.record_failure("d", "u", true, c.now());
    assert!(!l.is_locked("d", "u", c.now()));
    l.record_failure("d", "u", true, c.now());
    l.record_failure("d", "u", true, c.now());
    assert!(l.is_locked("d", "u", c.now()));
    c.advance(Duration::minutes(29));
    assert!(l.is_locked("d", "u", c.now()));
    c.advance(Duration::minutes(1));
    assert!(!l.is_locked("d", "u", c.now()));
}

#[test]
fn success_clears_the_count() {
    let c = clock();
    let l = Harness::new(LockoutPolicy::default());
    for _ in 0..4 {
        l.record_failure("d", "u", true, c.now());
    }
    l.record_success("d", "u");
    for _ in 0..4 {
        l.record_failure("d", "u", true, c.now());
    }
    assert!(!l.is_locked("d", "u", c.now()));
}

#[test]
fn unknown_names_are_bounded_and_never_evict_real_users() {
    let c = clock();
    let mut l = Harness::new(LockoutPolicy::default());
    l.l = Lockout::new(LockoutPolicy::default()).with_max_unknown(64);
    for _ in 0..4 {
        l.record_failure("d", "alice", true, c.now());
    }
    for i in 0..128 {
        l.record_failure("d", &format!("ghost{i}"), false, c.now());
    }
    assert!(l.tracked() <= 64 + 1, "{}", l.tracked());
    // alice's four failures are still counted: the fifth locks her.
    l.record_failure("d", "alice", true, c.now());
    assert!(l.is_locked("d", "alice", c.now()));
    // Unknown names lock like real ones (no enumeration by lockout).
    for _ in 0..5 {
        l.record_failure("d", "ghost0", false, c.now());
    }
    assert!(l.is_locked("d", "ghost0", c.now()));
    // Once their windows pass, room is made for new names.
    c.advance(Duration::minutes(16));
    l.record_failure("d", "newcomer", false, c.now());
    assert!(l.tracked() <= 64 + 1);
    for _ in 0..4 {
        l.record_failure("d", "newcomer", false, c.now());
    }
    assert!(l.is_locked("d", "newcomer", c.now()));
}

#[test]
fn policy_ranges_are_iams() {
    use crate::config::LockoutFileConfig;
    let ok = |f, r, l| {
        LockoutPolicy::from_file(&LockoutFileConfig {
            failures: f,
            reset_minutes: r,
            lockout_minutes: l,
        })
    };
    assert_eq!(ok(None, None, None).unwrap(), LockoutPolicy::default());
    assert!(ok(Some(3), Some(60), Some(30)).is_ok());
    assert!(ok(Some(10), Some(15), Some(15)).is_ok());
    assert!(ok(Some(2), None, None).is_err());
    assert!(ok(Some(11), None, None).is_err());
    assert!(ok(None, Some(14), None).is_err());
    assert!(ok(None, Some(61), None).is_err());
    assert!(ok(None, None, Some(14)).is_err());
    assert!(ok(None, None, Some(31)).is_err());
}

/// Nodes of a cluster share the store, so they count the same failures.
#[test]
fn failures_on_several_nodes_add_up() {
    let c = clock();
    let node_a = Harness::new(LockoutPolicy::default());
    let node_b = Lockout::new(LockoutPolicy::default());
    for _ in 0..3 {
        node_a.record_failure("d", "alice", true, c.now());
    }
    for _ in 0..2 {
        node_a
            .db
            .tx_blocking(|tx| node_b.record_failure(tx, "d", "alice", true, c.now()))
            .unwrap();
    }
    assert!(node_a.is_locked("d", "alice", c.now()));
    let locked_on_b = node_a
        .db
        .tx_blocking(|tx| node_b.is_locked(tx, "d", "alice", true, c.now()))
        .unwrap();
    assert!(locked_on_b);
}
