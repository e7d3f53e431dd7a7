//! One behaviour suite for every storage engine.
#![allow(clippy::unwrap_used)]

use super::{Engine, StoreError, Tx};

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
