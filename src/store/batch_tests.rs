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

/// Holds the writer thread in a body of its own (which writes `gate`) until
/// the returned sender fires, so that bodies submitted meanwhile queue up and
/// are taken as one batch when it is released.
async fn hold_writer(db: &Db) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (started, running) = tokio::sync::oneshot::channel::<()>();
    let mut started = Some(started);
    let gate_db = db.clone();
    let gate = tokio::spawn(async move {
        gate_db
            .tx(move |tx| {
                if let Some(s) = started.take() {
                    let _ = s.send(());
                }
                released
                    .recv_timeout(std::time::Duration::from_secs(30))
                    .unwrap();
                tx.put("t", "gate", b"1")
            })
            .await
            .unwrap();
    });
    running.await.unwrap();
    (release, gate)
}

/// Long enough for every spawned task to have queued its body.
async fn let_them_queue() {
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_writers_share_commits_and_each_is_durable_when_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), None).unwrap();
    let (release, gate) = hold_writer(&db).await;
    let before = db.commit_counts().unwrap();
    let tasks: Vec<_> = (0..64u32)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let counts = db.clone();
                // The writer holds the write connection while a body runs, so
                // the commit that takes this body is the next one to begin.
                let begun = db
                    .tx(move |tx| {
                        tx.put("t", &format!("w{i}"), b"v")?;
                        Ok::<_, StoreError>(counts.commit_counts().unwrap().commits)
                    })
                    .await
                    .unwrap();
                let now = db.commit_counts().unwrap();
                assert!(
                    now.synced > begun,
                    "writer {i} acknowledged before its commit {} was synced ({now:?})",
                    begun + 1
                );
            })
        })
        .collect();
    let_them_queue().await;
    release.send(()).unwrap();
    gate.await.unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let after = db.commit_counts().unwrap();
    let (commits, syncs) = (after.commits - before.commits, after.syncs - before.syncs);
    // The gate's own commit and one or a few batches: far fewer than 64.
    assert!(commits < 16, "64 writes took {commits} commits");
    assert!(syncs < 16, "64 writes took {syncs} fsyncs");
    assert_eq!(after.synced, after.commits);
    drop(db);
    let db = Db::open(dir.path(), None).unwrap();
    let found = db
        .read(|tx| Ok::<_, StoreError>(tx.scan("t", "w", None, 1000)?.len()))
        .await
        .unwrap();
    assert_eq!(found, 64);
}

/// On SQLite, with the writer held so that every body below lands in one
/// batch; on PostgreSQL (no writer) the same bodies run as they always did.
async fn failing_bodies_roll_back_alone(db: &Db) {
    let held = match db.commit_counts() {
        Some(before) => Some((hold_writer(db).await, before)),
        None => {
            db.tx(|tx| tx.put("t", "gate", b"1")).await.unwrap();
            None
        }
    };
    let tasks: Vec<_> = (0..12u32)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.tx(move |tx| {
                    tx.put("t", &format!("a{i}"), b"v")?;
                    tx.put("t", &format!("b{i}"), b"v")?;
                    match i % 4 {
                        1 => Err(Refused::Body),
                        2 => panic!("body {i} panics after two writes"),
                        _ => Ok(i),
                    }
                })
                .await
            })
        })
        .collect();
    let before = release_held(held).await;
    for (i, t) in tasks.into_iter().enumerate() {
        match (i % 4, t.await.unwrap()) {
            (1, Err(Refused::Body)) | (2, Err(Refused::Store(_))) => {}
            (0 | 3, Ok(n)) => assert_eq!(n as usize, i),
            (_, other) => panic!("body {i} ended as {other:?}"),
        }
    }
    // They shared one commit: the gate's and the batch's, no reruns.
    assert_one_batch(db, before);
    let kept = db
        .read(|tx| {
            let keys = tx.scan("t", "", None, 1000)?;
            Ok::<_, StoreError>(keys.into_iter().map(|(k, _)| k).collect::<Vec<_>>())
        })
        .await
        .unwrap();
    let mut expected: Vec<String> = (0..12u32)
        .filter(|i| i % 4 == 0 || i % 4 == 3)
        .flat_map(|i| [format!("a{i}"), format!("b{i}")])
        .collect();
    expected.push("gate".into());
    expected.sort();
    assert_eq!(kept, expected, "a failed body left half a change");
}

