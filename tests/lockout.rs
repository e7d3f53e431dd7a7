//! Password lockout on `POST /v3/auth/tokens`, over HTTP with the fixed clock.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::TestServer;

fn token_request(user: &str, password: &str) -> Request<Body> {
    let body = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "password": password, "domain": {"name": "other"}}}},
        "scope": {"project": {"id": common::OTHER_PROJECT}}}});
    Request::builder()
        .method("POST")
        .uri("/v3/auth/tokens")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn five_failures_lock_the_user_even_against_the_right_password() {
    let s = TestServer::start().await;
    assert_eq!(s.send(token_request("olga", "olga-password")).await.0, 201);
    for _ in 0..5 {
        let (status, body) = s.send(token_request("olga", "wrong")).await;
        assert_eq!(status, 401);
        assert_eq!(
            body["error"]["message"],
            "The username or password is wrong."
        );
    }
    let (status, body) = s.send(token_request("olga", "olga-password")).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], 401);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("locked"));
    // Still locked just before the 15 minutes are up, free after.
    s.clock
        .advance(chrono::Duration::minutes(15) - chrono::Duration::seconds(1));
    assert_eq!(s.send(token_request("olga", "olga-password")).await.0, 401);
    s.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(s.send(token_request("olga", "olga-password")).await.0, 201);
}

#[tokio::test]
async fn lockout_policy_comes_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let s =
        TestServer::start_with(dir, "[login_lockout]\nfailures = 3\nlockout_minutes = 30\n").await;
    for _ in 0..3 {
        assert_eq!(s.send(token_request("olga", "wrong")).await.0, 401);
    }
    s.clock.advance(chrono::Duration::minutes(29));
    let (status, body) = s.send(token_request("olga", "olga-password")).await;
    assert_eq!(status, 401, "{body}");
    s.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(s.send(token_request("olga", "olga-password")).await.0, 201);
}
