#![allow(clippy::unwrap_used)]
use super::*;
use crate::kms::store::grants::{GrantRecord, PrincipalType};

fn grant(kind: PrincipalType, principal: &str, ops: &[&str]) -> GrantRecord {
    GrantRecord {
        grant_id: "a".repeat(64),
        key_id: "0d0466b0-e727-4d9c-b35d-f84bb474a37f".into(),
        project_id: "owner".into(),
        name: String::new(),
        grantee_principal: principal.into(),
        grantee_principal_type: kind,
        operations: ops.iter().map(|s| s.to_string()).collect(),
        issuing_principal: "issuer".into(),
        retiring_principal: None,
        creation_ms: 0,
    }
}

#[tokio::test]
async fn keys_of_other_projects_are_reached_only_through_grants() {
    use crate::kms::domain::{KeySpec, NewKey, Origin};
    let (app, _dir) = crate::testing::embedded_state().unwrap();
    let new = NewKey {
        alias: "k".into(),
        description: String::new(),
        spec: KeySpec::Aes256,
        usage: KeySpec::Aes256.default_usage(),
        origin: Origin::Kms,
        enterprise_project_id: "0".into(),
        keystore_id: "0".into(),
    };
    let key = crate::kms::api::provision::new_record(&app, "d0", "owner", new, false)
        .await
        .unwrap();
    let id = key.key_id.clone();
    let k2 = key.clone();
    app.db.tx(move |tx| store::insert(tx, &k2)).await.unwrap();
    let run = |project: &'static str, user: &'static str, op: &'static str| {
        let id = id.clone();
        let db = app.db.clone();
        async move {
            db.tx(move |tx| {
                let who = Requester::of(project, user, "acme");
                usable_key_tx(tx, &who, &id, op, 0).map(|_| ())
            })
            .await
        }
    };
    assert!(run("owner", "anyone", "decrypt-data").await.is_ok());
    assert!(matches!(
        run("other", "alice", "encrypt-data").await,
        Err(KmsError::KeyNotFound)
    ));
    let mut g = grant(PrincipalType::User, "alice", &["encrypt-data"]);
    g.key_id = key.key_id.clone();
    let g2 = g.clone();
    app.db.tx(move |tx| grants::insert(tx, &g2)).await.unwrap();
    assert!(run("other", "alice", "encrypt-data").await.is_ok());
    assert!(matches!(
        run("other", "alice", "decrypt-data").await,
        Err(KmsError::NoKeyPermission)
    ));
    // Purging the key removes its grants and its index entry.
    app.db
        .tx(move |tx| {
            store::purge(tx, &key)?;
            assert!(grants::find(tx, "owner", &g.key_id, &g.grant_id)?.is_none());
            assert!(store::owner_project(tx, &g.key_id)?.is_none());
            Ok::<_, KmsError>(())
        })
        .await
        .unwrap();
    assert!(matches!(
        run("other", "alice", "encrypt-data").await,
        Err(KmsError::KeyNotFound)
    ));
}

#[test]
fn only_an_unseen_key_is_hidden_behind_the_ciphertext_error() {
    assert!(matches!(
        hidden_as(KmsError::KeyNotFound, KmsError::InvalidCiphertext),
        KmsError::InvalidCiphertext
    ));
    assert!(matches!(
        hidden_as(KmsError::KeyNotFound, KmsError::InvalidDatakeyCiphertext),
        KmsError::InvalidDatakeyCiphertext
    ));
    assert!(matches!(
        hidden_as(KmsError::NoKeyPermission, KmsError::InvalidCiphertext),
        KmsError::NoKeyPermission
    ));
    assert!(matches!(
        hidden_as(KmsError::KeyNotEnabled, KmsError::InvalidCiphertext),
        KmsError::KeyNotEnabled
    ));
}

/// Sign caches the version's material and parsed key; every write of the
/// key trims the cache to what it may still use, and a purge empties it.
#[tokio::test]
async fn signing_keys_are_cached_per_version_and_dropped_when_unusable() {
    use crate::kms::crypto::sign::{Hash, MessageType, SignAlg};
    use crate::kms::domain::{KeySpec, KeyState, NewKey, Origin};
    use crate::kms::key_cache::cached_versions;
    // The key cache is per process and other tests run alongside, all of
    // them on seed 0 and so minting the same key ids: this one needs ids of
    // its own, or another test's disable or purge empties its entries.
    let dir = tempfile::tempdir().unwrap();
    let db = crate::store::Db::open(dir.path(), None).unwrap();
    let clock = Arc::new(crate::clock::FixedClock::new(crate::testing::fixed_time()));
    let seed = crate::rng::Rng::system().in_range(1..u64::MAX);
    let app = crate::testing::state_with_seed(db, clock, seed);
    let new = NewKey {
        alias: "signer".into(),
        description: String::new(),
        spec: KeySpec::EcP256,
        usage: KeySpec::EcP256.default_usage(),
        origin: Origin::Kms,
        enterprise_project_id: "0".into(),
        keystore_id: "0".into(),
    };
    let key = crate::kms::api::provision::new_record(&app, "d0", "p", new, false)
        .await
        .unwrap();
    let id = key.key_id.clone();
    let k = key.clone();
    app.db.tx(move |tx| store::insert(tx, &k)).await.unwrap();
    assert_eq!(cached_versions(&id), 0);
    let alg = SignAlg::Ecdsa(Hash::Sha256);
    let sign = |key: KeyRecord| {
        let app = app.clone();
        async move {
            crate::kms::api::dispatch::sign(&app, &key, alg, MessageType::Raw, b"m".to_vec()).await
        }
    };
    let first = sign(key.clone()).await.unwrap();
    assert_eq!(cached_versions(&id), 1);
    let (_, m1) = newest(&app, &key).unwrap();
    let (_, m2) = newest(&app, &key).unwrap();
    assert!(Arc::ptr_eq(&m1, &m2), "one unsealed copy per version");
    let p1 = m1.parsed(KeySpec::EcP256).unwrap();
    assert!(Arc::ptr_eq(&p1, &m2.parsed(KeySpec::EcP256).unwrap()));
    assert_eq!(
        sign(key.clone()).await.unwrap(),
        first,
        "RFC 6979: same key, same bytes"
    );
    drop((m1, m2, p1));

    let save = |key: KeyRecord| {
        let db = app.db.clone();
        async move { db.tx(move |tx| store::save(tx, &key)).await.unwrap() }
    };
    // A write that leaves the key usable keeps its current version.
    save(key.clone()).await;
    assert_eq!(cached_versions(&id), 1);
    // Disabled: nothing of it stays.
    let mut disabled = key.clone();
    disabled.key_state = KeyState::Disabled;
    save(disabled).await;
    assert_eq!(cached_versions(&id), 0);
    // Rotation: the old version's entry goes; the new one signs (other bytes).
    sign(key.clone()).await.unwrap();
    let mut rotated = key.clone();
    let sealed = crate::kms::api::provision::sealed_material(&app, &id, KeySpec::EcP256)
        .await
        .unwrap();
    rotated.push_version(KeyVersion {
        created_ms: 1,
        sealed,
    });
    save(rotated.clone()).await;
    assert_eq!(cached_versions(&id), 0);
    assert_ne!(sign(rotated.clone()).await.unwrap(), first);
    assert_eq!(cached_versions(&id), 1);
    // Purged: gone.
    app.db
        .tx(move |tx| store::purge(tx, &rotated))
        .await
        .unwrap();
    assert_eq!(cached_versions(&id), 0);
}
