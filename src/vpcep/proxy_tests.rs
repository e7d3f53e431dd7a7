#![allow(clippy::unwrap_used)]
use super::*;
use crate::vpcep::domain::PortMapping;
use std::collections::BTreeMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
    fw.sync("e1", Some(spec.clone())).await.unwrap();
    assert_eq!(fw.current("e1").await, Some(spec.clone()));
    let mut c = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    c.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    c.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
    // A second endpoint cannot take the same address: nothing stays half open.
    assert!(fw.sync("e2", Some(spec)).await.is_err());
    assert!(fw.current("e2").await.is_none());
    fw.sync("e1", None).await.unwrap();
    assert!(fw.current("e1").await.is_none());
    // Closed by the time sync returns, not some time later.
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    // The connection in flight was closed too.
    let mut rest = Vec::new();
    let n = c.read_to_end(&mut rest).await.unwrap_or(0);
    assert_eq!(n, 0);
}
