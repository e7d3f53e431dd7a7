#![allow(clippy::unwrap_used)]
use super::*;
use crate::vpcep::domain::PortMapping;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn service(ip: Option<&str>, client: u16, server: u16) -> ServiceRecord {
    ServiceRecord {
        id: "s".into(),
        project_id: "p".into(),
        domain_id: "d".into(),
        name: String::new(),
        server_type: "VM".into(),
        service_type: "interface".into(),
        vpc_id: "v".into(),
        port_id: None,
        ip: ip.map(str::to_owned),
        ports: vec![PortMapping {
            client_port: client,
            server_port: server,
            protocol: "TCP".into(),
        }],
        approval_enabled: true,
        tcp_proxy: "close".into(),
        description: String::new(),
        pool_id: String::new(),
        tags: BTreeMap::new(),
        permissions: Vec::new(),
        server_resources: Vec::new(),
        professional: false,
        created_ms: 0,
        updated_ms: 0,
    }
}

fn endpoint(ip: &str, pool: &str, status: EndpointStatus) -> EndpointRecord {
    EndpointRecord {
        id: "e".into(),
        project_id: "p2".into(),
        domain_id: "d2".into(),
        service_id: "s".into(),
        service_project_id: "p".into(),
        service_name: String::new(),
        service_type: "interface".into(),
        vpc_id: "v".into(),
        subnet_id: Some("n".into()),
        ip: Some(ip.into()),
        pool: Some(pool.into()),
        marker_id: 1,
        status,
        description: String::new(),
        connection_description: String::new(),
        enable_dns: false,
        whitelist: Vec::new(),
        enable_whitelist: false,
        routetables: Vec::new(),
        policy_statement: None,
        policy_document: None,
        tags: BTreeMap::new(),
        professional: false,
        error: None,
        created_ms: 0,
        updated_ms: 0,
    }
}

#[test]
fn only_accepted_loopback_endpoints_forward() {
    let s = service(Some("127.0.0.1"), 8080, 9090);
    let e = endpoint("127.0.1.5", LOOPBACK, EndpointStatus::Accepted);
    let spec = desired(&e, Some(&s)).unwrap();
    assert_eq!(spec.listen, Ipv4Addr::new(127, 0, 1, 5));
    assert_eq!(spec.routes, vec![(8080, "127.0.0.1:9090".parse().unwrap())]);
    for status in [
        EndpointStatus::PendingAcceptance,
        EndpointStatus::Rejected,
        EndpointStatus::Failed,
    ] {
        assert!(desired(&endpoint("127.0.1.5", LOOPBACK, status), Some(&s)).is_none());
    }
    let remote = service(Some("10.0.0.8"), 8080, 9090);
    assert!(desired(&e, Some(&remote)).is_none());
    assert!(desired(&e, None).is_none());
    let subnet = endpoint("192.168.0.2", "subnet:n", EndpointStatus::Accepted);
    assert!(desired(&subnet, Some(&s)).is_none());
}

async fn echo_backend() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut c, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                while let Ok(n) = c.read(&mut buf).await {
                    if n == 0 || c.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn forwards_and_closes() {
    let backend = echo_backend().await;
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let spec = Spec {
        listen: Ipv4Addr::new(127, 0, 0, 1),
        routes: vec![(port, backend)],
    };
    let fw = Forwarders::default();
    fw.sync("e1", Some(spec.clone()), PeerFilter::Anyone)
        .await
        .unwrap();
    assert_eq!(fw.current("e1").await, Some(spec.clone()));
    let mut c = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    c.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    c.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
    // A second endpoint cannot take the same address: nothing stays half open.
    assert!(fw.sync("e2", Some(spec), PeerFilter::Anyone).await.is_err());
    assert!(fw.current("e2").await.is_none());
    fw.sync("e1", None, PeerFilter::Anyone).await.unwrap();
    assert!(fw.current("e1").await.is_none());
    // Closed by the time sync returns, not some time later.
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    // The connection in flight was closed too.
    let mut rest = Vec::new();
    let n = c.read_to_end(&mut rest).await.unwrap_or(0);
    assert_eq!(n, 0);
}

// ---------------------------------------------------------------- bounds, loops, whitelist

use crate::vpcep::whitelist::PeerFilter;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// An echo backend that counts the connections it accepted.
async fn counting_backend() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    tokio::spawn(async move {
        loop {
            let (mut c, _) = listener.accept().await.unwrap();
            seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                while let Ok(n) = c.read(&mut buf).await {
                    if n == 0 || c.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, count)
}

fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

fn local(routes: Vec<(u16, SocketAddr)>) -> Spec {
    Spec {
        listen: Ipv4Addr::LOCALHOST,
        routes,
    }
}

fn bounded(listeners: usize, connections: usize, per_endpoint: usize) -> Forwarders {
    let cfg = crate::config::Limits {
        forward_max_listeners: listeners,
        forward_max_connections: connections,
        forward_max_connections_per_endpoint: per_endpoint,
        ..crate::config::Limits::default()
    };
    Forwarders::new(ForwardLimits::resolve(&cfg, None), None)
}

/// Connects from `from` (127.0.0.1 when `None`) to 127.0.0.1:`port`.
async fn connect(port: u16, from: Option<Ipv4Addr>) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(ip) = from {
        socket.bind(SocketAddr::from((ip, 0))).unwrap();
    }
    socket
        .connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .unwrap()
}

/// Whether the connection carries a round trip through to the echo backend.
async fn echoes(c: &mut TcpStream) -> bool {
    let trip = async {
        c.write_all(b"ping").await.ok()?;
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).await.ok()?;
        Some(&buf == b"ping")
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(5), trip).await,
        Ok(Some(true))
    )
}

