#![allow(clippy::unwrap_used)]
//! The background sweeps against a real (temporary) database and a fixed clock.
use super::testing;
use super::*;
use crate::kms::domain::{KeySpec, NewKey, Origin};
use crate::kms::{import, rotation};

async fn stored(app: &AppState, origin: Origin) -> KeyRecord {
    let new = NewKey {
        alias: format!("k-{}", uuid::Uuid::new_v4()),
        description: String::new(),
        spec: KeySpec::Aes256,
        usage: KeySpec::Aes256.default_usage(),
        origin,
        enterprise_project_id: "0".into(),
        keystore_id: "0".into(),
    };
    let key = crate::kms::new_record(app, "d0", "p0", new, false)
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
    let (app, clock, _dir) = testing::app();
    let key = stored(&app, Origin::Kms).await;
    let now = app.clock.now().timestamp_millis();
    update(&app, &key, move |k| {
        rotation::enable(k, now).unwrap();
        rotation::set_interval(k, 30).unwrap();
    })
    .await;
    assert_eq!(rotation::sweep_rotations(&app).await.unwrap(), 0);
    clock.advance(chrono::Duration::days(29));
    assert_eq!(rotation::sweep_rotations(&app).await.unwrap(), 0);
    clock.advance(chrono::Duration::days(1));
    assert_eq!(rotation::sweep_rotations(&app).await.unwrap(), 1);
    assert_eq!(rotation::sweep_rotations(&app).await.unwrap(), 0);
    let k = reload(&app, &key).await;
    assert_eq!((k.versions.len(), k.admin.rotation_count), (2, 1));
    // A disabled key is skipped, and rotated once re-enabled.
    update(&app, &k, |k| k.key_state = KeyState::Disabled).await;
    clock.advance(chrono::Duration::days(31));
    assert_eq!(rotation::sweep_rotations(&app).await.unwrap(), 0);
    update(&app, &k, |k| k.key_state = KeyState::Enabled).await;
    assert_eq!(rotation::sweep_rotations(&app).await.unwrap(), 1);
    // Rotation turned off: nothing more.
    update(&app, &k, |k| rotation::disable(k).unwrap()).await;
    clock.advance(chrono::Duration::days(400));
    assert_eq!(rotation::sweep_rotations(&app).await.unwrap(), 0);
    assert_eq!(reload(&app, &key).await.versions.len(), 3);
}

#[tokio::test]
async fn expired_material_is_removed_by_the_sweep() {
    let (app, clock, _dir) = testing::app();
    let key = stored(&app, Origin::External).await;
    assert_eq!(key.key_state, KeyState::PendingImport);
    let now = app.clock.now().timestamp_millis();
    let sealed = app.keyring.seal(&[1u8; 32], key.key_id.as_bytes());
    update(&app, &key, move |k| {
        k.versions = vec![crate::kms::store::KeyVersion {
            created_ms: now,
            sealed: sealed.clone(),
        }];
        k.key_state = KeyState::Enabled;
        k.expiration_ms = Some(now + 3_600_000);
    })
    .await;
    assert_eq!(import::sweep_expired_material(&app).await.unwrap(), 0);
    clock.advance(chrono::Duration::hours(1));
    assert_eq!(import::sweep_expired_material(&app).await.unwrap(), 1);
    let k = reload(&app, &key).await;
    assert_eq!(k.key_state, KeyState::PendingImport);
    assert!(k.versions.is_empty() && k.expiration_ms.is_none());
    assert_eq!(import::sweep_expired_material(&app).await.unwrap(), 0);
}

#[tokio::test]
async fn purge_clears_schedule_entries() {
    let (app, clock, _dir) = testing::app();
    let key = stored(&app, Origin::Kms).await;
    let now = app.clock.now().timestamp_millis();
    let k = update(&app, &key, move |k| rotation::enable(k, now).unwrap()).await;
    app.db.tx(move |tx| store::purge(tx, &k)).await.unwrap();
    clock.advance(chrono::Duration::days(366));
    assert_eq!(rotation::sweep_rotations(&app).await.unwrap(), 0);
    let left = app
        .db
        .tx(|tx| Ok::<_, KmsError>(tx.scan(ROTATIONS, "", None, 10)?.len()))
        .await
        .unwrap();
    assert_eq!(left, 0);
}
