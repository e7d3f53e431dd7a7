//! Helpers for tests that run real `dewstack` processes on one PostgreSQL
//! database: a throw-away database, a node launcher and an SDK-HMAC-SHA256
//! signing client (the same algorithm as the official SDKs, built from the
//! crate's public canonical-request functions).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use dewstack::auth::sig;
use dewstack::clock::{Clock, SystemClock};
use dewstack::rng::Rng;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The base URL from `scripts/with-postgres.sh`, or `None` after printing why
/// the test is skipped (a failure instead when the run promised PostgreSQL).
pub fn pg_base_url(test: &str) -> Option<String> {
    dewstack::testing::postgres_url(test)
}

/// Creates a new empty database and returns its URL. Blocking.
pub fn fresh_database(base: &str) -> String {
    dewstack::testing::create_database(base)
}

/// The identity and root key every node of one test shares.
#[derive(Clone)]
pub struct Cluster {
    pub database_url: String,
    pub access_key: String,
    pub secret_key: String,
    pub domain_id: String,
    pub project_id: String,
    pub password: String,
    pub root_key_b64: String,
    pub config_file: Option<PathBuf>,
}

impl Cluster {
    pub fn new(database_url: String) -> Self {
        // Each test has a database of its own, so a fixed seed is enough.
        let rng = Rng::seeded(0x5eed);
        let alnum = |n: usize| -> String {
            (0..n)
                .map(|_| {
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[rng.in_range(0..36) as usize] as char
                })
                .collect()
        };
        Self {
            database_url,
            access_key: alnum(20),
            secret_key: alnum(40),
            domain_id: rng.uuid().simple().to_string(),
            project_id: rng.uuid().simple().to_string(),
            password: alnum(24),
            root_key_b64: base64::engine::general_purpose::STANDARD.encode(rng.array::<32>()),
            config_file: None,
        }
    }

    /// Starts one node (its own data directory) and waits until it serves.
    pub fn start_node(&self, name: &str) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("stderr.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dewstack"));
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--database-url")
            .arg(&self.database_url);
        if let Some(cfg) = &self.config_file {
            cmd.arg("--config").arg(cfg);
        }
        let mut child = cmd
            .env_remove("DEWSTACK_DATABASE_URL")
            .env_remove("DEWSTACK_CONFIG")
            .env("DEWSTACK_ACCESS_KEY", &self.access_key)
            .env("DEWSTACK_SECRET_KEY", &self.secret_key)
            .env("DEWSTACK_DOMAIN_ID", &self.domain_id)
            .env("DEWSTACK_PROJECT_ID", &self.project_id)
            .env("DEWSTACK_PASSWORD", &self.password)
            .env("DEWSTACK_ROOT_KEY", &self.root_key_b64)
            .env("DEWSTACK_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(ep) = line.strip_prefix("export DEWSTACK_ENDPOINT=") {
                        let _ = tx.send(ep.trim().to_owned());
                        sent = true;
                    }
                }
            }
        });
        let endpoint = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(ep) => ep,
            Err(_) => {
                let _ = child.kill();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("node {name} did not become ready:\n{log}");
            }
        };
        Node {
            name: name.to_owned(),
            endpoint,
            child,
            dir,
            api: Api::new(self),
        }
    }
}

pub struct Node {
    pub name: String,
    pub endpoint: String,
    child: Child,
    dir: tempfile::TempDir,
    api: Api,
}

impl Node {
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// An owned handle for spawned tasks: `(client, endpoint)`.
    pub fn handle(&self) -> (Api, String) {
        (self.api.clone(), self.endpoint.clone())
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A signed KMS call: `op` is the path after `/v1.0/{project}/kms/`.
    pub async fn kms(&self, method: &str, op: &str, body: Option<Value>) -> (u16, Value) {
        let path = format!("/v1.0/{}/kms/{op}", self.api.project_id);
        self.api.call(&self.endpoint, method, &path, body).await
    }

    /// The same, giving up after `limit` (a transport error is status 0).
    pub async fn kms_within(
        &self,
        limit: Duration,
        method: &str,
        op: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let path = format!("/v1.0/{}/kms/{op}", self.api.project_id);
        match tokio::time::timeout(
            limit,
            self.api.try_call(&self.endpoint, method, &path, body),
        )
        .await
        {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => (0, Value::String(e.to_string())),
            Err(_) => panic!(
                "{} {op} on {} took longer than {limit:?}",
                method, self.name
            ),
        }
    }

    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        unsafe_free_sigterm(&mut self.child);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// SIGTERM, then SIGKILL after 5 s.
fn unsafe_free_sigterm(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    access_key: String,
    secret_key: String,
    pub project_id: String,
}

impl Api {
    pub fn new(c: &Cluster) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            access_key: c.access_key.clone(),
            secret_key: c.secret_key.clone(),
            project_id: c.project_id.clone(),
        }
    }

    /// A signed KMS call: `op` is the path after `/v1.0/{project}/kms/`.
    pub async fn kms(
        &self,
        endpoint: &str,
        method: &str,
        op: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let path = format!("/v1.0/{}/kms/{op}", self.project_id);
        self.call(endpoint, method, &path, body).await
    }

    pub async fn call(
        &self,
        endpoint: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.try_call(endpoint, method, path, body).await.unwrap()
    }

    pub async fn try_call(
        &self,
        endpoint: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let url = reqwest::Url::parse(&format!("{endpoint}{path}")).unwrap();
        let body = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        let headers = self.sign(method, &url, &body);
        let mut req = self.client.request(method.parse().unwrap(), url).body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?;
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, value))
    }

    /// SDK-HMAC-SHA256 as in shared/api/SIGNING.md.
    fn sign(&self, method: &str, url: &reqwest::Url, body: &[u8]) -> Vec<(String, String)> {
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap()),
            None => url.host_str().unwrap().to_owned(),
        };
        let date = SystemClock.now().format("%Y%m%dT%H%M%SZ").to_string();
        let headers: Vec<(String, String)> = vec![
            (
                "content-type".into(),
                "application/json;charset=utf-8".into(),
            ),
            ("host".into(), host),
            ("x-project-id".into(), self.project_id.clone()),
            ("x-sdk-date".into(), date),
        ];
        let authorization = sig::sign(
            &sig::Outgoing {
                method,
                raw_path: url.path(),
                raw_query: url.query(),
                headers: &headers,
                body,
            },
            &self.access_key,
            &self.secret_key,
        )
        .unwrap();
        let mut out: Vec<(String, String)> =
            headers.into_iter().filter(|(k, _)| k != "host").collect();
        out.push(("authorization".into(), authorization));
        out
    }
}

/// Error code of a KMS error body (`{"error": {"error_code": ...}}`).
pub fn code(body: &Value) -> &str {
    body["error"]["error_code"].as_str().unwrap_or("")
}