/// Whether the forwarder closed the (accepted) connection at once.
async fn closed_at_once(c: &mut TcpStream) -> bool {
    let _ = c.write_all(b"ping").await;
    let mut buf = [0u8; 4];
    matches!(
        tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

async fn wait_for_open(fw: &Forwarders, n: usize) {
    for _ in 0..200 {
        if fw.open_connections() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("open connections stayed {}", fw.open_connections());
}

#[tokio::test]
async fn listener_bound_is_all_or_nothing() {
    let (backend, _) = counting_backend().await;
    let fw = bounded(3, 10, 10);
    let (a, b, c, d) = (free_port(), free_port(), free_port(), free_port());
    let two = |x, y| local(vec![(x, backend), (y, backend)]);
    fw.sync("e1", Some(two(a, b)), PeerFilter::Anyone)
        .await
        .unwrap();
    let err = fw
        .sync("e2", Some(two(c, d)), PeerFilter::Anyone)
        .await
        .unwrap_err();
    assert!(err.contains("forward_max_listeners"), "{err}");
    assert!(fw.current("e2").await.is_none());
    for port in [c, d] {
        assert!(
            TcpStream::connect(("127.0.0.1", port)).await.is_err(),
            "no listener of a refused endpoint stays open"
        );
    }
    assert!(echoes(&mut connect(a, None).await).await, "e1 is untouched");
    // Once e1 is gone its listeners no longer count.
    fw.sync("e1", None, PeerFilter::Anyone).await.unwrap();
    fw.sync("e2", Some(two(c, d)), PeerFilter::Anyone)
        .await
        .unwrap();
    assert!(echoes(&mut connect(d, None).await).await);
}

#[tokio::test]
async fn connections_over_the_endpoint_bound_are_closed_at_once() {
    let (backend, accepted) = counting_backend().await;
    let fw = bounded(10, 10, 2);
    let (a, b) = (free_port(), free_port());
    let spec = local(vec![(a, backend), (b, backend)]);
    fw.sync("e1", Some(spec), PeerFilter::Anyone).await.unwrap();
    let mut first = connect(a, None).await;
    let mut second = connect(b, None).await;
    assert!(echoes(&mut first).await && echoes(&mut second).await);
    // The bound spans all ports of the endpoint.
    for port in [a, b] {
        let mut over = connect(port, None).await;
        assert!(closed_at_once(&mut over).await, "port {port}");
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        2,
        "the backend never saw them"
    );
    assert_eq!(fw.open_connections(), 2);
    drop(first);
    wait_for_open(&fw, 1).await;
    assert!(
        echoes(&mut connect(a, None).await).await,
        "a freed slot is usable"
    );
    assert!(echoes(&mut second).await);
}

#[tokio::test]
async fn the_server_bound_spans_endpoints() {
    let (backend, _) = counting_backend().await;
    let fw = bounded(10, 2, 2);
    let (a, b) = (free_port(), free_port());
    fw.sync("e1", Some(local(vec![(a, backend)])), PeerFilter::Anyone)
        .await
        .unwrap();
    fw.sync("e2", Some(local(vec![(b, backend)])), PeerFilter::Anyone)
        .await
        .unwrap();
    let mut one = connect(a, None).await;
    let mut two = connect(b, None).await;
    assert!(echoes(&mut one).await && echoes(&mut two).await);
    assert!(closed_at_once(&mut connect(a, None).await).await);
    assert!(closed_at_once(&mut connect(b, None).await).await);
    // Closing an endpoint gives its connections back to the server.
    fw.sync("e1", None, PeerFilter::Anyone).await.unwrap();
    wait_for_open(&fw, 1).await;
    let c = free_port();
    fw.sync("e3", Some(local(vec![(c, backend)])), PeerFilter::Anyone)
        .await
        .unwrap();
    assert!(echoes(&mut connect(c, None).await).await);
}

#[tokio::test]
async fn the_whitelist_applies_to_the_peer_and_changes_in_place() {
    let (backend, accepted) = counting_backend().await;
    let fw = Forwarders::default();
    let port = free_port();
    let spec = local(vec![(port, backend)]);
    let only = |e: &str| PeerFilter::of(true, &[e.to_string()]);
    fw.sync("e1", Some(spec.clone()), only("127.0.0.1"))
        .await
        .unwrap();
    let mut kept = connect(port, None).await;
    assert!(echoes(&mut kept).await, "127.0.0.1 is whitelisted");
    let other = Some(Ipv4Addr::new(127, 0, 0, 9));
    assert!(closed_at_once(&mut connect(port, other).await).await);
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "a refused peer never reaches the backend"
    );

    fw.sync("e1", Some(spec.clone()), only("10.0.0.0/8"))
        .await
        .unwrap();
    assert!(closed_at_once(&mut connect(port, None).await).await);
    assert!(
        echoes(&mut kept).await,
        "the listener was not reopened: the connection from before still works"
    );
    fw.sync("e1", Some(spec.clone()), only("127.0.0.0/24"))
        .await
        .unwrap();
    assert!(echoes(&mut connect(port, other).await).await);
    fw.sync("e1", Some(spec.clone()), PeerFilter::of(true, &[]))
        .await
        .unwrap();
    assert!(
        closed_at_once(&mut connect(port, None).await).await,
        "empty admits none"
    );
    fw.sync("e1", Some(spec), PeerFilter::of(false, &[]))
        .await
        .unwrap();
    assert!(
        echoes(&mut connect(port, other).await).await,
        "switched off admits all"
    );
}

#[tokio::test]
async fn backends_that_are_dewstack_itself_are_refused() {
    let api = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
    let fw = Forwarders::new(ForwardLimits::default(), Some(api));
    let (p1, p2, p3) = (free_port(), free_port(), free_port());
    let at = |p| SocketAddr::from((Ipv4Addr::LOCALHOST, p));
    let refused = |e: Result<(), String>| e.expect_err("must be refused");

    let own = refused(
        fw.sync("self", Some(local(vec![(p1, at(p1))])), PeerFilter::Anyone)
            .await,
    );
    assert!(own.contains("loop"), "{own}");
    refused(
        fw.sync("api", Some(local(vec![(p1, api)])), PeerFilter::Anyone)
            .await,
    );
    let range: SocketAddr = "127.0.1.9:80".parse().unwrap();
    refused(
        fw.sync("range", Some(local(vec![(p1, range)])), PeerFilter::Anyone)
            .await,
    );

    // A -> B -> A: whichever opens second is refused, so no chain ever forms.
    fw.sync("a", Some(local(vec![(p1, at(p2))])), PeerFilter::Anyone)
        .await
        .unwrap();
    refused(
        fw.sync("b", Some(local(vec![(p2, at(p1))])), PeerFilter::Anyone)
            .await,
    );
    let (real, _) = counting_backend().await;
    let into = refused(
        fw.sync("c", Some(local(vec![(p2, real)])), PeerFilter::Anyone)
            .await,
    );
    assert!(into.contains("forwards to it"), "{into}");
    refused(
        fw.sync("d", Some(local(vec![(p3, at(p1))])), PeerFilter::Anyone)
            .await,
    );
    for id in ["self", "api", "range", "b", "c", "d"] {
        assert!(fw.current(id).await.is_none(), "{id}");
    }
    assert!(TcpStream::connect(at(p2)).await.is_err());
    assert!(TcpStream::connect(at(p3)).await.is_err());
}
