//! Limits that hold before authentication: header, idle and body timeouts,
//! the connection cap, and refusing a body by its headers alone.

mod common;

use common::{code, signed, TestServer, AK, PROJECT, SK};
use dewstack::config::Limits;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A real listener over the test server's state, with `limits`.
async fn listen(
    limits: Limits,
) -> (
    TestServer,
    std::net::SocketAddr,
    tokio::sync::watch::Sender<bool>,
) {
    let mut server = TestServer::start().await;
    server.state.limits = limits;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let app = dewstack::app(server.state.clone());
    tokio::spawn(dewstack::server::listen::run(listener, app, limits, rx));
    (server, addr, tx)
}

/// Reads until the peer closes (Ok) or `within` passes (Err: still open).
async fn closed_within(s: &mut TcpStream, within: Duration) -> Result<Vec<u8>, ()> {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    match tokio::time::timeout(within, read).await {
        Ok(()) => Ok(got),
        Err(_) => Err(()),
    }
}

/// Reads one response head (up to the blank line).
async fn read_head(s: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.ok()?;
    (!got.is_empty()).then(|| String::from_utf8_lossy(&got).into_owned())
}

const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: dewstack.test\r\n\r\n";

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let limits = Limits {
        header_read_timeout_secs: 1,
        ..Limits::default()
    };
    let (_server, addr, _stop) = listen(limits).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: dew")
        .await
        .unwrap();
    assert!(
        closed_within(&mut s, Duration::from_secs(4)).await.is_ok(),
        "a client that never finishes its headers keeps its connection"
    );
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let limits = Limits {
        idle_timeout_secs: 1,
        ..Limits::default()
    };
    let (_server, addr, _stop) = listen(limits).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(HEALTH).await.unwrap();
    let head = read_head(&mut s, Duration::from_secs(2)).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        closed_within(&mut s, Duration::from_secs(4)).await.is_ok(),
        "an idle keep-alive connection stays open"
    );
}

/// A keep-alive connection (header timeout 1 s, idle 30 s) that has had one
/// request answered.
async fn answered_once_with_header_timeout_1s(
) -> (TestServer, tokio::sync::watch::Sender<bool>, TcpStream) {
    let limits = Limits {
        header_read_timeout_secs: 1,
        idle_timeout_secs: 30,
        ..Limits::default()
    };
    let (server, addr, stop) = listen(limits).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(HEALTH).await.unwrap();
    let head = read_head(&mut s, Duration::from_secs(2)).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    (server, stop, s)
}

/// A client that reuses a keep-alive connection after a pause longer than the
/// header timeout must find it open: closing it then races the client's next
/// request (the Terraform provider polls every 10 s, the default timeout).
#[tokio::test]
async fn a_quiet_keep_alive_connection_outlives_the_header_timeout() {
    let (_server, _stop, mut s) = answered_once_with_header_timeout_1s().await;
    assert!(
        closed_within(&mut s, Duration::from_millis(2500))
            .await
            .is_err(),
        "a keep-alive connection was closed by the header timeout while quiet"
    );
    s.write_all(HEALTH).await.unwrap();
    let head = read_head(&mut s, Duration::from_secs(2)).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

/// The header timeout still holds for the second request on a connection:
/// its clock starts with that request's first byte.
#[tokio::test]
async fn slow_headers_of_a_later_request_are_cut_off() {
    let (_server, _stop, mut s) = answered_once_with_header_timeout_1s().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    s.write_all(b"GET /health HTTP/1.1\r\nHost: dew")
        .await
        .unwrap();
    assert!(
        closed_within(&mut s, Duration::from_secs(4)).await.is_ok(),
        "a client that never finishes its second request keeps its connection"
    );
}

#[tokio::test]
async fn a_stalled_body_is_cut_off() {
    let limits = Limits {
        body_read_timeout_secs: 1,
        ..Limits::default()
    };
    let (server, addr, _stop) = listen(limits).await;
    // A correctly signed request whose body stops after 10 of 100 bytes.
    let path = format!("/v1.0/{PROJECT}/kms/list-keys");
    let req = signed(&server.clock, "POST", &path, &"x".repeat(100), AK, SK);
    let mut head = format!("POST {path} HTTP/1.1\r\n");
    for (k, v) in req.headers() {
        head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    head.push_str("content-length: 100\r\n\r\nxxxxxxxxxx");
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let answer = closed_within(&mut s, Duration::from_secs(4))
        .await
        .expect("a stalled body keeps the request waiting");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error_code\":\"APIGW.0201\""), "{answer}");
}

