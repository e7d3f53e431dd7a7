//! dewstack's own endpoints through the router: every operation label is a
//! served route, requests are counted by operation, `/metrics` access, the
//! dev clock (refused when off or for others than root; a 7-day deletion is
//! gone after an 8-day jump, and signatures dated by real clocks still verify).

mod common;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use common::*;
use dewstack::clock::{Clock, FixedClock, OffsetClock};
use dewstack::ops::operations::TABLE;
use dewstack::AppState;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

async fn call(state: &AppState, req: Request<Body>) -> (u16, serde_json::Value, String) {
    let resp = dewstack::app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), 4 << 20)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, json, text)
}

fn fill(template: &str) -> String {
    template
        .replace("{project_id}", PROJECT)
        .replace("{version_id}", "v1.0")
        .split('/')
        .map(|seg| if seg.starts_with('{') { "x" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_listed_operation_is_a_served_route() {
    let server = TestServer::start().await;
    for &(_, method, template, name) in TABLE {
        let req = Request::builder()
            .method(method)
            .uri(fill(template))
            .body(Body::from("{}"))
            .unwrap();
        let (status, body, _) = call(&server.state, req).await;
        let unrouted = status == 405 || (status == 404 && code(&body) == "APIGW.0101");
        assert!(
            !unrouted,
            "{name}: {method} {template} is not routed ({status} {body})"
        );
    }
}

fn series(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn loopback(mut req: Request<Body>) -> Request<Body> {
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    req
}

async fn scrape(state: &AppState) -> String {
    let req = loopback(Request::get("/metrics").body(Body::empty()).unwrap());
    let (status, _, text) = call(state, req).await;
    assert_eq!(status, 200, "{text}");
    text
}

#[tokio::test]
async fn requests_are_counted_by_catalog_operation_never_by_raw_path() {
    let server = TestServer::start().await;
    let created =
        r#"dewstack_http_requests_total{service="kms",operation="CreateKey",status_class="2xx"}"#;
    let refused = r#"dewstack_auth_failures_total{service="kms",reason="signature_mismatch"}"#;
    let login = r#"dewstack_auth_failures_total{service="iam",reason="wrong_password"}"#;
    let unknown =
        r#"dewstack_http_requests_total{service="none",operation="unknown",status_class="4xx"}"#;
    // A refused call is labelled too: by `server::gate` on a service's
    // route, by `ops::operations::label` on IAM's.
    let refused_call =
        r#"dewstack_http_requests_total{service="kms",operation="ListKeys",status_class="4xx"}"#;
    let refused_login = r#"dewstack_http_requests_total{service="iam",operation="KeystoneCreateUserTokenByPassword",status_class="4xx"}"#;
    let before = scrape(&server.state).await;
    let (status, _) = server
        .kms("create-key", json!({"key_alias": "metered"}))
        .await;
    assert_eq!(status, 200);
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
    let (status, _) = server
        .send(
            Request::get("/no/such/secret-path-xyz")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, 404);
    let wrong = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "password": "not-it", "domain": {"id": DOMAIN}}}}}});
    let req = Request::post("/v3/auth/tokens")
        .body(Body::from(wrong.to_string()))
        .unwrap();
    assert_eq!(server.send(req).await.0, 401);
    let after = scrape(&server.state).await;
    for s in [
        created,
        refused,
        unknown,
        login,
        refused_call,
        refused_login,
    ] {
        assert!(
            series(&after, s) >= series(&before, s) + 1.0,
            "{s} did not move"
        );
    }
    assert!(
        !after.contains("secret-path-xyz"),
        "a raw path became a label"
    );
}

#[tokio::test]
async fn metrics_answer_loopback_peers_or_the_token_only() {
    let server = TestServer::start().await;
    let get = || Request::get("/metrics").body(Body::empty()).unwrap();
    let (status, body, _) = call(&server.state, get()).await;
    assert_eq!((status, code(&body)), (403, "APIGW.0402"), "no peer known");
    let mut state = server.state.clone();
    state.ops = Arc::new(dewstack::ops::Settings {
        metrics_token: Some("scrape-token-1".to_owned().into()),
        ..Default::default()
    });
    let (status, body, _) = call(&state, loopback(get())).await;
    assert_eq!(
        (status, code(&body)),
        (401, "APIGW.0305"),
        "token set: loopback needs it too"
    );
    let mut req = get();
    req.headers_mut()
        .insert("authorization", "Bearer scrape-token-1".parse().unwrap());
    let (status, _, text) = call(&state, req).await;
    assert_eq!(status, 200);
    assert!(text.contains("dewstack_build_info"), "{text}");
}

