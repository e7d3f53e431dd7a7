//! PostgreSQL goes away in the middle of traffic and comes back: requests in
//! the gap fail fast with 503 in the KMS envelope (never 500, never a hang),
//! the nodes recover by themselves, and nothing acknowledged is lost.
//!
//! Its own test binary, because it stops the shared test server: cargo runs
//! test binaries one after another, so no other test sees the outage.
//! Needs `DEWSTACK_TEST_DATABASE_URL` and `DEWSTACK_TEST_PG_CTL`
//! (scripts/with-postgres.sh); skipped, saying so, without them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cluster;

use cluster::{code, Cluster};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// (started, ended, HTTP status, KMS error code) of one request.
type Answer = (Instant, Instant, u16, String);

/// The most a request may take while the database is down.
const FAIL_FAST: Duration = Duration::from_secs(8);

async fn pg_ctl(action: &'static str) {
    let ctl = std::env::var("DEWSTACK_TEST_PG_CTL").unwrap();
    let ok = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&ctl)
            .arg(action)
            .status()
            .map(|s| s.success())
    })
    .await
    .unwrap()
    .unwrap();
    assert!(ok, "pg_ctl {action} failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn database_outage_gives_503_and_nodes_recover() {
    let Some(base) = cluster::pg_base_url("database_outage_gives_503_and_nodes_recover") else {
        return;
    };
    let test = "database_outage_gives_503_and_nodes_recover";
    if dewstack::testing::postgres_env(test, "DEWSTACK_TEST_PG_CTL").is_none() {
        return;
    }
    let url = tokio::task::spawn_blocking(move || cluster::fresh_database(&base))
        .await
        .unwrap();
    let c = Cluster::new(url);
    let nodes = {
        let c = c.clone();
        tokio::task::spawn_blocking(move || vec![c.start_node("A"), c.start_node("B")])
            .await
            .unwrap()
    };

    // Traffic from both nodes: creates (whose acknowledged keys must survive)
    // and reads, each bounded in time.
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let statuses: Arc<Mutex<Vec<Answer>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let slowest: Arc<Mutex<Duration>> = Arc::default();
    let mut workers = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for w in 0..2 {
            let (api, endpoint) = node.handle();
            let (acked, seen, stop) = (acknowledged.clone(), statuses.clone(), stop.clone());
            let slowest = slowest.clone();
            workers.push(tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let started = Instant::now();
                    // Creates until 60 keys exist (the quota is 100), then reads.
                    let known: Vec<String> = acked.lock().unwrap().clone();
                    let (op, body) = if known.len() < 60 {
                        ("create-key", json!({"key_alias": format!("k-{n}-{w}-{i}")}))
                    } else {
                        ("describe-key", json!({"key_id": known[i % known.len()]}))
                    };
                    let call = api.kms(&endpoint, "POST", op, Some(body));
                    let (status, body) = match tokio::time::timeout(FAIL_FAST, call).await {
                        Ok(r) => r,
                        Err(_) => panic!("{op} hung for more than {FAIL_FAST:?}"),
                    };
                    let took = started.elapsed();
                    {
                        let mut s = slowest.lock().unwrap();
                        *s = (*s).max(took);
                    }
                    if status == 200 && op == "create-key" {
                        acked
                            .lock()
                            .unwrap()
                            .push(body["key_info"]["key_id"].as_str().unwrap().to_owned());
                    }
                    seen.lock().unwrap().push((
                        started,
                        Instant::now(),
                        status,
                        code(&body).to_owned(),
                    ));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }));
        }
    }

    tokio::time::sleep(Duration::from_secs(2)).await;
    let before_outage = acknowledged.lock().unwrap().len();
    assert!(
        before_outage > 0,
        "no traffic got through before the outage"
    );
    pg_ctl("stop").await;
    let down_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    // Requests from here on may already reach the restarting server.
    let restart_at = Instant::now();
    pg_ctl("start").await;
    let up_at = Instant::now();

    // The nodes recover by themselves: a create succeeds on each again.
    for node in &nodes {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, body) = node
                .kms_within(FAIL_FAST, "POST", "list-keys", Some(json!({"limit": "1"})))
                .await;
            if status == 200 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "node {} did not recover: {status} {body}",
                node.name
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }

    let seen = statuses.lock().unwrap().clone();
    // Requests made entirely while the database was down (a request still
    // waiting for a connection when it comes back may succeed, rightly).
    let in_gap: Vec<_> = seen
        .iter()
        .filter(|(t, end, _, _)| *t > down_at + Duration::from_millis(500) && *end < restart_at)
        .collect();
    assert!(!in_gap.is_empty(), "no request was made during the outage");
    for (_, _, status, err) in &in_gap {
        assert_eq!(
            (*status, err.as_str()),
            (503, "KMS.0102"),
            "during the outage: {status} {err}"
        );
    }
    for (_, _, status, err) in &seen {
        assert!(
            *status == 200 || (*status == 503 && err == "KMS.0102"),
            "unexpected answer: {status} {err}"
        );
    }
    let after: Vec<_> = seen
        .iter()
        .filter(|(t, _, s, _)| *t > up_at && *s == 200)
        .collect();
    assert!(!after.is_empty(), "no request succeeded after the restart");

    // Everything acknowledged, before, around and after the outage, is there,
    // on both nodes.
    let acked = acknowledged.lock().unwrap().clone();
    for node in &nodes {
        for key in &acked {
            let (status, body) = node
                .kms_within(
                    FAIL_FAST,
                    "POST",
                    "describe-key",
                    Some(json!({"key_id": key})),
                )
                .await;
            assert_eq!(
                status, 200,
                "node {}: acknowledged key {key} lost: {body}",
                node.name
            );
        }
    }
    eprintln!(
        "outage test: {} requests, {} during the outage (all 503, slowest answer {:?}), {} keys acknowledged and found",
        seen.len(),
        in_gap.len(),
        slowest.lock().unwrap(),
        acked.len()
    );
}
