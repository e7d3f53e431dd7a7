//! Prepares `bench/run`: makes the keys and the secret the hot paths use on a
//! running dewstack, then writes every benchmarked request, already signed
//! (SDK-HMAC-SHA256 through `dewstack::auth::sig::sign`), as a Lua table that
//! `bench/replay.lua` hands to wrk. A signature stays valid for 15 minutes, so
//! the load generator does no crypto of its own.
//!
//! Each path is sent once here and must answer 2xx; the size of that answer
//! goes to `sizes.tsv` (method, path, bytes) for the bare server, which
//! answers each path with a body as large.
//!
//! Environment: BENCH_ENDPOINT (http://127.0.0.1:port), BENCH_OUT (a
//! directory), BENCH_PATHS (comma-separated names, default all), BENCH_WRITES
//! (distinct requests per create path, default 40000).

use dewstack::auth::sig;
use dewstack::clock::{Clock, SystemClock};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::Duration;

type AnyResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub const AK: &str = "BENCHAKBENCHAKBENCH1";
pub const SK: &str = "benchSecretKeybenchSecretKeybenchSecret1";
pub const PROJECT: &str = "b0000000000000000000000000000001";

struct Req {
    method: &'static str,
    path: String,
    body: Vec<u8>,
}

fn signed(host: &str, req: &Req) -> AnyResult<Vec<(String, String)>> {
    let date = SystemClock.now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), host.into()),
        ("x-project-id".into(), PROJECT.into()),
        ("x-sdk-date".into(), date),
    ];
    if !req.body.is_empty() {
        headers.push((
            "content-type".into(),
            "application/json;charset=utf-8".into(),
        ));
    }
    let authorization = sig::sign(
        &sig::Outgoing {
            method: req.method,
            raw_path: &req.path,
            raw_query: None,
            headers: &headers,
            body: &req.body,
        },
        AK,
        SK,
    )
    .map_err(|e| e.to_string())?;
    headers.push(("authorization".into(), authorization));
    Ok(headers)
}

struct Client {
    http: reqwest::Client,
    endpoint: String,
    host: String,
}