async fn bodies_on_one_key_behave_as_if_serialized(db: &Db) {
    let held = match db.commit_counts() {
        Some(before) => Some((hold_writer(db).await, before)),
        None => None,
    };
    let bump = |fail: bool| {
        move |tx: &mut dyn Tx| {
            let seen = get(tx, "n").map_or(0, |v| u32::from_be_bytes(v.try_into().unwrap()));
            tx.put("t", "n", &(seen + 1).to_be_bytes())?;
            if fail {
                return Err(Refused::Body);
            }
            Ok(seen)
        }
    };
    let tasks: Vec<_> = (0..40u32)
        .map(|i| {
            let db = db.clone();
            // Every fifth bumps the counter and then fails: its bump must vanish.
            let body = bump(i % 5 == 4);
            tokio::spawn(async move { db.tx(body).await })
        })
        .collect();
    let before = release_held(held).await;
    let mut seen = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(n) => seen.push(n),
            Err(Refused::Body) if i % 5 == 4 => {}
            other => panic!("body {i} ended as {other:?}"),
        }
    }
    seen.sort();
    // Each kept body saw exactly the ones kept before it: no lost update,
    // no value seen twice, nothing of the failed ones.
    assert_eq!(seen, (0..32).collect::<Vec<u32>>());
    let n = db
        .read(|tx| Ok::<_, StoreError>(get(tx, "n")))
        .await
        .unwrap();
    assert_eq!(n, Some(32u32.to_be_bytes().to_vec()));
    assert_one_batch(db, before);
}

type Held = (
    (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>),
    super::engine::CommitCounts,
);

/// Lets the bodies queue behind a held writer, then releases it.
async fn release_held(held: Option<Held>) -> Option<super::engine::CommitCounts> {
    let ((release, gate), before) = held?;
    let_them_queue().await;
    release.send(()).unwrap();
    gate.await.unwrap();
    Some(before)
}

/// Where the engine counts commits: the held writer's own and one batch.
fn assert_one_batch(db: &Db, before: Option<super::engine::CommitCounts>) {
    if let Some(before) = before {
        let commits = db.commit_counts().unwrap().commits - before.commits;
        assert!(commits <= 2, "the batch took {commits} commits");
    }
}

async fn on_postgres(test: &'static str) -> Option<Db> {
    tokio::task::spawn_blocking(move || {
        let url = crate::store::testing::fresh_database(test)?;
        Some(Db::open(std::path::Path::new("."), Some(&url)).unwrap())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_body_in_a_batch_rolls_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    failing_bodies_roll_back_alone(&Db::open(dir.path(), None).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_body_rolls_back_alone_on_postgres() {
    if let Some(db) = on_postgres("a_failing_body_rolls_back_alone_on_postgres").await {
        failing_bodies_roll_back_alone(&db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bodies_on_one_key_in_a_batch_behave_as_if_serialized() {
    let dir = tempfile::tempdir().unwrap();
    bodies_on_one_key_behave_as_if_serialized(&Db::open(dir.path(), None).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bodies_on_one_key_behave_as_if_serialized_on_postgres() {
    if let Some(db) = on_postgres("bodies_on_one_key_behave_as_if_serialized_on_postgres").await {
        bodies_on_one_key_behave_as_if_serialized(&db).await;
    }
}

/// A body may hold the last handle on its own `Db`: the engine is then
/// dropped on the writer thread, which must not wait for itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_handle_dropped_on_the_writer_thread_frees_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), None).unwrap();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (started, running) = tokio::sync::oneshot::channel::<()>();
    let mut started = Some(started);
    let kept = db.clone();
    let task_db = db.clone();
    let task = tokio::spawn(async move {
        task_db
            .tx(move |tx| {
                let _hold = &kept;
                if let Some(s) = started.take() {
                    let _ = s.send(());
                }
                released
                    .recv_timeout(std::time::Duration::from_secs(30))
                    .unwrap();
                tx.put("t", "last", b"1")
            })
            .await
    });
    running.await.unwrap();
    // Now only the queued body holds the engine.
    task.abort();
    let _ = task.await;
    drop(db);
    release.send(()).unwrap();
    let reopened = {
        let mut tries = 0;
        loop {
            match Db::open(dir.path(), None) {
                Ok(db) => break db,
                Err(e) if tries < 200 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(25)).await;
                }
                Err(e) => panic!("the data dir stayed locked: {e}"),
            }
        }
    };
    let last = reopened
        .read(|tx| Ok::<_, StoreError>(get(tx, "last")))
        .await
        .unwrap();
    assert_eq!(last.as_deref(), Some(&b"1"[..]));
}
