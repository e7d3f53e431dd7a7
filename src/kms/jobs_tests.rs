#![allow(clippy::unwrap_used)]
//! The background sweeps against a real (temporary) database and a fixed clock.
use super::*;
use crate::clock::FixedClock;
use crate::kms::domain::rotation;
use crate::kms::domain::{KeySpec, NewKey, Origin};
use crate::store::Db;
use crate::testing::{DOMAIN_ID, PROJECT_ID};
use std::sync::Arc;

/// A fixed point in time, so that due dates are assertable.
fn epoch() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

/// An `AppState` on a temporary database with a fixed clock.
fn app() -> (AppState, Arc<FixedClock>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), None).unwrap();
    let clock = Arc::new(FixedClock::new(epoch()));
    (crate::testing::state(db, clock.clone()), clock, dir)
}

async fn stored(app: &AppState, origin: Origin) -> KeyRecord {
    let new = NewKey {
        alias: format!("k-{}", app.rng.uuid()),
        description: String::new(),
        spec: KeySpec::Aes256,
        usage: KeySpec::Aes256.default_usage(),
        origin,
        enterprise_project_id: "0".into(),
        keystore_id: "0".into(),
    };
    let key = crate::kms::api::provision::new_record(app, DOMAIN_ID, PROJECT_ID, new, false)
        .await
        .unwrap();
    let k = key.clone();
    app.db.tx(move |tx| store::insert(tx, &k)).await.unwrap();
    key
}

async fn update(
    app: &AppState,
    key: &KeyRecord,
    f: impl Fn(&mut KeyRecord) + Send + 'static,
) -> KeyRecord {
    let (p, id) = (key.project_id.clone(), key.key_id.clone());
    app.db
        .tx(move |tx| {
            let mut k = store::load(tx, &p, &id)?;
            f(&mut k);
            store::save(tx, &k)?;
            Ok::<_, KmsError>(k)
        })
        .await
        .unwrap()
}

async fn reload(app: &AppState, key: &KeyRecord) -> KeyRecord {
    let (p, id) = (key.project_id.clone(), key.key_id.clone());
    app.db.tx(move |tx| store::load(tx, &p, &id)).await.unwrap()
}

#[tokio::test]
async fn scheduled_rotation_happens_once_per_interval() {
    let (app, clock, _dir) = app();
    let key = stored(&app, Origin::Kms).await;
    let now = app.clock.now().timestamp_millis();
    update(&app, &key, move |k| {
        rotation::enable(k, now).unwrap();
        rotation::set_interval(k, 30).unwrap();
    })
    .await;
    assert_eq!(sweep_rotations(&app).await.unwrap(), 0);
    clock.advance(chrono::Duration::days(29));
    assert_eq!(sweep_rotations(&app).await.unwrap(), 0);
    clock.advance(chrono::Duration::days(1));
    assert_eq!(sweep_rotations(&app).await.unwrap(), 1);
    assert_eq!(sweep_rotations(&app).await.unwrap(), 0);
    let k = reload(&app, &key).await;
    assert_eq!((k.version_count, k.admin.rotation_count), (2, 1));
    // A disabled key is skipped, and rotated once re-enabled.
    update(&app, &k, |k| k.key_state = KeyState::Disabled).await;
    clock.advance(chrono::Duration::days(31));
    assert_eq!(sweep_rotations(&app).await.unwrap(), 0);
    update(&app, &k, |k| k.key_state = KeyState::Enabled).await;
    assert_eq!(sweep_rotations(&app).await.unwrap(), 1);
    // Rotation turned off: nothing more.
    update(&app, &k, |k| rotation::disable(k).unwrap()).await;
    clock.advance(chrono::Duration::days(400));
    assert_eq!(sweep_rotations(&app).await.unwrap(), 0);
    assert_eq!(reload(&app, &key).await.version_count, 3);
}

