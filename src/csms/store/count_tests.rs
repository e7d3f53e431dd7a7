#![allow(clippy::unwrap_used)]
//! The kept counts of secrets pending deletion against the records, on both
//! engines, and their one-time computation for older databases.
use crate::csms::domain::SecretState;
use crate::csms::error::CsmsError;
use crate::csms::store::{self, SecretRecord};
use crate::store::{Db, TxExt};

fn secret(project: &str, name: &str, state: SecretState) -> SecretRecord {
    SecretRecord {
        state,
        last_version: 0,
        ..SecretRecord::for_test(project, name, 0)
    }
}

fn pending_follows_writes(db: &Db) {
    use SecretState::{Enabled, PendingDelete};
    let seen = db
        .tx_blocking(|tx| {
            let mut seen = Vec::new();
            let mut look = |tx: &mut dyn crate::store::Tx| -> Result<(), CsmsError> {
                let pending = store::pending_delete_count(tx, "cp1")?;
                seen.push((store::secret_count(tx, "cp1")?, pending));
                Ok(())
            };
            for name in ["a", "b", "c"] {
                store::insert_secret(tx, &secret("cp1", name, Enabled))?;
            }
            store::insert_secret(tx, &secret("cp2", "a", PendingDelete))?;
            look(tx)?;
            store::save_secret(tx, &secret("cp1", "b", PendingDelete))?;
            // Saved again in the same state: not counted twice.
            store::save_secret(tx, &secret("cp1", "b", PendingDelete))?;
            store::save_secret(tx, &secret("cp1", "c", PendingDelete))?;
            look(tx)?;
            store::save_secret(tx, &secret("cp1", "c", Enabled))?;
            look(tx)?;
            // Purged through a stale copy (enabled): the stored state counts.
            store::purge_secret(tx, &secret("cp1", "b", Enabled))?;
            look(tx)?;
            assert_eq!(store::pending_delete_count(tx, "cp2")?, 1);
            Ok::<_, CsmsError>(seen)
        })
        .unwrap();
    assert_eq!(seen, [(3, 0), (3, 2), (3, 1), (2, 0)]);
}

#[test]
fn secrets_pending_deletion_are_counted_with_every_write() {
    let dir = tempfile::tempdir().unwrap();
    pending_follows_writes(&Db::open(dir.path(), None).unwrap());
}

#[test]
fn secrets_pending_deletion_are_counted_with_every_write_on_postgres() {
    let Some(url) = crate::store::testing::fresh_database("csms_pending_count") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    pending_follows_writes(&Db::open(dir.path(), Some(&url)).unwrap());
}

#[test]
fn older_secrets_pending_deletion_are_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), None).unwrap();
    db.tx_blocking(|tx| {
        let doomed = secret("cq", "x", SecretState::PendingDelete);
        tx.put_json("csms_secrets", "cq/x", &doomed)?;
        tx.put_json(
            "csms_secrets",
            "cq/y",
            &secret("cq", "y", SecretState::Enabled),
        )?;
        assert_eq!(store::pending_delete_count(tx, "cq")?, 0);
        assert_eq!(store::count_pending_existing(tx)?, 2);
        assert_eq!(store::pending_delete_count(tx, "cq")?, 1);
        assert_eq!(store::count_pending_existing(tx)?, 0, "done once");
        Ok::<_, CsmsError>(())
    })
    .unwrap();
}

#[test]
fn version_rows_keep_their_zero_padded_keys() {
    // Stored rows are found by these keys: their shape may never change.
    assert_eq!(store::version_key("p", "s", 7), "p/s/0000000007");
    assert_eq!(
        store::version_key("p", "s", 12_345_678_901),
        "p/s/12345678901"
    );
    for n in [
        0,
        1,
        9,
        10,
        999_999_999,
        1_000_000_000,
        9_999_999_999,
        u64::MAX,
    ] {
        assert_eq!(store::version_key("p", "s", n), format!("p/s/{n:010}"));
    }
}
