//! Signed requests for the benchmark: SDK-HMAC-SHA256 through
//! `dewstack::auth::sig`, sent with reqwest.

use super::{AnyResult, Creds};
use dewstack::auth::sig::{self, AuthorizationHeader, SignedRequest};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;

/// Headers of an SDK-HMAC-SHA256 signed JSON POST.
pub fn signed_headers(
    creds: &Creds,
    host: &str,
    path: &str,
    body: &[u8],
) -> AnyResult<Vec<(String, String)>> {
    let date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut h: HashMap<String, String> = HashMap::new();
    h.insert(
        "content-type".into(),
        "application/json;charset=utf-8".into(),
    );
    h.insert("host".into(), host.into());
    h.insert("x-sdk-date".into(), date.clone());
    h.insert("x-project-id".into(), creds.project.clone());
    let mut names: Vec<String> = h.keys().cloned().collect();
    names.sort();
    let auth = AuthorizationHeader {
        algorithm: sig::Algorithm::HmacSha256,
        access_key: creds.ak.clone(),
        scope: None,
        signed_headers: names.clone(),
        signature: String::new(),
    };
    let lookup = |name: &str| h.get(name).cloned();
    let req = SignedRequest {
        method: "POST",
        raw_path: path,
        raw_query: None,
        header: &lookup,
        body,
    };
    let canonical = sig::canonical_request(&req, &auth).map_err(|e| e.to_string())?;
    let to_sign = sig::string_to_sign(&auth, &date, &canonical);
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(creds.sk.as_bytes())?;
    mac.update(to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let mut out: Vec<(String, String)> = h.into_iter().filter(|(k, _)| k != "host").collect();
    out.push((
        "authorization".into(),
        format!(
            "SDK-HMAC-SHA256 Access={}, SignedHeaders={}, Signature={signature}",
            creds.ak,
            names.join(";")
        ),
    ));
    Ok(out)
}

pub async fn post(
    client: &reqwest::Client,
    creds: &Creds,
    endpoint: &str,
    path: &str,
    body: &[u8],
) -> AnyResult<(u16, Vec<u8>)> {
    let host = endpoint.trim_start_matches("http://");
    let headers = signed_headers(creds, host, path, body)?;
    send(client, endpoint, path, body, &headers).await
}

pub async fn send(
    client: &reqwest::Client,
    endpoint: &str,
    path: &str,
    body: &[u8],
    headers: &[(String, String)],
) -> AnyResult<(u16, Vec<u8>)> {
    let mut rb = client.post(format!("{endpoint}{path}")).body(body.to_vec());
    for (k, v) in headers {
        rb = rb.header(k, v);
    }
    let resp = rb.send().await?;
    let status = resp.status().as_u16();
    Ok((status, resp.bytes().await?.to_vec()))
}
