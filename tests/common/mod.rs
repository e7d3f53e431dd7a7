//! Test harness: an in-process dewstack (router + temp data dir + fixed clock,
//! built by `dewstack::testing`) and requests signed by `dewstack::auth::sig::sign`.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, Response};
use dewstack::auth::sig;
use dewstack::clock::FixedClock;
use dewstack::config::{Config, RootOverrides, ServeArgs};
use dewstack::AppState;
use std::sync::Arc;
use tower::ServiceExt;

pub const AK: &str = "TESTACCESSKEY0000001";
pub const SK: &str = "TestSecretKey0123456789abcdefghijklmnopq";
pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";
pub const DOMAIN: &str = "fedcba9876543210fedcba9876543210";
pub const OTHER_AK: &str = "OTHERACCESSKEY000001";
pub const OTHER_SK: &str = "OtherSecretKey0123456789abcdefghijklmnop";
pub const OTHER_PROJECT: &str = "11111111111111111111111111111111";

pub struct TestServer {
    pub state: AppState,
    pub clock: FixedClock,
    pub dir: tempfile::TempDir,
}

const OTHER_DOMAIN: &str = r#"
[[domains]]
id = "22222222222222222222222222222222"
name = "other"
  [[domains.projects]]
  id = "11111111111111111111111111111111"
  name = "cn-north-4"
  [[domains.users]]
  name = "olga"
  password = "olga-password"
  [[domains.access_keys]]
  access_key = "OTHERACCESSKEY000001"
  secret_key = "OtherSecretKey0123456789abcdefghijklmnop"
  user = "olga"
"#;

impl TestServer {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir).await
    }

    pub async fn start_in(dir: tempfile::TempDir) -> Self {
        Self::start_with(dir, "").await
    }

    /// `config` (TOML) goes before the second tenant's domain in the config file.
    pub async fn start_with(dir: tempfile::TempDir, config: &str) -> Self {
        let config_path = dir.path().join("dewstack.toml");
        std::fs::write(&config_path, format!("{config}\n{OTHER_DOMAIN}")).unwrap();
        let args = ServeArgs {
            config: Some(config_path),
            data_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        let root = RootOverrides {
            access_key: Some(AK.into()),
            secret_key: Some(SK.into()),
            domain_id: Some(DOMAIN.into()),
            project_id: Some(PROJECT.into()),
            user: Some("admin".into()),
            password: Some("admin-password".into()),
            root_key: None,
        };
        let config = Config::load(args, root).unwrap();
        let clock = FixedClock::new(dewstack::testing::fixed_time());
        let state =
            dewstack::testing::state_from_config(&config, Arc::new(clock.clone()), 0).unwrap();
        dewstack::kms::bootstrap(&state).await.unwrap();
        Self { state, clock, dir }
    }

    pub async fn send(&self, req: Request<Body>) -> (u16, serde_json::Value) {
        let resp: Response<Body> = dewstack::app(self.state.clone())
            .oneshot(req)
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let json = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, json)
    }

    /// A KMS call signed by the root access key.
    pub async fn kms(&self, op: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let path = format!("/v1.0/{PROJECT}/kms/{op}");
        self.send(signed(
            &self.clock,
            "POST",
            &path,
            &body.to_string(),
            AK,
            SK,
        ))
        .await
    }
}

/// Builds a request signed as the Python SDK signs it.
pub fn signed(
    clock: &FixedClock,
    method: &str,
    path_and_query: &str,
    body: &str,
    ak: &str,
    sk: &str,
) -> Request<Body> {
    use dewstack::clock::Clock;
    let date = clock.now().format("%Y%m%dT%H%M%SZ").to_string();
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let headers: Vec<(String, String)> = vec![
        (
            "content-type".into(),
            "application/json;charset=utf-8".into(),
        ),
        ("host".into(), "dewstack.test".into()),
        (
            "user-agent".into(),
            "huaweicloud-usdk-python/3.0; dewstack-tests".into(),
        ),
        ("x-sdk-date".into(), date),
    ];
    let authorization = sig::sign(
        &sig::Outgoing {
            method,
            raw_path: path,
            raw_query: query,
            headers: &headers,
            body: body.as_bytes(),
        },
        ak,
        sk,
    )
    // A path or query no SDK can sign (the signer refuses what the server
    // refuses) still goes out, with a signature that cannot match: the
    // server must answer it in its own envelope.
    .unwrap_or_else(|_| {
        format!(
            "SDK-HMAC-SHA256 Access={ak}, SignedHeaders=content-type;host;user-agent;x-sdk-date, Signature={}",
            "0".repeat(64)
        )
    });
    let mut builder = Request::builder().method(method).uri(path_and_query);
    for (k, v) in &headers {
        builder = builder.header(k, v);
    }
    builder
        .header("authorization", authorization)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// Where the SDKs look: the body itself (the API gateway's flat refusals),
/// then its `error` object (the services' own envelopes).
pub fn code(v: &serde_json::Value) -> &str {
    v["error_code"]
        .as_str()
        .or_else(|| v["error"]["error_code"].as_str())
        .unwrap_or("")
}