#[tokio::test]
async fn health_and_ready_answer_without_credentials() {
    let server = TestServer::start().await;
    let (status, body, _) = call(
        &server.state,
        Request::get("/health").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body, _) = call(
        &server.state,
        Request::get("/ready").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
    assert_eq!(body["storage"], "sqlite");
}

/// The test server's state on a dev clock, and a signer dated by real time.
fn on_dev_clock(server: &TestServer) -> (AppState, Arc<OffsetClock>, FixedClock) {
    let dev = Arc::new(OffsetClock::default());
    let mut state = server.state.clone();
    state.clock = dev.clone();
    state.ops = Arc::new(dewstack::ops::Settings {
        dev_clock: Some(dev.clone()),
        ..Default::default()
    });
    let signer = FixedClock::new(dev.wall());
    (state, dev, signer)
}

fn clock_call(signer: &FixedClock, method: &str, body: &str, ak: &str, sk: &str) -> Request<Body> {
    signed(signer, method, "/_dewstack/clock", body, ak, sk)
}

#[tokio::test]
async fn the_dev_clock_is_refused_when_off_and_to_anyone_but_root() {
    let server = TestServer::start().await;
    let signer = FixedClock::new(OffsetClock::default().wall());
    let mut state = server.state.clone();
    state.clock = Arc::new(signer.clone());
    let advance = r#"{"advance":"8d"}"#;
    let (status, body, _) = call(&state, clock_call(&signer, "POST", advance, AK, SK)).await;
    assert_eq!((status, code(&body)), (403, "APIGW.0306"), "{body}");
    assert!(body["error"]["error_msg"]
        .as_str()
        .unwrap()
        .contains("--dev-clock"));

    let (state, dev, signer) = on_dev_clock(&server);
    let (status, body, _) = call(
        &state,
        clock_call(&signer, "POST", advance, OTHER_AK, OTHER_SK),
    )
    .await;
    assert_eq!((status, code(&body)), (403, "APIGW.0302"), "{body}");
    let unsigned = Request::post("/_dewstack/clock")
        .body(Body::from(advance))
        .unwrap();
    let (status, body, _) = call(&state, unsigned).await;
    assert_eq!((status, code(&body)), (401, "APIGW.0301"));
    for bad in [
        r#"{"advance":"eight days"}"#,
        r#"{"advance":"-8d"}"#,
        r#"{"back":"1d"}"#,
        "[]",
    ] {
        let (status, body, _) = call(&state, clock_call(&signer, "POST", bad, AK, SK)).await;
        assert_eq!((status, code(&body)), (400, "APIGW.0201"), "{bad}: {body}");
    }
    assert_eq!(
        dev.offset(),
        chrono::Duration::zero(),
        "refused calls moved the clock"
    );
}

#[tokio::test]
async fn a_key_scheduled_for_deletion_in_7_days_is_gone_after_an_8_day_jump() {
    let server = TestServer::start().await;
    let (state, dev, signer) = on_dev_clock(&server);
    let kms = |op: &str, body: serde_json::Value| {
        let path = format!("/v1.0/{PROJECT}/kms/{op}");
        signed(&signer, "POST", &path, &body.to_string(), AK, SK)
    };
    let (status, created, _) =
        call(&state, kms("create-key", json!({"key_alias": "doomed"}))).await;
    assert_eq!(status, 200, "{created}");
    let key_id = created["key_info"]["key_id"].as_str().unwrap().to_owned();
    let schedule = json!({"key_id": key_id, "pending_days": "7"});
    let (status, body, _) = call(&state, kms("schedule-key-deletion", schedule)).await;
    assert_eq!(status, 200, "{body}");

    let (status, body, _) = call(
        &state,
        clock_call(&signer, "POST", r#"{"advance":"6d"}"#, AK, SK),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ran"]["kms_keys_deleted"], 0);
    let (status, body, _) = call(
        &state,
        clock_call(&signer, "POST", r#"{"advance":"2d"}"#, AK, SK),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ran"]["kms_keys_deleted"], 1);
    assert_eq!(body["offset_seconds"], 8 * 86_400);
    assert_eq!(dev.offset(), chrono::Duration::days(8));

    // Signed by a client clock that did not move: still accepted.
    let (status, body, _) = call(&state, kms("describe-key", json!({"key_id": key_id}))).await;
    assert_eq!((status, code(&body)), (404, "KMS.0207"), "{body}");
    let (status, body, _) = call(&state, clock_call(&signer, "GET", "", AK, SK)).await;
    assert_eq!(
        (status, body["offset_seconds"].as_i64()),
        (200, Some(8 * 86_400))
    );
    let now = chrono::DateTime::parse_from_rfc3339(body["now"].as_str().unwrap()).unwrap();
    assert!(now.to_utc() - dev.wall() > chrono::Duration::days(8) - chrono::Duration::minutes(1));
}
