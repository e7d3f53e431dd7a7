//! `Db::tx` through the group-commit writer (`batch.rs`): bodies share
//! commits and fsyncs, yet each one's failure (an error or a panic) rolls
//! back only its own writes, and every acknowledged write survives a reopen.

use super::{Db, StoreError, Tx};

#[derive(Debug)]
#[allow(dead_code)] // the store error is only printed
enum Refused {
    Store(StoreError),
    Body,
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Refused::Store(e)
    }
}

fn get(tx: &mut dyn Tx, key: &str) -> Option<Vec<u8>> {
    tx.get("t", key).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bodies_share_commits_and_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), None).unwrap();
    let mut tasks = Vec::new();
    for i in 0..400u32 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.tx(move |tx| {
                tx.put("t", &format!("k{i}"), b"v")?;
                match i % 10 {
                    // Its write is rolled back with it; its error is its own.
                    3 => Err(Refused::Body),
                    // A panic is that body's failure alone.
                    7 => panic!("body {i} panics"),
                    _ => Ok(i),
                }
            })
            .await
        }));
    }
    let mut ok = 0;
    for (i, t) in tasks.into_iter().enumerate() {
        match (i % 10, t.await.unwrap()) {
            (3, Err(Refused::Body)) => {}
            (7, Err(Refused::Store(_))) => {}
            (_, Ok(n)) => {
                assert_eq!(n as usize, i);
                ok += 1;
            }
            (k, other) => panic!("body {i} (kind {k}) ended as {other:?}"),
        }
    }
    assert_eq!(ok, 320);
    let syncs = db.commit_counts().unwrap().syncs;
    assert!(syncs < 320, "writes shared no fsync: {syncs}");
    drop(db);
    // Only what was acknowledged is there, after a reopen.
    let db = Db::open(dir.path(), None).unwrap();
    let found = db
        .read(|tx| {
            Ok::<_, StoreError>(
                (0..400u32)
                    .filter(|i| get(tx, &format!("k{i}")).is_some())
                    .collect::<Vec<_>>(),
            )
        })
        .await
        .unwrap();
    let expected: Vec<u32> = (0..400).filter(|i| i % 10 != 3 && i % 10 != 7).collect();
    assert_eq!(found, expected);
}

#[tokio::test]
async fn a_body_sees_the_writes_of_bodies_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), None).unwrap();
    let first = db.tx(|tx| tx.put("t", "n", b"1"));
    let second = db.tx(|tx| {
        let seen = get(tx, "n");
        tx.put("t", "n", b"2")?;
        Ok::<_, StoreError>(seen)
    });
    let (a, b) = tokio::join!(first, second);
    a.unwrap();
    // Whichever ran first, the second never saw a half-made state.
    let seen = b.unwrap();
    assert!(seen.is_none() || seen.as_deref() == Some(&b"1"[..]));
    let now = db
        .read(|tx| Ok::<_, StoreError>(get(tx, "n")))
        .await
        .unwrap();
    assert!(now.is_some());
}

/// The writer thread must be gone, with the file lock and every connection,
/// once the last `Db` is dropped: a process that closes a data dir and opens
/// it again (restore, migrate, tests) must find it free at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_db_frees_its_data_dir_at_once() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..10u8 {
        let db =
            Db::open(dir.path(), None).unwrap_or_else(|e| panic!("reopen {round} refused: {e}"));
        if round > 0 {
            let before = db
                .read(move |tx| Ok::<_, StoreError>(get(tx, &format!("r{}", round - 1))))
                .await
                .unwrap();
            assert_eq!(before, Some(vec![round - 1]), "round {round}");
        }
        db.tx(move |tx| tx.put("t", &format!("r{round}"), &[round]))
            .await
            .unwrap();
        drop(db);
    }
}
