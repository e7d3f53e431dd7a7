//! Authentication through the router: signatures, tokens, projects, request ids.

mod common;
use axum::body::Body;
use axum::http::Request;
use common::*;
use serde_json::json;
use tower::ServiceExt;

#[tokio::test]
async fn health_needs_no_auth_and_api_does() {
    let server = TestServer::start().await;
    let resp = dewstack::app(server.state.clone())
        .oneshot(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-request-id"));

    let req = Request::post(format!("/v1.0/{PROJECT}/kms/list-keys"))
        .body(Body::from("{}"))
        .unwrap();
    let (status, body) = server.send(req).await;
    assert_eq!((status, code(&body)), (401, "APIGW.0301"));
}

#[tokio::test]
async fn wrong_secret_and_tampering_are_refused() {
    let server = TestServer::start().await;
    let path = format!("/v1.0/{PROJECT}/kms/list-keys");
    let (status, _) = server
        .send(signed(
            &server.clock,
            "POST",
            &path,
            "{}",
            AK,
            "wrong-secret",
        ))
        .await;
    assert_eq!(status, 401);

    // Body changed after signing.
    let req = signed(&server.clock, "POST", &path, "{}", AK, SK);
    let (parts, _) = req.into_parts();
    let (status, body) = server
        .send(Request::from_parts(parts, Body::from("{\"limit\":\"1\"}")))
        .await;
    assert_eq!((status, code(&body)), (401, "APIGW.0301"));

    // Unknown access key.
    let (status, _) = server
        .send(signed(
            &server.clock,
            "POST",
            &path,
            "{}",
            "NOSUCHACCESSKEY00000",
            SK,
        ))
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn skewed_dates_are_refused() {
    let server = TestServer::start().await;
    let path = format!("/v1.0/{PROJECT}/kms/list-keys");
    let req = signed(&server.clock, "POST", &path, "{}", AK, SK);
    server.clock.advance(chrono::Duration::minutes(16));
    let (status, body) = server.send(req).await;
    assert_eq!((status, code(&body)), (401, "APIGW.0301"));
}

#[tokio::test]
async fn another_domains_project_is_forbidden_and_its_keys_invisible() {
    let server = TestServer::start().await;
    let (status, body) = server.kms("create-key", json!({"key_alias": "mine"})).await;
    assert_eq!(status, 200);
    let key_id = body["key_info"]["key_id"].as_str().unwrap().to_owned();

    // Other domain, root's project in the path: 403.
    let path = format!("/v1.0/{PROJECT}/kms/list-keys");
    let (status, body) = server
        .send(signed(
            &server.clock,
            "POST",
            &path,
            "{}",
            OTHER_AK,
            OTHER_SK,
        ))
        .await;
    assert_eq!((status, code(&body)), (403, "KMS.0321"));

    // Other domain, its own project, root's key id: 404 as if it did not exist.
    let path = format!("/v1.0/{OTHER_PROJECT}/kms/describe-key");
    let body = json!({"key_id": key_id}).to_string();
    let (status, body) = server
        .send(signed(
            &server.clock,
            "POST",
            &path,
            &body,
            OTHER_AK,
            OTHER_SK,
        ))
        .await;
    assert_eq!((status, code(&body)), (404, "KMS.0207"));
}

#[tokio::test]
async fn password_tokens_work_as_x_auth_token_and_only_in_their_project() {
    let server = TestServer::start().await;
    let body = json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"name": "admin", "password": "admin-password", "domain": {"id": DOMAIN}}}},
        "scope": {"project": {"id": PROJECT}}
    }});
    let resp = dewstack::app(server.state.clone())
        .oneshot(
            Request::post("/v3/auth/tokens")
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let token = resp.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(json["token"]["project"]["id"], PROJECT);
    assert_eq!(json["token"]["methods"][0], "password");

    let req = Request::post(format!("/v1.0/{PROJECT}/kms/list-keys"))
        .header("x-auth-token", &token)
        .body(Body::from("{}"))
        .unwrap();
    let (status, listed) = server.send(req).await;
    assert_eq!(status, 200, "{listed}");
    assert!(listed["total"].as_i64().unwrap() >= 1);

    server.clock.advance(chrono::Duration::hours(25));
    let req = Request::post(format!("/v1.0/{PROJECT}/kms/list-keys"))
        .header("x-auth-token", &token)
        .body(Body::from("{}"))
        .unwrap();
    let (status, _) = server.send(req).await;
    assert_eq!(status, 401, "expired token");

    let wrong = json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"name": "admin", "password": "nope", "domain": {"id": DOMAIN}}}},
        "scope": {"project": {"id": PROJECT}}
    }});
    let (status, body) = server
        .send(
            Request::post("/v3/auth/tokens")
                .body(Body::from(wrong.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!((status, body["error"]["code"].as_i64()), (401, Some(401)));
}

#[tokio::test]
async fn projects_are_listed_for_sdk_discovery() {
    let server = TestServer::start().await;
    let (status, body) = server
        .send(signed(
            &server.clock,
            "GET",
            "/v3/projects?name=cn-north-4",
            "",
            AK,
            SK,
        ))
        .await;
    assert_eq!(status, 200);
    let projects = body["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0]["id"], PROJECT);
    let (_, body) = server
        .send(signed(
            &server.clock,
            "GET",
            "/v3/projects?name=cn-north-4",
            "",
            OTHER_AK,
            OTHER_SK,
        ))
        .await;
    assert_eq!(body["projects"][0]["id"], OTHER_PROJECT);
}

#[tokio::test]
async fn another_domains_project_is_forbidden_in_csms_with_a_code_of_its_own() {
    let server = TestServer::start().await;
    let path = format!("/v1/{PROJECT}/secrets");
    let (status, body) = server
        .send(signed(&server.clock, "GET", &path, "", OTHER_AK, OTHER_SK))
        .await;
    // Not CSMS.0004, which means a malformed body (tests/error_codes.rs).
    assert_eq!((status, code(&body)), (403, "CSMS.9006"));
}