#[tokio::test]
async fn connections_above_the_limit_wait() {
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let (_server, addr, _stop) = listen(limits).await;
    let first = TcpStream::connect(addr).await.unwrap();
    let mut second = TcpStream::connect(addr).await.unwrap();
    second.write_all(HEALTH).await.unwrap();
    assert!(read_head(&mut second, Duration::from_secs(2))
        .await
        .is_some());
    let mut third = TcpStream::connect(addr).await.unwrap();
    third.write_all(HEALTH).await.unwrap();
    assert!(
        read_head(&mut third, Duration::from_millis(700))
            .await
            .is_none(),
        "connection 3 is served while 2 are open"
    );
    drop(first);
    let head = read_head(&mut third, Duration::from_secs(3))
        .await
        .expect("connection 3 is served once one closes");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

#[tokio::test]
async fn an_unauthenticated_large_body_is_refused_unread() {
    let (_server, addr, _stop) = listen(Limits::default()).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let len = 12 * 1024 * 1024;
    let head = format!(
        "POST /v1.0/{PROJECT}/kms/list-keys HTTP/1.1\r\nHost: dewstack.test\r\n\
         content-type: application/json\r\ncontent-length: {len}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&[b' '; 64 * 1024]).await.unwrap();
    // 64 KiB of 12 MiB sent: the answer must already be there.
    let head = read_head(&mut s, Duration::from_secs(3))
        .await
        .expect("the server waits for the body of an unauthenticated request");
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
}

#[tokio::test]
async fn a_declared_oversize_body_is_refused_before_reading() {
    let (_server, addr, _stop) = listen(Limits::default()).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/{PROJECT}/secrets HTTP/1.1\r\nHost: dewstack.test\r\n\
         authorization: SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;x-sdk-date, Signature=00\r\n\
         x-sdk-date: 20231114T221320Z\r\ncontent-length: {}\r\n\r\n",
        12 * 1024 * 1024 + 1
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let head = read_head(&mut s, Duration::from_secs(3)).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
}

/// Oversize signed bodies get 413 from the "gateway", in its flat body
/// whatever the service (as the cloud's APIGW answers; before the flat
/// gateway envelope this test expected each service's nested one).
#[tokio::test]
async fn oversize_signed_bodies_get_413_in_the_gateway_envelope() {
    let mut server = TestServer::start().await;
    server.state.limits.max_body_bytes = 1024;
    let body = format!("{{\"name\":\"{}\"}}", "a".repeat(2000));
    let cases = [
        format!("/v1.0/{PROJECT}/kms/create-key"),
        format!("/v1/{PROJECT}/secrets"),
        format!("/v1/{PROJECT}/vpc-endpoint-services"),
    ];
    for path in cases {
        let req = signed(&server.clock, "POST", &path, &body, AK, SK);
        let (status, json) = server.send(req).await;
        assert_eq!(status, 413, "{path}: {json}");
        assert_eq!(json["error_code"], "APIGW.0201", "{path}: {json}");
        assert!(
            json["error_msg"].is_string() && json.get("error").is_none(),
            "{json}"
        );
    }
    // Within the limit, the same route works.
    let (status, json) = server.kms("list-keys", serde_json::json!({})).await;
    assert_eq!(status, 200, "{json}");
    let _ = code(&json);
}

/// `POST /v3/auth/tokens` is unauthenticated: its body has a small bound of
/// its own (a password login is a few hundred bytes) and the body timeout.
#[tokio::test]
async fn a_login_body_is_bounded_and_timed() {
    let limits = Limits {
        body_read_timeout_secs: 1,
        ..Limits::default()
    };
    let (_server, addr, _stop) = listen(limits).await;
    let login = |len: usize| {
        format!(
            "POST /v3/auth/tokens HTTP/1.1\r\nHost: dewstack.test\r\n\
             content-type: application/json\r\ncontent-length: {len}\r\n\r\n"
        )
    };
    let mut big = TcpStream::connect(addr).await.unwrap();
    big.write_all(login(1024 * 1024).as_bytes()).await.unwrap();
    big.write_all(&[b' '; 128 * 1024]).await.unwrap();
    let head = read_head(&mut big, Duration::from_secs(3))
        .await
        .expect("the server keeps reading a 1 MiB login body");
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");

    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(login(100).as_bytes()).await.unwrap();
    slow.write_all(b"{\"auth\":").await.unwrap();
    let answer = closed_within(&mut slow, Duration::from_secs(4))
        .await
        .expect("a stalled login body keeps the request waiting");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}
