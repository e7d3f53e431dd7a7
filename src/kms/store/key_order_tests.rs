#![allow(clippy::unwrap_used)]
//! The list index and tally against the records they stand for, on both
//! engines: every filter, offset and limit of a page read from the index
//! equals the same page cut from all of the project's records.
use crate::common::paging;
use crate::kms::domain::{KeySpec, KeyState, Origin};
use crate::kms::error::KmsError;
use crate::kms::store::{self as store, KeyAdmin, KeyRecord};
use crate::store::{Db, Tx, TxExt};
use std::collections::BTreeMap;

fn key(project: &str, id: &str, spec: KeySpec, created_ms: i64, keystore: &str) -> KeyRecord {
    KeyRecord {
        key_id: id.into(),
        project_id: project.into(),
        domain_id: "d".into(),
        key_alias: format!("alias-{id}"),
        key_description: String::new(),
        key_spec: spec,
        key_usage: spec.default_usage(),
        origin: Origin::Kms,
        key_state: KeyState::Enabled,
        default_key: false,
        creation_ms: created_ms,
        scheduled_deletion_ms: None,
        expiration_ms: None,
        enterprise_project_id: "0".into(),
        keystore_id: keystore.into(),
        tags: BTreeMap::new(),
        current: None,
        version_count: 0,
        legacy_versions: Vec::new(),
        admin: KeyAdmin::default(),
        multi_region: None,
    }
}

const SPECS: [Option<KeySpec>; 4] = [
    None,
    Some(KeySpec::Aes256),
    Some(KeySpec::Sm4),
    Some(KeySpec::EcP256),
];
const STATES: [Option<KeyState>; 3] = [None, Some(KeyState::Enabled), Some(KeyState::Disabled)];

/// Every page the index gives equals the page cut from `store::list`.
fn agrees(tx: &mut dyn Tx, project: &str) -> Result<(), KmsError> {
    let all = store::list(tx, project)?;
    for spec in SPECS {
        for state in STATES {
            let want: Vec<String> = all
                .iter()
                .filter(|k| spec.is_none_or(|s| k.key_spec == s))
                .filter(|k| state.is_none_or(|s| k.key_state == s))
                .map(|k| k.key_id.clone())
                .collect();
            for (offset, limit) in [(0, 1000), (0, 2), (1, 2), (3, 1), (5, 3), (50, 10)] {
                let cut = paging::page(want.clone(), offset, limit);
                let (page, total) = store::list_page(tx, project, spec, state, offset, limit)?;
                let ids: Vec<String> = page.iter().map(|k| k.key_id.clone()).collect();
                assert_eq!(
                    ids, cut.items,
                    "{project} {spec:?} {state:?} {offset}+{limit}"
                );
                assert_eq!(total, want.len() as u64, "{project} {spec:?} {state:?}");
                let next = paging::next_offset(offset, ids.len(), total);
                assert_eq!(
                    next, cut.next,
                    "{project} {spec:?} {state:?} {offset}+{limit}"
                );
            }
        }
    }
    let mut by_state: Vec<(String, u64)> = Vec::new();
    for k in &all {
        match by_state.iter_mut().find(|(s, _)| s == k.key_state.code()) {
            Some((_, n)) => *n += 1,
            None => by_state.push((k.key_state.code().to_owned(), 1)),
        }
    }
    let mut kept = store::count_by_state(tx, project)?;
    kept.sort();
    by_state.sort();
    assert_eq!(kept, by_state, "{project}");
    Ok(())
}

fn follows_writes(db: &Db) {
    db.tx_blocking(|tx| {
        // Creation times out of id order, and two keys created at once.
        let specs = [
            KeySpec::Aes256,
            KeySpec::Sm4,
            KeySpec::Aes256,
            KeySpec::EcP256,
        ];
        for i in 0..9i64 {
            let id = format!("k{:02}", 9 - i);
            let created = 1_000 + (i % 4) * 10;
            let ks = if i == 4 { "ks-1" } else { "0" };
            store::insert(tx, &key("lp1", &id, specs[i as usize % 4], created, ks))?;
            agrees(tx, "lp1")?;
        }
        store::insert(tx, &key("lp2", "other", KeySpec::Aes256, 5, "ks-1"))?;
        assert_eq!(store::keys_in_keystore(tx, "lp1", "ks-1")?, 1);
        assert_eq!(store::keys_in_keystore(tx, "lp2", "ks-1")?, 1);
        // A state change moves the key's rows; a save that changes nothing
        // listed (a description) moves none.
        for id in ["k09", "k05", "k02"] {
            let mut k = store::load(tx, "lp1", id)?;
            k.key_state = KeyState::Disabled;
            store::save(tx, &k)?;
            k.key_description = "changed".into();
            store::save(tx, &k)?;
            agrees(tx, "lp1")?;
        }
        for id in ["k07", "k01"] {
            // A stale copy (enabled) is purged: the stored state is uncounted.
            let k = key("lp1", id, store::load(tx, "lp1", id)?.key_spec, 0, "0");
            store::purge(tx, &k)?;
            agrees(tx, "lp1")?;
        }
        let ks_key = store::list(tx, "lp1")?
            .into_iter()
            .find(|k| k.keystore_id == "ks-1")
            .unwrap();
        store::purge(tx, &ks_key)?;
        assert_eq!(store::keys_in_keystore(tx, "lp1", "ks-1")?, 0);
        assert_eq!(store::keys_in_keystore(tx, "lp2", "ks-1")?, 1);
        agrees(tx, "lp1")?;
        agrees(tx, "lp2")?;
        assert_eq!(store::list_page(tx, "lp3", None, None, 0, 10)?.1, 0);
        Ok::<_, KmsError>(())
    })
    .unwrap();
}

