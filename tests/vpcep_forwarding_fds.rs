//! The forwarder under a flood: far more connections than its bounds allow,
//! from inside and outside the whitelist, never hold more file descriptors
//! than the bounds say, and every one is given back. Alone in its test binary
//! so that `/proc/self/fd` counts nothing but this test.

use dewstack::config::Limits;
use dewstack::vpcep::proxy::{ForwardLimits, Forwarders, Spec};
use dewstack::vpcep::whitelist::PeerFilter;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
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

fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

async fn connect_from(from: Ipv4Addr, port: u16) -> TcpStream {
    let s = TcpSocket::new_v4().unwrap();
    s.bind(SocketAddr::from((from, 0))).unwrap();
    s.connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .unwrap()
}

/// Whether a round trip went through (false: the forwarder closed it).
async fn forwarded(c: &mut TcpStream) -> bool {
    let trip = async {
        c.write_all(b"ping").await.ok()?;
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).await.ok()?;
        Some(())
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(5), trip).await,
        Ok(Some(()))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_connections_holds_no_more_than_the_bounds() {
    let backend = echo_backend().await;
    let cfg = Limits {
        forward_max_listeners: 4,
        forward_max_connections: 6,
        forward_max_connections_per_endpoint: 4,
        ..Limits::default()
    };
    let fw = Forwarders::new(ForwardLimits::resolve(&cfg, None), None);
    let (a, b) = (free_port(), free_port());
    let only_local = PeerFilter::of(true, &["127.0.0.1".to_string()]);
    for (id, port) in [("e1", a), ("e2", b)] {
        let spec = Spec {
            listen: Ipv4Addr::LOCALHOST,
            routes: vec![(port, backend)],
        };
        fw.sync(id, Some(spec), only_local.clone()).await.unwrap();
    }
    // Warm up the runtime's own descriptors before counting.
    let mut warm = connect_from(Ipv4Addr::LOCALHOST, a).await;
    assert!(forwarded(&mut warm).await);
    drop(warm);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let baseline = open_fds();

    let mut held = Vec::new();
    let mut through = 0;
    for i in 0..100u8 {
        let port = if i % 2 == 0 { a } else { b };
        // Every fifth comes from a peer outside the whitelist.
        let from = match i % 5 {
            0 => Ipv4Addr::new(127, 0, 0, 9),
            _ => Ipv4Addr::LOCALHOST,
        };
        let mut c = connect_from(from, port).await;
        if forwarded(&mut c).await {
            through += 1;
        }
        held.push(c);
    }
    assert_eq!(through, 6, "the server bound, whatever the endpoints ask");
    assert_eq!(fw.open_connections(), 6);
    // Held here: our 100 client sockets. Forwarding: 6 connections, each an
    // inbound and an outbound socket, plus the backend's 6 accepted sockets.
    let grown = open_fds() - baseline;
    assert!(grown <= 100 + 6 * 3, "{grown} descriptors for 100 clients");

    drop(held);
    for _ in 0..200 {
        if fw.open_connections() == 0 && open_fds() <= baseline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fw.open_connections(), 0);
    assert!(
        open_fds() <= baseline,
        "every descriptor came back: {} > {baseline}",
        open_fds()
    );
    let mut again = connect_from(Ipv4Addr::LOCALHOST, b).await;
    assert!(forwarded(&mut again).await, "forwarding still works");
}
