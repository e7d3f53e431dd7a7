#![allow(clippy::unwrap_used)]
//! Key versions in rows of their own, against a real (temporary) database:
//! the hot record stays the same size, old ciphertexts still open, records
//! in the shape before the change still work and migrate, purge drops rows.
use crate::clock::FixedClock;
use crate::kms::access;
use crate::kms::api::{datakeys, encryption, provision};
use crate::kms::crypto::asymmetric::EncAlg;
use crate::kms::crypto::blob::{self, Purpose};
use crate::kms::crypto::material;
use crate::kms::domain::rotation::add_version;
use crate::kms::domain::{KeySpec, NewKey, Origin};
use crate::kms::error::KmsError;
use crate::kms::store::{self, versions, KeyRecord, KeyVersion};
use crate::server::state::AppState;
use crate::store::{Db, Tx};
use crate::testing::{DOMAIN_ID, PROJECT_ID};
use std::ops::Not;
use std::sync::Arc;

fn state(db: Db) -> AppState {
    let clock = Arc::new(FixedClock::new(crate::testing::fixed_time()));
    crate::testing::state(db, clock)
}

fn app() -> (AppState, tempfile::TempDir) {
    crate::testing::embedded_state().unwrap()
}

async fn stored(app: &AppState) -> KeyRecord {
    let new = NewKey {
        alias: format!("k-{}", app.rng.uuid()),
        description: String::new(),
        spec: KeySpec::Aes256,
        usage: KeySpec::Aes256.default_usage(),
        origin: Origin::Kms,
        enterprise_project_id: "0".into(),
        keystore_id: "0".into(),
    };
    let key = provision::new_record(app, DOMAIN_ID, PROJECT_ID, new, false)
        .await
        .unwrap();
    let k = key.clone();
    app.db.tx(move |tx| store::insert(tx, &k)).await.unwrap();
    key
}

async fn reload(app: &AppState, key: &KeyRecord) -> KeyRecord {
    let (p, id) = (key.project_id.clone(), key.key_id.clone());
    app.db.tx(move |tx| store::load(tx, &p, &id)).await.unwrap()
}

/// Rotates `key` `times` times, each a load–rotate–save as RotateOnDemand does.
async fn rotate(app: &AppState, key: &KeyRecord, times: usize) -> KeyRecord {
    let (p, id) = (key.project_id.clone(), key.key_id.clone());
    let (keyring, rng) = (app.keyring.clone(), app.rng.clone());
    app.db
        .tx(move |tx| {
            for _ in 0..times {
                let mut k = store::load(tx, &p, &id)?;
                let sealed = material::seal_fresh(&keyring, &rng, &k.key_id, k.key_spec)?;
                add_version(&mut k, sealed, 1);
                store::save(tx, &k)?;
            }
            store::load(tx, &p, &id)
        })
        .await
        .unwrap()
}

/// The stored bytes of a key record.
async fn raw_record(app: &AppState, key: &KeyRecord) -> Vec<u8> {
    let row = format!("{}/{}", key.project_id, key.key_id);
    app.db
        .read(move |tx| tx.get("kms_keys", &row))
        .await
        .map_err(KmsError::from)
        .unwrap()
        .unwrap()
}

async fn put_raw(app: &AppState, key: &KeyRecord, bytes: Vec<u8>) {
    let row = format!("{}/{}", key.project_id, key.key_id);
    app.db
        .tx(move |tx| tx.put("kms_keys", &row, &bytes).map_err(KmsError::from))
        .await
        .unwrap();
}

async fn rows(app: &AppState, key: &KeyRecord) -> Vec<usize> {
    let (p, id) = (key.project_id.clone(), key.key_id.clone());
    let list = app.db.read(move |tx| versions::list(tx, &p, &id)).await;
    list.unwrap().into_iter().map(|(i, _)| i).collect()
}

async fn encrypt(app: &AppState, key: &KeyRecord, text: &[u8]) -> Vec<u8> {
    let job = encryption::encrypt_under(app, key, EncAlg::Symmetric, text, b"ctx")
        .await
        .unwrap();
    job.run().await.unwrap()
}

async fn decrypt(app: &AppState, key: &KeyRecord, ct: &[u8]) -> Vec<u8> {
    let plain = encryption::decrypt_under(app, key, EncAlg::Symmetric, ct, b"ctx").await;
    plain.unwrap().to_vec()
}

#[tokio::test]
async fn hot_record_stays_small_and_version_one_decrypts_after_200_rotations() {
    let (app, _dir) = app();
    hot_record_scenario(&app).await;
}

