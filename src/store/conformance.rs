//! One behaviour suite for every storage engine.
#![allow(clippy::unwrap_used)]

use super::engine::{Engine, StoreError, Tx};

pub fn put_one(engine: &dyn Engine, table: &str, key: &str, value: &[u8]) {
    engine
        .run(&mut |tx| tx.put(table, key, value).map(|_| true))
        .unwrap();
}

pub fn get_one(engine: &dyn Engine, table: &str, key: &str) -> Option<Vec<u8>> {
    let mut out = None;
    engine
        .run(&mut |tx| {
            out = tx.get(table, key)?;
            Ok(false)
        })
        .unwrap();
    out
}

fn scan_keys(
    engine: &dyn Engine,
    table: &str,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    engine
        .run(&mut |tx: &mut dyn Tx| {
            out = tx
                .scan(table, prefix, after, limit)?
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            Ok(false)
        })
        .unwrap();
    out
}

pub fn run_all(engine: &dyn Engine) {
    put_get_delete(engine);
    rollback_discards(engine);
    scan_ranges(engine);
    tables_are_separate(engine);
    cluster_lock_is_granted(engine);
    concurrent_increments_lose_nothing(engine);
    concurrent_unique_inserts_have_one_winner(engine);
    reads_see_commits_and_write_nothing(engine);
}

fn reads_see_commits_and_write_nothing(engine: &dyn Engine) {
    put_one(engine, "r", "k", b"committed");
    let mut seen = None;
    engine
        .run_read(&mut |tx| {
            seen = tx.get("r", "k")?;
            Ok(true)
        })
        .unwrap();
    assert_eq!(seen.as_deref(), Some(&b"committed"[..]));
    // A write inside a read transaction fails and leaves nothing behind.
    let attempt = engine.run_read(&mut |tx| {
        tx.put("r", "k", b"overwritten")?;
        tx.put("r", "new", b"x")?;
        Ok(true)
    });
    assert!(attempt.is_err());
    assert_eq!(get_one(engine, "r", "k"), Some(b"committed".to_vec()));
    assert_eq!(get_one(engine, "r", "new"), None);
}

fn put_get_delete(engine: &dyn Engine) {
    put_one(engine, "a", "k1", b"one");
    assert_eq!(get_one(engine, "a", "k1"), Some(b"one".to_vec()));
    put_one(engine, "a", "k1", b"two");
    assert_eq!(get_one(engine, "a", "k1"), Some(b"two".to_vec()));
    let mut existed = (false, false);
    engine
        .run(&mut |tx| {
            existed = (tx.delete("a", "k1")?, tx.delete("a", "k1")?);
            Ok(true)
        })
        .unwrap();
    assert_eq!(existed, (true, false));
    assert_eq!(get_one(engine, "a", "k1"), None);
}

fn rollback_discards(engine: &dyn Engine) {
    engine
        .run(&mut |tx| tx.put("b", "x", b"1").map(|_| false))
        .unwrap();
    assert_eq!(get_one(engine, "b", "x"), None);
    let err = engine.run(&mut |tx| {
        tx.put("b", "y", b"1")?;
        Err(StoreError::Backend("boom".into()))
    });
    assert!(err.is_err());
    assert_eq!(get_one(engine, "b", "y"), None);
}

fn scan_ranges(engine: &dyn Engine) {
    for k in ["p1/a", "p1/b", "p1/c", "p10/a", "p2/a", "p1%/x", "p1_/y"] {
        put_one(engine, "s", k, b"v");
    }
    assert_eq!(
        scan_keys(engine, "s", "p1/", None, 10),
        ["p1/a", "p1/b", "p1/c"]
    );
    assert_eq!(
        scan_keys(engine, "s", "p1/", Some("p1/a"), 10),
        ["p1/b", "p1/c"]
    );
    assert_eq!(scan_keys(engine, "s", "p1/", None, 2), ["p1/a", "p1/b"]);
    assert_eq!(scan_keys(engine, "s", "p1%", None, 10), ["p1%/x"]);
    assert_eq!(scan_keys(engine, "s", "p1_", None, 10), ["p1_/y"]);
    assert_eq!(scan_keys(engine, "s", "", None, 100).len(), 7);
    assert!(scan_keys(engine, "s", "p1/", Some("p1/c"), 10).is_empty());
}

fn tables_are_separate(engine: &dyn Engine) {
    put_one(engine, "t1", "same", b"1");
    put_one(engine, "t2", "same", b"2");
    assert_eq!(get_one(engine, "t1", "same"), Some(b"1".to_vec()));
    assert_eq!(get_one(engine, "t2", "same"), Some(b"2".to_vec()));
}

fn cluster_lock_is_granted(engine: &dyn Engine) {
    let mut got = false;
    engine
        .run(&mut |tx| {
            got = tx.try_lock("conformance-job")?;
            Ok(false)
        })
        .unwrap();
    assert!(got, "an uncontended lock is granted");
}

/// Several threads each add one to a counter many times, read-modify-write in
/// one transaction each: the end value is exact (no lost update).
fn concurrent_increments_lose_nothing(engine: &dyn Engine) {
    const THREADS: usize = 4;
    const EACH: usize = 25;
    put_one(engine, "ctr", "n", b"0");
    let barrier = std::sync::Barrier::new(THREADS);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                barrier.wait();
                for _ in 0..EACH {
                    engine
                        .run(&mut |tx| {
                            let n: u64 = String::from_utf8(tx.get("ctr", "n")?.unwrap())
                                .unwrap()
                                .parse()
                                .unwrap();
                            tx.put("ctr", "n", (n + 1).to_string().as_bytes())?;
                            Ok(true)
                        })
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(
        get_one(engine, "ctr", "n"),
        Some((THREADS * EACH).to_string().into_bytes())
    );
}

/// Two transactions check that a unique index key is free, then take it, at
/// the same time: exactly one of them wins, the other sees it taken.
fn concurrent_unique_inserts_have_one_winner(engine: &dyn Engine) {
    for round in 0..5 {
        let key = format!("alias-{round}");
        let barrier = std::sync::Barrier::new(2);
        let wins: Vec<bool> = std::thread::scope(|s| {
            let handles: Vec<_> = ["A", "B"]
                .into_iter()
                .map(|who| {
                    let (key, barrier) = (&key, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        let mut won = false;
                        engine
                            .run(&mut |tx| {
                                won = false;
                                if tx.get("uniq", key)?.is_some() {
                                    return Ok(false);
                                }
                                // Widen the window between the check and the write.
                                std::thread::sleep(std::time::Duration::from_millis(30));
                                tx.put("uniq", key, who.as_bytes())?;
                                tx.put("uniq_owner", &format!("{who}/{key}"), b"")?;
                                won = true;
                                Ok(true)
                            })
                            .unwrap();
                        won
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            wins.iter().filter(|w| **w).count(),
            1,
            "round {round}: {wins:?}"
        );
        let winner = if wins[0] { "A" } else { "B" };
        assert_eq!(
            get_one(engine, "uniq", &key),
            Some(winner.as_bytes().to_vec())
        );
        let owners = scan_keys(engine, "uniq_owner", "", None, 100)
            .into_iter()
            .filter(|k| k.ends_with(&format!("/{key}")))
            .count();
        assert_eq!(owners, 1, "round {round}: the loser left nothing behind");
    }
}
