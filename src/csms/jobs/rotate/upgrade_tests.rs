//! The rotation-scheduling upgrade on SQLite and PostgreSQL: secrets of an
//! older database get their due rows once, the sweep then finds them, and the
//! done mark keeps later starts from reading every secret again.

#![allow(clippy::unwrap_used)]
use super::*;
use crate::csms::jobs::rotate::schedule::claim_due;
use crate::store::Db;

const HOUR: i64 = 3_600_000;
const T0: i64 = 1_700_000_000_000;

fn record(name: &str, auto: bool, next: Option<i64>) -> SecretRecord {
    SecretRecord {
        auto_rotation: auto,
        rotation_period: Some("6h".into()),
        next_rotation_ms: next,
        ..SecretRecord::for_test("proj", name, T0)
    }
}

/// Secrets as a database written before rotations were scheduled holds
/// them: rotation on, no due row (with and without `next_rotation_ms`).
async fn old_database(db: &Db) {
    db.tx(|tx| {
        for s in [
            record("with-next", true, Some(T0 + 6 * HOUR)),
            record("without-next", true, None),
            record("off", false, None),
        ] {
            store::insert_secret(tx, &s)?;
            if let Some(due) = s.next_rotation_ms {
                tx.delete(ROTATIONS, &due_key(due, &format!("proj/{}", s.name)))?;
            }
        }
        Ok::<_, CsmsError>(())
    })
    .await
    .unwrap();
}

async fn due_at(db: &Db, at: i64) -> Vec<String> {
    let mut names: Vec<String> = db
        .tx(move |tx| claim_due(tx, at, 50))
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    names
}

async fn scenario(db: &Db) {
    old_database(db).await;
    assert!(
        due_at(db, T0 + 7 * HOUR).await.is_empty(),
        "nothing is due before"
    );

    // Page by page: the mark comes with the last page only.
    let (mut after, mut scheduled) = (None::<String>, 0);
    loop {
        let from = after.clone();
        let ((next, n), marked) = db
            .tx(move |tx| {
                Ok::<_, CsmsError>((schedule_existing(tx, from.as_deref(), 1)?, done(tx)?))
            })
            .await
            .unwrap();
        scheduled += n;
        assert_eq!(marked, next.is_none());
        match next {
            Some(row) => after = Some(row),
            None => break,
        }
    }
    assert_eq!(scheduled, 2);
    let s = db
        .tx(|tx| store::load_secret(tx, "proj", "without-next"))
        .await
        .unwrap();
    assert_eq!(
        s.next_rotation_ms,
        Some(T0 + 6 * HOUR),
        "one period after the last change"
    );
    assert_eq!(
        due_at(db, T0 + 7 * HOUR).await,
        vec!["with-next", "without-next"]
    );

    // Marked: a later start reads nothing, even a secret left without its row.
    db.tx(|tx| {
        let s = record("later", true, None);
        store::insert_secret(tx, &s)
    })
    .await
    .unwrap();
    let again = db.tx(|tx| schedule_existing(tx, None, 100)).await.unwrap();
    assert_eq!(again, (None, 0));
}

#[tokio::test]
async fn older_secrets_are_scheduled_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), None).unwrap();
    scenario(&db).await;
}

/// The same on PostgreSQL (skipped unless a test server is given,
/// `scripts/with-postgres.sh`).
#[tokio::test(flavor = "multi_thread")]
async fn older_secrets_are_scheduled_once_on_postgres() {
    let opened = tokio::task::spawn_blocking(|| {
        let url = crate::testing::fresh_postgres_database("csms_rotation_upgrade")?;
        let dir = tempfile::tempdir().unwrap();
        Some((Db::open(dir.path(), Some(&url)).unwrap(), dir))
    });
    let Some((db, _dir)) = opened.await.unwrap() else {
        return;
    };
    scenario(&db).await;
}

#[test]
fn what_the_upgrade_changes() {
    assert!(upgraded(&record("off", false, None)).is_none());
    let mut pending = record("p", true, None);
    pending.state = SecretState::PendingDelete;
    assert!(upgraded(&pending).is_none());
    let mut rotated = record("r", true, None);
    rotated.rotation_ms = Some(T0 + HOUR);
    assert_eq!(
        upgraded(&rotated).unwrap().next_rotation_ms,
        Some(T0 + 7 * HOUR)
    );
    let mut bad = record("b", true, None);
    bad.rotation_period = None;
    assert!(upgraded(&bad).is_none());
}