async fn hot_record_scenario(app: &AppState) {
    let app = app.clone();
    let key = stored(&app).await;
    let first = encrypt(&app, &key, b"made under version 1").await;
    let first_dek = datakeys::seal_wrapped(&app, &key, &[0x5a; 32], b"")
        .await
        .unwrap();
    let one_version = raw_record(&app, &key).await.len();

    let k = rotate(&app, &key, 100).await;
    let middle = encrypt(&app, &k, b"made under version 101").await;
    let hundred_and_one = raw_record(&app, &key).await.len();
    let k = rotate(&app, &k, 100).await;
    let two_hundred_and_one = raw_record(&app, &key).await.len();

    // Only the counters' digits differ: the record holds one version.
    assert_eq!(hundred_and_one, two_hundred_and_one);
    assert!(
        two_hundred_and_one <= one_version + 8,
        "{one_version} → {two_hundred_and_one}"
    );
    assert_eq!((k.version_count, k.current_index()), (201, Some(200)));
    assert_eq!(rows(&app, &key).await, (0..200).collect::<Vec<_>>());

    assert_eq!(decrypt(&app, &k, &first).await, b"made under version 1");
    assert_eq!(decrypt(&app, &k, &middle).await, b"made under version 101");
    // Again, now from the caches.
    assert_eq!(decrypt(&app, &k, &first).await, b"made under version 1");
    let dek = datakeys::open_wrapped(&app, &k, &first_dek, b"")
        .await
        .unwrap();
    assert_eq!(dek.as_slice(), &[0x5a; 32]);
    let newest = encrypt(&app, &k, b"new").await;
    assert_eq!(&newest[37..41], &200u32.to_be_bytes());
    assert_eq!(decrypt(&app, &k, &newest).await, b"new");
    // A version number past the newest is no version of this key.
    let mut past = newest.clone();
    past[37..41].copy_from_slice(&201u32.to_be_bytes());
    let e = encryption::decrypt_under(&app, &k, EncAlg::Symmetric, &past, b"ctx").await;
    assert!(matches!(e, Err(KmsError::InvalidCiphertext)));
}

/// Rewrites a stored record in the shape written before versions had rows:
/// every version in `versions`, oldest first, and no `current`/`version_count`.
async fn write_old_shape(app: &AppState, key: &KeyRecord, all: &[KeyVersion]) {
    let mut json: serde_json::Value = serde_json::from_slice(&raw_record(app, key).await).unwrap();
    let obj = json.as_object_mut().unwrap();
    obj.remove("current");
    obj.remove("version_count");
    obj.insert("versions".into(), serde_json::to_value(all).unwrap());
    put_raw(app, key, serde_json::to_vec(&json).unwrap()).await;
    // A database holding such records was written before the migration's
    // done mark existed.
    let unmark = app.db.tx(|tx| {
        tx.delete("kms_migrations", "key_versions_in_rows")
            .map_err(KmsError::from)
    });
    unmark.await.unwrap();
}

/// A second version for `key` and a ciphertext under it, made the way
/// EncryptData made them before the change (`blob::seal_blob`, unchanged).
fn second_version(app: &AppState, key: &KeyRecord) -> (KeyVersion, Vec<u8>) {
    let sealed = material::seal_fresh(&app.keyring, &app.rng, &key.key_id, key.key_spec).unwrap();
    let v1 = KeyVersion {
        created_ms: 2,
        sealed,
    };
    let m = blob::open_version(&app.keyring, key, &v1).unwrap();
    let ct = blob::seal_blob(&app.rng, key, 1, &m, b"v1", b"ctx", Purpose::Data).unwrap();
    (v1, ct)
}

#[tokio::test]
async fn records_in_the_old_shape_still_work_and_migrate_at_startup() {
    let (app, _dir) = app();
    old_shape_scenario(&app).await;
}

async fn old_shape_scenario(app: &AppState) {
    let app = app.clone();
    let key = stored(&app).await;
    let ct0 = encrypt(&app, &key, b"v0").await;
    let (v1, ct1) = second_version(&app, &key);
    write_old_shape(&app, &key, &[key.current.clone().unwrap(), v1]).await;

    let old = reload(&app, &key).await;
    assert_eq!((old.version_count, old.current_index()), (2, Some(1)));
    assert!(rows(&app, &key).await.is_empty());
    assert_eq!(decrypt(&app, &old, &ct0).await, b"v0");
    assert_eq!(decrypt(&app, &old, &ct1).await, b"v1");
    let (index, _) = access::newest(&app, &old).unwrap();
    assert_eq!(index, 1);

    // The startup migration (what `kms::bootstrap` runs); a record that does
    // not decode is skipped, not a reason to refuse to start.
    let junk = app.db.tx(|tx| {
        tx.put("kms_keys", "q/junk", b"{not json")
            .map_err(KmsError::from)
    });
    junk.await.unwrap();
    provision::bootstrap(&app).await.unwrap();
    let raw: serde_json::Value = serde_json::from_slice(&raw_record(&app, &key).await).unwrap();
    assert!(raw.get("versions").is_none(), "{raw}");
    assert_eq!(raw["version_count"], 2);
    assert_eq!(rows(&app, &key).await, vec![0]);
    let new = reload(&app, &key).await;
    assert!(new.legacy_versions.is_empty());
    assert_eq!(decrypt(&app, &new, &ct0).await, b"v0");
    assert_eq!(decrypt(&app, &new, &ct1).await, b"v1");
    // Nothing left to migrate.
    let again = app.db.tx(|tx| store::upgrade_records(tx, None, 100)).await;
    assert_eq!(again.unwrap(), (None, 0));
}