impl Client {
    async fn send(&self, req: &Req) -> AnyResult<(u16, Vec<u8>)> {
        let method = reqwest::Method::from_bytes(req.method.as_bytes())?;
        let mut rb = self
            .http
            .request(method, format!("{}{}", self.endpoint, req.path))
            .body(req.body.clone());
        for (k, v) in signed(&self.host, req)? {
            if k != "host" {
                rb = rb.header(k, v);
            }
        }
        let resp = rb.send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.bytes().await?.to_vec()))
    }

    /// Sends `req` and returns its JSON answer; anything but 2xx is an error.
    async fn call(&self, req: &Req) -> AnyResult<Value> {
        let (status, body) = self.send(req).await?;
        if !(200..300).contains(&status) {
            return Err(format!(
                "{} {} answered {status}: {}",
                req.method,
                req.path,
                String::from_utf8_lossy(&body)
            )
            .into());
        }
        Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

fn post(path: String, body: Value) -> Req {
    Req {
        method: "POST",
        path,
        body: body.to_string().into_bytes(),
    }
}

fn kms(op: &str) -> String {
    format!("/v1.0/{PROJECT}/kms/{op}")
}

fn csms(rest: &str) -> String {
    format!("/v1/{PROJECT}/{rest}")
}

/// One Lua long string; the bodies are JSON and never contain `]==]`.
fn lua_str(s: &str) -> String {
    format!("[==[{s}]==]")
}

fn lua_table(host: &str, reqs: &[Req]) -> AnyResult<String> {
    let mut out = String::from("return {\n");
    for req in reqs {
        let headers = signed(host, req)?;
        let _ = write!(
            out,
            "{{method={},path={},body={},headers={{",
            lua_str(req.method),
            lua_str(&req.path),
            lua_str(std::str::from_utf8(&req.body)?)
        );
        for (k, v) in headers {
            // wrk keeps its own Host unless the table names it "Host".
            let k = if k == "host" { "Host".to_owned() } else { k };
            let _ = write!(out, "[ {} ]={},", lua_str(&k), lua_str(&v));
        }
        out.push_str("}},\n");
    }
    out.push_str("}\n");
    Ok(out)
}

async fn create_key(c: &Client, alias: &str, spec: &str, usage: &str) -> AnyResult<String> {
    let v = c
        .call(&post(
            kms("create-key"),
            json!({"key_alias": alias, "key_spec": spec, "key_usage": usage}),
        ))
        .await?;
    Ok(v["key_info"]["key_id"]
        .as_str()
        .ok_or("create-key: no key_id")?
        .to_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> AnyResult<()> {
    let endpoint = std::env::var("BENCH_ENDPOINT")?;
    let endpoint = endpoint.trim_end_matches('/').to_owned();
    let out = std::path::PathBuf::from(std::env::var("BENCH_OUT")?);
    let writes: usize = std::env::var("BENCH_WRITES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40_000);
    let wanted: Option<Vec<String>> = std::env::var("BENCH_PATHS")
        .ok()
        .filter(|s| !s.is_empty())
        .map(|s| s.split(',').map(str::to_owned).collect());
    // Names start with this: two nodes of one database each get their own
    // keys and secret (an alias or a secret name exists once per project).
    let names = std::env::var("BENCH_NAMES").unwrap_or_else(|_| "bench".to_owned());
    let secret = format!("{names}-secret");
    let c = Client {
        http: reqwest::Client::new(),
        host: endpoint.trim_start_matches("http://").to_owned(),
        endpoint,
    };
    // The server may still be starting.
    let mut aes = None;
    for _ in 0..100 {
        match create_key(&c, &format!("{names}-aes"), "AES_256", "ENCRYPT_DECRYPT").await {
            Ok(id) => {
                aes = Some(id);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let aes = aes.ok_or("dewstack did not answer create-key")?;
    let ec = create_key(&c, &format!("{names}-ec"), "EC_P256", "SIGN_VERIFY").await?;
    let hmac = create_key(
        &c,
        &format!("{names}-hmac"),
        "HMAC_256",
        "GENERATE_VERIFY_MAC",
    )
    .await?;
    c.call(&post(
        csms("secrets"),
        json!({"name": secret, "secret_string": "s".repeat(64)}),
    ))
    .await?;
    let plain = "x".repeat(1024);
    let enc = c
        .call(&post(
            kms("encrypt-data"),
            json!({"key_id": aes, "plain_text": plain}),
        ))
        .await?;
    let cipher = enc["cipher_text"].as_str().ok_or("no cipher_text")?;
    let msg = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 32]);
    let tag_path = kms(&format!("{aes}/tags/action"));

    // (name, requests): every request of a path goes to the same URL.
    let mut paths: Vec<(&str, Vec<Req>)> = vec![
        (
            "EncryptData",
            vec![post(
                kms("encrypt-data"),
                json!({"key_id": aes, "plain_text": plain}),
            )],
        ),
        (
            "DecryptData",
            vec![post(kms("decrypt-data"), json!({"cipher_text": cipher}))],
        ),
        (
            "DescribeKey",
            vec![post(kms("describe-key"), json!({"key_id": aes}))],
        ),
        (
            "ShowSecretVersion",
            vec![Req {
                method: "GET",
                path: csms(&format!("secrets/{secret}/versions/latest")),
                body: Vec::new(),
            }],
        ),
        (
            // First pages (bench/scale): the default filter (AES_256 keys).
            "ListKeys",
            vec![post(kms("list-keys"), json!({"limit": "10"}))],
        ),
        (
            "ListSecrets",
            vec![Req {
                method: "GET",
                path: csms("secrets"),
                body: Vec::new(),
            }],
        ),
        (
            "Sign",
            vec![post(
                kms("sign"),
                json!({"key_id": ec, "message": msg, "signing_algorithm": "ECDSA_SHA_256", "message_type": "DIGEST"}),
            )],
        ),
        (
            "GenerateMac",
            vec![post(
                kms("generate-mac"),
                json!({"key_id": hmac, "mac_algorithm": "HMAC_SHA_256", "message": msg}),
            )],
        ),
        (
            "CreateDatakey",
            vec![post(
                kms("create-datakey"),
                json!({"key_id": aes, "datakey_length": "256"}),
            )],
        ),
        (
            "BatchCreateKmsTags",
            vec![post(
                tag_path,
                json!({"action": "create", "tags": [{"key": "bench", "value": "v"}]}),
            )],
        ),
        (
            "PutSecret",
            vec![post(
                csms(&format!("secrets/{secret}/versions")),
                json!({"secret_string": "p".repeat(64)}),
            )],
        ),
        (
            "CreateKey",
            (0..writes)
                .map(|i| {
                    post(
                        kms("create-key"),
                        json!({"key_alias": format!("{names}-{i}"), "key_spec": "AES_256"}),
                    )
                })
                .collect(),
        ),
        (
            "CreateSecret",
            (0..writes)
                .map(|i| {
                    post(
                        csms("secrets"),
                        json!({"name": format!("{names}-{i}"), "secret_string": "s".repeat(64)}),
                    )
                })
                .collect(),
        ),
    ];
    match &wanted {
        Some(w) => paths.retain(|(name, _)| w.iter().any(|x| x == name)),
        // The first pages are bench/scale's, not bench/run's.
        None => paths.retain(|(name, _)| !name.starts_with("List")),
    }
    let mut sizes = String::new();
    let mut names = String::new();
    for (name, reqs) in &mut paths {
        // The check request is sent here, so a create path replays only the others.
        let first = reqs.remove(0);
        let (status, body) = c.send(&first).await?;
        if !(200..300).contains(&status) {
            return Err(format!(
                "{name}: {} {} answered {status}: {}",
                first.method,
                first.path,
                String::from_utf8_lossy(&body)
            )
            .into());
        }
        if reqs.is_empty() {
            reqs.push(first);
        } else {
            // Replays hit the same URL; the bare server answers by URL.
            debug_assert!(reqs.iter().all(|r| r.path == reqs[0].path));
        }
        let _ = writeln!(
            sizes,
            "{}\t{}\t{}",
            reqs[0].method,
            reqs[0].path,
            body.len()
        );
        let _ = writeln!(names, "{name}\t{}", reqs.len());
        std::fs::write(out.join(format!("{name}.lua")), lua_table(&c.host, reqs)?)?;
    }
    std::fs::write(out.join("sizes.tsv"), sizes)?;
    std::fs::write(out.join("paths.tsv"), names)?;
    Ok(())
}
