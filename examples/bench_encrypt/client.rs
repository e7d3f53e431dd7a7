//! Signed requests for the benchmark: SDK-HMAC-SHA256 through
//! `dewstack::auth::sig::sign`, sent with reqwest.

use super::{AnyResult, Creds};
use dewstack::auth::sig;
use dewstack::clock::{Clock, SystemClock};

/// Headers of an SDK-HMAC-SHA256 signed JSON POST (without `host`, which
/// reqwest sets to the same value).
pub fn signed_headers(
    creds: &Creds,
    host: &str,
    path: &str,
    body: &[u8],
) -> AnyResult<Vec<(String, String)>> {
    // The benchmark talks to a real server, which checks the date against its clock.
    let date = SystemClock.now().format("%Y%m%dT%H%M%SZ").to_string();
    let headers: Vec<(String, String)> = vec![
        (
            "content-type".into(),
            "application/json;charset=utf-8".into(),
        ),
        ("host".into(), host.into()),
        ("x-project-id".into(), creds.project.clone()),
        ("x-sdk-date".into(), date),
    ];
    let authorization = sig::sign(
        &sig::Outgoing {
            method: "POST",
            raw_path: path,
            raw_query: None,
            headers: &headers,
            body,
        },
        &creds.ak,
        &creds.sk,
    )
    .map_err(|e| e.to_string())?;
    let mut out: Vec<(String, String)> = headers.into_iter().filter(|(k, _)| k != "host").collect();
    out.push(("authorization".into(), authorization));
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