#[tokio::test]
async fn an_old_shape_record_migrates_on_its_next_write() {
    let (app, _dir) = app();
    let key = stored(&app).await;
    let ct0 = encrypt(&app, &key, b"v0").await;
    let (v1, ct1) = second_version(&app, &key);
    write_old_shape(&app, &key, &[key.current.clone().unwrap(), v1]).await;
    let k = rotate(&app, &key, 1).await;
    assert_eq!((k.version_count, rows(&app, &key).await), (3, vec![0, 1]));
    assert_eq!(decrypt(&app, &k, &ct0).await, b"v0");
    assert_eq!(decrypt(&app, &k, &ct1).await, b"v1");
    let (p, id) = (key.project_id.clone(), key.key_id.clone());
    let history = app
        .db
        .read(move |tx| {
            let k = store::load(tx, &p, &id)?;
            store::version_history(tx, &k)
        })
        .await
        .unwrap();
    let numbers: Vec<usize> = history.iter().map(|(i, _)| *i).collect();
    assert_eq!(numbers, vec![0, 1, 2]);
}

#[tokio::test]
async fn purge_removes_the_version_rows_in_the_same_transaction() {
    let (app, _dir) = app();
    purge_scenario(&app).await;
}

async fn purge_scenario(app: &AppState) {
    let app = app.clone();
    let key = stored(&app).await;
    let k = rotate(&app, &key, 3).await;
    assert_eq!(rows(&app, &key).await.len(), 3);
    let doomed = k.clone();
    // Purge and then fail: the transaction rolls back, rows and all.
    let failed = app
        .db
        .tx(move |tx: &mut dyn Tx| {
            store::purge(tx, &doomed)?;
            Err::<(), _>(KmsError::Internal("abort".into()))
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(rows(&app, &key).await.len(), 3);
    let doomed = k.clone();
    app.db
        .tx(move |tx| store::purge(tx, &doomed))
        .await
        .unwrap();
    assert!(rows(&app, &key).await.is_empty());
    let (p, id) = (key.project_id.clone(), key.key_id.clone());
    let gone = app.db.tx(move |tx| store::find(tx, &p, &id)).await.unwrap();
    assert!(gone.is_none());
}

#[tokio::test]
async fn versions_go_one_at_a_time_or_all_at_once() {
    let (app, _dir) = app();
    let key = stored(&app).await;
    let k = rotate(&app, &key, 2).await;
    // Jumping two versions ahead would leave one without a row: refused.
    let mut skipped = k.clone();
    skipped.version_count += 2;
    let r = app.db.tx(move |tx| store::save(tx, &skipped)).await;
    assert!(matches!(r, Err(KmsError::Internal(_))));
    // Replacing the versions (imported material) drops the older rows.
    let mut replaced = k.clone();
    replaced.replace_versions(None);
    app.db
        .tx(move |tx| store::save(tx, &replaced))
        .await
        .unwrap();
    assert!(rows(&app, &key).await.is_empty());
}

/// The scenarios above on PostgreSQL (skipped unless a test server is given,
/// `scripts/with-postgres.sh`).
#[tokio::test(flavor = "multi_thread")]
async fn the_same_holds_on_postgres() {
    let opened = tokio::task::spawn_blocking(|| {
        let url = crate::store::testing::fresh_database("key_versions_on_postgres")?;
        let dir = tempfile::tempdir().unwrap();
        Some((Db::open(dir.path(), Some(&url)).unwrap(), dir))
    });
    let Some((db, _dir)) = opened.await.unwrap() else {
        return;
    };
    let app = state(db);
    hot_record_scenario(&app).await;
    old_shape_scenario(&app).await;
    purge_scenario(&app).await;
    runs_once_scenario(&app).await;
}

/// The start-up migration reads every key record, so it runs to its end
/// once: the mark commits with its last page, and a start that finds the
/// mark reads no record (a record put in the old shape behind its back
/// stays as it is, and still reads right).
#[tokio::test]
async fn the_migration_runs_once_and_its_mark_is_honoured() {
    let (app, _dir) = app();
    runs_once_scenario(&app).await;
}

async fn runs_once_scenario(app: &AppState) {
    let (a, b) = (stored(app).await, stored(app).await);
    for key in [&a, &b] {
        let (v1, _) = second_version(app, key);
        write_old_shape(app, key, &[key.current.clone().unwrap(), v1]).await;
    }
    let step = |after: Option<String>| {
        let db = app.db.clone();
        async move {
            db.tx(move |tx| {
                let r = store::upgrade_records(tx, after.as_deref(), 1)?;
                Ok::<_, KmsError>((r, store::upgraded_all(tx)?))
            })
            .await
            .unwrap()
        }
    };
    // Page by page: no mark until the page that finds the end.
    let (mut after, mut moved) = (None, 0);
    loop {
        let ((next, n), marked) = step(after.clone()).await;
        moved += n;
        assert_eq!(marked, next.is_none(), "marked only with the last page");
        match next {
            Some(row) => after = Some(row),
            None => break,
        }
    }
    assert!(moved >= 2, "moved {moved}");
    assert!(raw_has_versions(app, &a).await.not());
    // Marked: a record in the old shape now is not even read at start-up...
    let (v1, ct1) = second_version(app, &a);
    let current = reload(app, &a).await.current.unwrap();
    let mut json: serde_json::Value = serde_json::from_slice(&raw_record(app, &a).await).unwrap();
    let obj = json.as_object_mut().unwrap();
    obj.remove("current");
    obj.remove("version_count");
    obj.insert(
        "versions".into(),
        serde_json::to_value([current, v1]).unwrap(),
    );
    put_raw(app, &a, serde_json::to_vec(&json).unwrap()).await;
    provision::bootstrap(app).await.unwrap();
    assert!(raw_has_versions(app, &a).await);
    assert_eq!(step(None).await, ((None, 0), true));
    // ...and still works, as every such record does.
    let old = reload(app, &a).await;
    assert_eq!(old.version_count, 2);
    assert_eq!(decrypt(app, &old, &ct1).await, b"v1");
}

async fn raw_has_versions(app: &AppState, key: &KeyRecord) -> bool {
    let raw: serde_json::Value = serde_json::from_slice(&raw_record(app, key).await).unwrap();
    raw.get("versions").is_some()
}

/// The CMK count (the quota check's one row) follows inserts, saves and
/// purges in their transactions; default keys are not counted; a database
/// whose counts were never computed gets them from the records once.
#[tokio::test]
async fn key_count_follows_insert_save_and_purge() {
    let (app, _dir) = app();
    let count = |app: &AppState| {
        let db = app.db.clone();
        async move { db.read(|tx| store::count(tx, PROJECT_ID)).await.unwrap() }
    };
    assert_eq!(count(&app).await, 0);
    provision::ensure_default_key(&app, DOMAIN_ID, PROJECT_ID, "kms")
        .await
        .unwrap();
    assert_eq!(count(&app).await, 0, "a default key is not counted");
    let a = stored(&app).await;
    let b = stored(&app).await;
    assert_eq!(count(&app).await, 2);
    // A save of an existing key (a rotation) does not count it again.
    rotate(&app, &a, 2).await;
    assert_eq!(count(&app).await, 2);
    let gone = b.clone();
    app.db.tx(move |tx| store::purge(tx, &gone)).await.unwrap();
    assert_eq!(count(&app).await, 1);
    // A failed transaction moves nothing.
    let c = stored(&app).await;
    let again = c.clone();
    let refused: Result<(), KmsError> = app
        .db
        .tx(move |tx| {
            store::purge(tx, &again)?;
            Err(KmsError::KeyQuotaExceeded)
        })
        .await;
    assert!(refused.is_err());
    assert_eq!(count(&app).await, 2);
    // Counts dropped as if written by a version before they existed: the
    // start-up pass computes them from the records, once.
    app.db
        .tx(|tx| {
            tx.delete("counts", &format!("kms_keys/{PROJECT_ID}"))?;
            tx.delete("counts_ready", "kms_keys")?;
            Ok::<_, KmsError>(())
        })
        .await
        .unwrap();
    assert_eq!(count(&app).await, 0);
    let read = app.db.tx(store::count_existing).await.unwrap();
    assert_eq!(read, 3, "two keys and the default key were read");
    assert_eq!(count(&app).await, 2);
    assert_eq!(app.db.tx(store::count_existing).await.unwrap(), 0);
}
