//! KMS lifecycle through the real router with signed requests and a fixed clock.

mod common;
use common::*;
use serde_json::json;

async fn create(server: &TestServer, alias: &str) -> String {
    let (status, body) = server.kms("create-key", json!({"key_alias": alias})).await;
    assert_eq!(status, 200, "{body}");
    body["key_info"]["key_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn scheduled_deletion_really_happens_when_due() {
    let server = TestServer::start().await;
    let key_id = create(&server, "doomed").await;
    let (status, body) = server
        .kms(
            "schedule-key-deletion",
            json!({"key_id": key_id, "pending_days": "7"}),
        )
        .await;
    assert_eq!((status, body["key_state"].as_str()), (200, Some("4")));

    server
        .clock
        .advance(chrono::Duration::days(7) - chrono::Duration::seconds(5));
    assert_eq!(
        dewstack::kms::sweep_deletions(&server.state).await.unwrap(),
        0
    );
    let (status, _) = server.kms("describe-key", json!({"key_id": key_id})).await;
    assert_eq!(status, 200, "not yet due");

    server.clock.advance(chrono::Duration::seconds(10));
    assert_eq!(
        dewstack::kms::sweep_deletions(&server.state).await.unwrap(),
        1
    );
    let (status, body) = server.kms("describe-key", json!({"key_id": key_id})).await;
    assert_eq!((status, code(&body)), (404, "KMS.0207"));
    // The alias is free again once the key is gone.
    create(&server, "doomed").await;
}

#[tokio::test]
async fn cancelled_deletion_is_not_swept() {
    let server = TestServer::start().await;
    let key_id = create(&server, "saved").await;
    server
        .kms(
            "schedule-key-deletion",
            json!({"key_id": key_id, "pending_days": 7}),
        )
        .await;
    let (status, body) = server
        .kms("cancel-key-deletion", json!({"key_id": key_id}))
        .await;
    assert_eq!((status, body["key_state"].as_str()), (200, Some("3")));
    server.clock.advance(chrono::Duration::days(8));
    assert_eq!(
        dewstack::kms::sweep_deletions(&server.state).await.unwrap(),
        0
    );
    let (status, body) = server.kms("describe-key", json!({"key_id": key_id})).await;
    assert_eq!(
        (status, body["key_info"]["key_state"].as_str()),
        (200, Some("3"))
    );
}

#[tokio::test]
async fn schedule_survives_restart() {
    let server = TestServer::start().await;
    let key_id = create(&server, "persist").await;
    server
        .kms(
            "schedule-key-deletion",
            json!({"key_id": key_id, "pending_days": 7}),
        )
        .await;
    // The first "process" ends (and lets go of the embedded database) before
    // a new one opens the same data dir: the schedule lives in the database.
    let TestServer { dir, state, clock } = server;
    drop((state, clock));
    let server = TestServer::start_in(dir).await;
    let (status, body) = server.kms("describe-key", json!({"key_id": key_id})).await;
    assert_eq!(
        (status, body["key_info"]["key_state"].as_str()),
        (200, Some("4"))
    );
    server.clock.advance(chrono::Duration::days(8));
    assert_eq!(
        dewstack::kms::sweep_deletions(&server.state).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn database_file_holds_no_plaintext_key_material() {
    let server = TestServer::start().await;
    let key_id = create(&server, "secret-material").await;
    let state = server.state.clone();
    let id = key_id.clone();
    let record = state
        .db
        .tx(move |tx| dewstack::kms::store::load(tx, PROJECT, &id))
        .await
        .unwrap();
    let material = state
        .keyring
        .open(&record.current.as_ref().unwrap().sealed, key_id.as_bytes())
        .unwrap();
    assert_eq!(material.len(), 32);
    let mut haystack = std::fs::read(server.dir.path().join("dewstack.db")).unwrap();
    if let Ok(wal) = std::fs::read(server.dir.path().join("dewstack.db-wal")) {
        haystack.extend(wal);
    }
    assert!(!haystack.is_empty());
    assert!(
        !haystack
            .windows(material.len())
            .any(|w| w == material.as_slice()),
        "raw material found in the database"
    );
    let b64 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        material.as_slice(),
    );
    assert!(
        !haystack.windows(b64.len()).any(|w| w == b64.as_bytes()),
        "base64 material found in the database"
    );
    // Sealed under the key id: the same bytes do not open as another key's material.
    assert!(state
        .keyring
        .open(&record.current.as_ref().unwrap().sealed, b"another-key-id")
        .is_err());
}

#[tokio::test]
async fn default_key_is_protected() {
    let server = TestServer::start().await;
    let (_, list) = server.kms("list-keys", json!({})).await;
    let default = list["key_details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key_alias"] == "kms/default")
        .expect("kms/default exists from the start")
        .clone();
    assert_eq!(default["default_key_flag"], "1");
    let id = default["key_id"].as_str().unwrap();
    for (op, body) in [
        ("disable-key", json!({"key_id": id})),
        (
            "schedule-key-deletion",
            json!({"key_id": id, "pending_days": "7"}),
        ),
        (
            "update-key-description",
            json!({"key_id": id, "key_description": "x"}),
        ),
        (
            "update-key-alias",
            json!({"key_id": id, "key_alias": "renamed"}),
        ),
    ] {
        let (status, body) = server.kms(op, body).await;
        assert_eq!((status, code(&body)), (400, "KMS.0211"), "{op}");
    }
}

#[tokio::test]
async fn racing_creates_with_one_alias_make_exactly_one_key() {
    let server = std::sync::Arc::new(TestServer::start().await);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = server.clone();
        tasks.push(tokio::spawn(async move {
            s.kms("create-key", json!({"key_alias": "contended"})).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            200 => ok += 1,
            _ => assert_eq!((status, code(&body)), (400, "KMS.1104")),
        }
    }
    assert_eq!(ok, 1);
}
