//! HTTPS: a client that trusts only the generated CA reaches the API over
//! TLS, next to plain HTTP on a second port, and TLS connections are held to
//! the same connection limits as plain ones.

mod common;

use common::{signed, TestServer, AK, PROJECT, SK};
use dewstack::clock::{Clock, SystemClock};
use dewstack::config::Limits;
use dewstack::server::listen::{run_all, Listener};
use dewstack::server::tls;
use http_body_util::BodyExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

struct Both {
    server: TestServer,
    http: SocketAddr,
    https: SocketAddr,
    ca: std::path::PathBuf,
    _stop: tokio::sync::watch::Sender<bool>,
}

/// The test server's state behind a plain and a TLS listener, with the
/// certificate dewstack generates in its data dir.
async fn both(limits: Limits) -> Both {
    let mut server = TestServer::start().await;
    server.state.limits = limits;
    let names = tls::server_names(&["127.0.0.1".into()]);
    let t = tls::load(None, server.dir.path(), &names, SystemClock.now()).unwrap();
    let (plain, secure) = (
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    );
    let (http, https) = (plain.local_addr().unwrap(), secure.local_addr().unwrap());
    let listeners = vec![
        Listener {
            tcp: plain,
            tls: None,
        },
        Listener {
            tcp: secure,
            tls: Some(t.acceptor),
        },
    ];
    let (tx, rx) = tokio::sync::watch::channel(false);
    let app = dewstack::app(server.state.clone());
    tokio::spawn(run_all(listeners, app, limits, rx));
    Both {
        server,
        http,
        https,
        ca: t.ca_file.unwrap(),
        _stop: tx,
    }
}

fn connector(ca: &std::path::Path) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

async fn tls_connect(b: &Both, name: &str) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(b.https).await.unwrap();
    let name = ServerName::try_from(name.to_owned()).unwrap();
    connector(&b.ca).connect(name, tcp).await.unwrap()
}

#[tokio::test]
async fn signed_calls_over_https_trusting_only_the_generated_ca() {
    let b = both(Limits::default()).await;
    // The certificate covers the loopback names and addresses.
    for name in ["localhost", "127.0.0.1", "::1"] {
        let stream = tls_connect(&b, name).await;
        let (mut send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        let path = format!("/v1.0/{PROJECT}/kms/list-keys");
        let req = signed(&b.server.clock, "POST", &path, "{}", AK, SK);
        let resp = send.send_request(req).await.unwrap();
        assert_eq!(resp.status(), 200, "{name}");
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(json["key_details"].is_array(), "{json}");
    }
    // A name the certificate does not carry is refused by the client.
    let tcp = TcpStream::connect(b.https).await.unwrap();
    let other = ServerName::try_from("example.com").unwrap();
    assert!(connector(&b.ca).connect(other, tcp).await.is_err());
    // Plain HTTP on the other port at the same time.
    let mut plain = TcpStream::connect(b.http).await.unwrap();
    plain
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut got = String::new();
    plain.read_to_string(&mut got).await.unwrap();
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
}

#[tokio::test]
async fn a_client_that_never_finishes_the_handshake_is_dropped() {
    let limits = Limits {
        header_read_timeout_secs: 1,
        ..Limits::default()
    };
    let b = both(limits).await;
    let mut silent = TcpStream::connect(b.https).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(4), silent.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "still open: {read:?}"
    );
}

#[tokio::test]
async fn https_connections_count_against_max_connections() {
    let limits = Limits {
        max_connections: 1,
        ..Limits::default()
    };
    let b = both(limits).await;
    let held = tls_connect(&b, "localhost").await;
    // The one slot is taken by the TLS connection: plain HTTP waits.
    let mut plain = TcpStream::connect(b.http).await.unwrap();
    plain
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), plain.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "answered while the only slot was held: {early:?}"
    );
    drop(held);
    let n = tokio::time::timeout(Duration::from_secs(5), plain.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
}
