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