#[tokio::test]
async fn expired_material_is_removed_by_the_sweep() {
    let (app, clock, _dir) = app();
    let key = stored(&app, Origin::External).await;
    assert_eq!(key.key_state, KeyState::PendingImport);
    let now = app.clock.now().timestamp_millis();
    let sealed = app.keyring.seal(&[1u8; 32], key.key_id.as_bytes());
    update(&app, &key, move |k| {
        k.replace_versions(Some(crate::kms::store::KeyVersion {
            created_ms: now,
            sealed: sealed.clone(),
        }));
        k.key_state = KeyState::Enabled;
        k.expiration_ms = Some(now + 3_600_000);
    })
    .await;
    assert_eq!(sweep_expired_material(&app).await.unwrap(), 0);
    clock.advance(chrono::Duration::hours(1));
    assert_eq!(sweep_expired_material(&app).await.unwrap(), 1);
    let k = reload(&app, &key).await;
    assert_eq!(k.key_state, KeyState::PendingImport);
    assert!(k.current.is_none() && k.version_count == 0 && k.expiration_ms.is_none());
    assert_eq!(sweep_expired_material(&app).await.unwrap(), 0);
}

#[tokio::test]
async fn purge_clears_schedule_entries() {
    let (app, clock, _dir) = app();
    let key = stored(&app, Origin::Kms).await;
    let now = app.clock.now().timestamp_millis();
    let k = update(&app, &key, move |k| rotation::enable(k, now).unwrap()).await;
    app.db.tx(move |tx| store::purge(tx, &k)).await.unwrap();
    clock.advance(chrono::Duration::days(366));
    assert_eq!(sweep_rotations(&app).await.unwrap(), 0);
    let left = app
        .db
        .tx(|tx| Ok::<_, KmsError>(tx.scan(ROTATIONS, "", None, 10)?.len()))
        .await
        .unwrap();
    assert_eq!(left, 0);
}

const PROJECT: &str = PROJECT_ID;

fn state(db: Db, clock: FixedClock) -> AppState {
    crate::testing::state(db, Arc::new(clock))
}

/// `n` keys whose scheduled deletion date is already past.
async fn seed_due(app: &AppState, round: usize, n: usize) {
    let now_ms = app.clock.now().timestamp_millis();
    for i in 0..n {
        let new = NewKey {
            alias: format!("due-{round}-{i}"),
            description: String::new(),
            spec: KeySpec::Aes256,
            usage: KeySpec::Aes256.default_usage(),
            origin: Origin::Kms,
            enterprise_project_id: "0".into(),
            keystore_id: "0".into(),
        };
        let mut record = crate::kms::api::provision::new_record(app, "d", PROJECT, new, false)
            .await
            .unwrap();
        record.key_state = KeyState::PendingDeletion;
        record.scheduled_deletion_ms = Some(now_ms - 1000 - i as i64);
        app.db
            .tx(move |tx| store::insert(tx, &record))
            .await
            .unwrap();
    }
}

/// Two nodes (two `Db` handles on one database) sweep at the same time,
/// several rounds: every due key is deleted and reported exactly once.
fn sweeps_run_exactly_once(a: AppState, b: AppState) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for round in 0..5 {
            seed_due(&a, round, 20).await;
            let (ra, rb) = tokio::join!(sweep_deletions(&a), sweep_deletions(&b));
            let (ra, rb) = (ra.unwrap(), rb.unwrap());
            assert_eq!(ra + rb, 20, "round {round}: a={ra} b={rb}");
            let left = a.db.tx(|tx| store::list(tx, PROJECT)).await.unwrap();
            assert!(left.is_empty(), "round {round}: {} keys left", left.len());
            assert_eq!(sweep_deletions(&b).await.unwrap(), 0);
        }
    });
}