#[test]
fn the_list_index_and_tally_follow_writes() {
    let dir = tempfile::tempdir().unwrap();
    follows_writes(&Db::open(dir.path(), None).unwrap());
}

#[test]
fn the_list_index_and_tally_follow_writes_on_postgres() {
    let Some(url) = crate::store::testing::fresh_database("kms_key_order") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    follows_writes(&Db::open(dir.path(), Some(&url)).unwrap());
}

/// Keys stored before the index existed are indexed once at start-up.
#[test]
fn older_key_records_are_indexed_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), None).unwrap();
    db.tx_blocking(|tx| {
        for (i, spec) in [KeySpec::Aes256, KeySpec::Sm4, KeySpec::Aes256]
            .into_iter()
            .enumerate()
        {
            let mut k = key(
                "lq",
                &format!("k{i}"),
                spec,
                10 - i as i64,
                if i == 1 { "ks" } else { "0" },
            );
            k.key_state = if i == 2 {
                KeyState::Disabled
            } else {
                KeyState::Enabled
            };
            tx.put_json("kms_keys", &format!("lq/k{i}"), &k)?;
        }
        tx.put("kms_keys", "lq/junk", b"{not json")?;
        // Not indexed yet: the list is empty.
        assert_eq!(store::list_page(tx, "lq", None, None, 0, 10)?.1, 0);
        assert_eq!(store::index_existing(tx)?, 4);
        tx.delete("kms_keys", "lq/junk")?;
        agrees(tx, "lq")?;
        assert_eq!(store::keys_in_keystore(tx, "lq", "ks")?, 1);
        assert_eq!(store::index_existing(tx)?, 0, "done once");
        agrees(tx, "lq")?;
        Ok::<_, KmsError>(())
    })
    .unwrap();
}

/// Counts the rows a transaction reads: each `get` and each row a `scan`
/// returns, plus one per scan for the row past its range that ends it.
struct Counting<'a> {
    inner: &'a mut dyn Tx,
    rows: usize,
}

impl Tx for Counting<'_> {
    fn get(&mut self, table: &str, key: &str) -> Result<Option<Vec<u8>>, crate::store::StoreError> {
        self.rows += 1;
        self.inner.get(table, key)
    }
    fn put(
        &mut self,
        table: &str,
        key: &str,
        value: &[u8],
    ) -> Result<(), crate::store::StoreError> {
        self.inner.put(table, key, value)
    }
    fn delete(&mut self, table: &str, key: &str) -> Result<bool, crate::store::StoreError> {
        self.inner.delete(table, key)
    }
    fn scan(
        &mut self,
        table: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, crate::store::StoreError> {
        let rows = self.inner.scan(table, prefix, after, limit)?;
        self.rows += rows.len() + 1;
        Ok(rows)
    }
}

/// A page reads its own rows and the rows it skips, never the rest of a
/// large project or any of another project's.
#[test]
fn a_page_reads_rows_bounded_by_its_size_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), None).unwrap();
    for p in 0..10 {
        db.tx_blocking(|tx| {
            for i in 0..1000i64 {
                let id = format!("o{p}-{i:04}");
                store::insert(tx, &key(&format!("other{p}"), &id, KeySpec::Aes256, i, "0"))?;
            }
            Ok::<_, KmsError>(())
        })
        .unwrap();
    }
    db.tx_blocking(|tx| {
        for i in 0..1000i64 {
            let spec = if i % 10 == 9 {
                KeySpec::Sm4
            } else {
                KeySpec::Aes256
            };
            store::insert(tx, &key("own", &format!("k{i:04}"), spec, i, "0"))?;
        }
        Ok::<_, KmsError>(())
    })
    .unwrap();
    // (spec, state, offset, limit) → at most this many rows beyond the
    // page's order rows and records (2 per key) and the skipped order rows:
    // the tally (a few rows) and the scans' ends.
    const SLACK: usize = 8;
    let cases = [
        (Some(KeySpec::Aes256), None, 0, 10),
        (None, None, 0, 10),
        (Some(KeySpec::Aes256), Some(KeyState::Enabled), 0, 10),
        (Some(KeySpec::Aes256), None, 500, 10),
        (Some(KeySpec::Aes256), None, 0, 1000),
    ];
    db.tx_blocking(|tx| {
        for (spec, state, offset, limit) in cases {
            let mut counting = Counting { inner: tx, rows: 0 };
            let (page, total) = store::list_page(&mut counting, "own", spec, state, offset, limit)?;
            let read = counting.rows;
            let bound = 2 * page.len() + offset + SLACK;
            assert!(
                read <= bound,
                "{spec:?} {state:?} {offset}+{limit}: read {read} rows for {} keys (bound {bound})",
                page.len()
            );
            assert_eq!(total, if spec.is_some() { 900 } else { 1000 });
        }
        Ok::<_, KmsError>(())
    })
    .unwrap();
}
