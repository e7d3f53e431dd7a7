#![allow(clippy::unwrap_used)]
//! Capsules are blobs of their own purpose: a capsule never opens as a data
//! key ciphertext, a data key ciphertext never as a capsule, whatever
//! associated data is passed; capsules made before still open.
use super::*;
use crate::kms::api::provision;
use crate::kms::domain::{KeySpec, NewKey, Origin};
use crate::kms::store;
use crate::testing::{DOMAIN_ID, PROJECT_ID};

async fn app_and_key() -> (AppState, KeyRecord, tempfile::TempDir) {
    let (app, dir) = crate::testing::embedded_state().unwrap();
    let new = NewKey {
        alias: "capsules".into(),
        description: String::new(),
        spec: KeySpec::Aes256,
        usage: KeySpec::Aes256.default_usage(),
        origin: Origin::Kms,
        enterprise_project_id: "0".into(),
        keystore_id: "0".into(),
    };
    let key = provision::new_record(&app, DOMAIN_ID, PROJECT_ID, new, false)
        .await
        .unwrap();
    let k = key.clone();
    app.db.tx(move |tx| store::insert(tx, &k)).await.unwrap();
    (app, key, dir)
}

/// A capsule as `create_datakey_capsule` made it before capsules had their
/// own purpose: `datakeys::seal_wrapped(app, key, dek, CAPSULE_AAD)`, i.e. a
/// data key blob under the fixed associated data, in the data key layout.
fn old_capsule(app: &AppState, key: &KeyRecord, dek: &[u8]) -> Vec<u8> {
    let (index, material) = crate::kms::access::newest(app, key).unwrap();
    let aad = b"dewstack/datakey-capsule/v1";
    let inner = blob::seal_blob(&app.rng, key, index, &material, dek, aad, Purpose::Datakey);
    datakeys::wrap_blob(&key.key_id, &inner.unwrap())
}

const AADS: [&[u8]; 4] = [b"", b"dewstack/datakey-capsule/v1", b"x", b"capsule"];

#[tokio::test]
async fn a_capsule_does_not_open_as_a_data_key_whatever_the_aad() {
    let (app, key, _dir) = app_and_key().await;
    let capsule = seal_capsule(&app, &key, &Binding::None, &[0x11; 32])
        .await
        .unwrap();
    assert_eq!(
        open_capsule(&app, &key, &capsule).await.unwrap().as_slice(),
        &[0x11; 32]
    );
    for aad in AADS {
        let opened = datakeys::open_wrapped(&app, &key, &capsule, aad).await;
        assert!(
            matches!(opened, Err(KmsError::InvalidDatakeyCiphertext)),
            "{aad:?}"
        );
    }
    // Relabelled as a data key blob (trailer recomputed), it no longer authenticates.
    let (inner, _) = datakeys::unwrap_blob(&capsule).unwrap();
    let mut relabelled = inner.to_vec();
    relabelled[0] = 0xD3;
    let forged = datakeys::wrap_blob(&key.key_id, &relabelled);
    for aad in AADS {
        assert!(datakeys::open_wrapped(&app, &key, &forged, aad)
            .await
            .is_err());
    }
    assert!(open_capsule(&app, &key, &forged).await.is_err());
}

#[tokio::test]
async fn a_data_key_does_not_open_as_a_capsule() {
    let (app, key, _dir) = app_and_key().await;
    for aad in [&b""[..], b"x"] {
        let dk = datakeys::seal_wrapped(&app, &key, &[0x22; 32], aad)
            .await
            .unwrap();
        let opened = open_capsule(&app, &key, &dk).await;
        assert!(matches!(opened, Err(KmsError::InvalidDatakeyCiphertext)));
        let back = datakeys::open_wrapped(&app, &key, &dk, aad).await.unwrap();
        assert_eq!(back.as_slice(), &[0x22; 32]);
    }
    // The associated data old capsules used is reserved: no data key made
    // now can pass for one of them.
    let reserved =
        datakeys::seal_wrapped(&app, &key, &[0x22; 32], datakeys::LEGACY_CAPSULE_AAD).await;
    assert!(matches!(reserved, Err(KmsError::InvalidParameter(_))));
}

#[tokio::test]
async fn capsules_made_before_still_open_as_capsules_only() {
    let (app, key, _dir) = app_and_key().await;
    let old = old_capsule(&app, &key, &[0x33; 16]);
    assert_eq!(
        open_capsule(&app, &key, &old).await.unwrap().as_slice(),
        &[0x33; 16]
    );
    for aad in AADS {
        let opened = datakeys::open_wrapped(&app, &key, &old, aad).await;
        assert!(
            matches!(opened, Err(KmsError::InvalidDatakeyCiphertext)),
            "{aad:?}"
        );
    }
}