/// A purged key takes its alias resources with it; other keys' aliases stay.
#[test]
fn deletion_sweep_removes_aliases_of_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), None).unwrap();
    let app = state(db, FixedClock::new(epoch()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        seed_due(&app, 0, 1).await;
        let keys = app.db.tx(|tx| store::list(tx, PROJECT)).await.unwrap();
        let doomed = keys[0].key_id.clone();
        let alias = |name: &str, key_id: &str| store::aliases::AliasRecord {
            alias: name.into(),
            key_id: key_id.into(),
            domain_id: "d".into(),
            create_ms: 1,
            update_ms: 1,
        };
        let (a, b) = (alias("alias/a", &doomed), alias("alias/b", &doomed));
        let kept = alias("alias/kept", "00000000-0000-0000-0000-000000000000");
        app.db
            .tx(move |tx| {
                for r in [&a, &b, &kept] {
                    store::aliases::save(tx, PROJECT, r)?;
                }
                Ok::<_, KmsError>(())
            })
            .await
            .unwrap();
        assert_eq!(sweep_deletions(&app).await.unwrap(), 1);
        let (left, gone) = app
            .db
            .tx(move |tx| {
                Ok::<_, KmsError>((
                    store::aliases::list(tx, PROJECT, None)?,
                    store::aliases::list(tx, PROJECT, Some(&doomed))?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(
            left.iter().map(|a| a.alias.as_str()).collect::<Vec<_>>(),
            ["alias/kept"]
        );
        assert!(gone.is_empty());
    });
}

#[test]
fn deletion_sweep_runs_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), None).unwrap();
    let clock = FixedClock::new(epoch());
    sweeps_run_exactly_once(state(db.clone(), clock.clone()), state(db, clock));
}

#[test]
fn deletion_sweep_runs_once_across_postgres_nodes() {
    let Some(url) =
        crate::store::testing::fresh_database("deletion_sweep_runs_once_across_postgres_nodes")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let node_a = Db::open(dir.path(), Some(&url)).unwrap();
    let node_b = Db::open(dir.path(), Some(&url)).unwrap();
    let clock = FixedClock::new(epoch());
    sweeps_run_exactly_once(state(node_a, clock.clone()), state(node_b, clock));
}

/// A purged key of a key store leaves nothing in its token.
#[tokio::test]
async fn purging_a_key_of_a_key_store_destroys_its_token_objects() {
    use crate::kms::domain::keystore::KeystoreState;
    use crate::kms::store::{keystores, KeystoreRecord};
    let Some(tokens) = crate::testing::softhsm("purging_destroys_token_objects") else {
        return;
    };
    let (mut app, _clock, _dir) = app();
    app.hsm = tokens;
    let ks = KeystoreRecord {
        keystore_id: app.rng.uuid().to_string(),
        project_id: PROJECT_ID.into(),
        domain_id: DOMAIN_ID.into(),
        keystore_alias: "purge".into(),
        hsm_cluster_id: crate::testing::SOFTHSM_CLUSTERS[0].into(),
        state: KeystoreState::Enabled,
        create_ms: 0,
    };
    let record = ks.clone();
    app.db
        .tx(move |tx| keystores::insert(tx, &record))
        .await
        .unwrap();
    let new = NewKey {
        alias: "in-token".into(),
        description: String::new(),
        spec: KeySpec::Aes256,
        usage: KeySpec::Aes256.default_usage(),
        origin: Origin::Kms,
        enterprise_project_id: "0".into(),
        keystore_id: ks.keystore_id.clone(),
    };
    let key = crate::kms::api::provision::new_record(&app, DOMAIN_ID, PROJECT_ID, new, false)
        .await
        .unwrap();
    let k = key.clone();
    app.db.tx(move |tx| store::insert(tx, &k)).await.unwrap();
    let token = app.hsm.get(&ks.hsm_cluster_id).unwrap().clone();
    let id = key.key_id.clone();
    let seal = move |s: &cryptoki::session::Session| {
        crate::kms::hsm::ops::gcm_seal(s, &id, &[0; 12], b"x", b"")
    };
    assert!(
        token.run(seal.clone()).await.is_ok(),
        "the key is in the token"
    );
    let due = epoch().timestamp_millis();
    update(&app, &key, move |k| {
        k.key_state = KeyState::PendingDeletion;
        k.scheduled_deletion_ms = Some(due);
    })
    .await;
    assert_eq!(sweep_deletions(&app).await.unwrap(), 1);
    assert!(matches!(token.run(seal).await, Err(KmsError::Internal(_))));
}
