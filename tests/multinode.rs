//! Several `dewstack` processes on one PostgreSQL database behave as one
//! service. Needs `DEWSTACK_TEST_DATABASE_URL` (scripts/with-postgres.sh);
//! skipped, saying so, without it. Each test has its own database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cluster;

use cluster::{code, Cluster, Node};
use serde_json::{json, Value};

async fn cluster(test: &str, config: Option<&str>) -> Option<(Cluster, tempfile::TempDir)> {
    let base = cluster::pg_base_url(test)?;
    let url = tokio::task::spawn_blocking(move || cluster::fresh_database(&base))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = Cluster::new(url);
    if let Some(text) = config {
        let path = dir.path().join("dewstack.toml");
        std::fs::write(&path, text).unwrap();
        c.config_file = Some(path);
    }
    Some((c, dir))
}

async fn start(c: &Cluster, name: &'static str) -> Node {
    let c = c.clone();
    tokio::task::spawn_blocking(move || c.start_node(name))
        .await
        .unwrap()
}

async fn create_key(node: &Node, alias: &str) -> String {
    let (status, body) = node
        .kms("POST", "create-key", Some(json!({"key_alias": alias})))
        .await;
    assert_eq!(status, 200, "create-key on {}: {body}", node.name);
    body["key_info"]["key_id"].as_str().unwrap().to_owned()
}

async fn describe(node: &Node, key_id: &str) -> (u16, Value) {
    node.kms("POST", "describe-key", Some(json!({"key_id": key_id})))
        .await
}

async fn state_of(node: &Node, key_id: &str) -> String {
    let (status, body) = describe(node, key_id).await;
    assert_eq!(status, 200, "describe-key on {}: {body}", node.name);
    body["key_info"]["key_state"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_on_one_node_is_seen_on_the_other() {
    let Some((c, _dir)) = cluster("a_change_on_one_node_is_seen_on_the_other", None).await else {
        return;
    };
    let (a, b) = (start(&c, "A").await, start(&c, "B").await);
    let key = create_key(&a, "shared-key").await;
    assert_eq!(state_of(&b, &key).await, "2");
    let (status, body) = b
        .kms("POST", "disable-key", Some(json!({"key_id": key})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(state_of(&a, &key).await, "3");
    // Both nodes list the same keys (kms/default, created once, and ours).
    let (_, la) = a.kms("POST", "list-keys", Some(json!({}))).await;
    let (_, lb) = b.kms("POST", "list-keys", Some(json!({}))).await;
    assert_eq!(la["keys"], lb["keys"]);
    assert_eq!(la["keys"].as_array().unwrap().len(), 2, "{la}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_disable_and_schedule_deletion_end_in_a_serial_order() {
    let Some((c, _dir)) = cluster(
        "racing_disable_and_schedule_deletion_end_in_a_serial_order",
        None,
    )
    .await
    else {
        return;
    };
    let (a, b) = (start(&c, "A").await, start(&c, "B").await);
    for round in 0..8 {
        let key = create_key(&a, &format!("race-{round}")).await;
        // Alternate which node does what.
        let (dis_node, del_node) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let ((ds, dbody), (ss, sbody)) = tokio::join!(
            dis_node.kms("POST", "disable-key", Some(json!({"key_id": key}))),
            del_node.kms(
                "POST",
                "schedule-key-deletion",
                Some(json!({"key_id": key, "pending_days": "7"}))
            ),
        );
        // Either order of the two is fine; nothing else is:
        // disable first → both succeed; deletion first → disable is refused.
        assert_eq!(ss, 200, "round {round}: schedule-key-deletion: {sbody}");
        match ds {
            200 => assert_eq!(dbody["key_info"]["key_state"], "3"),
            400 => assert_eq!(code(&dbody), "KMS.0210", "round {round}: {dbody}"),
            other => panic!("round {round}: disable-key gave {other}: {dbody}"),
        }
        assert_eq!(state_of(&a, &key).await, "4", "round {round}");
        assert_eq!(state_of(&b, &key).await, "4", "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_alias_created_on_two_nodes_at_once_has_one_key() {
    let Some((c, _dir)) = cluster("one_alias_created_on_two_nodes_at_once_has_one_key", None).await
    else {
        return;
    };
    let (a, b) = (start(&c, "A").await, start(&c, "B").await);
    for round in 0..8 {
        let alias = format!("contested-{round}");
        let body = json!({"key_alias": alias});
        let ((sa, ba), (sb, bb)) = tokio::join!(
            a.kms("POST", "create-key", Some(body.clone())),
            b.kms("POST", "create-key", Some(body.clone())),
        );
        let mut statuses = [sa, sb];
        statuses.sort();
        assert_eq!(statuses, [200, 400], "round {round}: A {ba} / B {bb}");
        let loser = if sa == 400 { &ba } else { &bb };
        assert_eq!(code(loser), "KMS.1104", "round {round}: {loser}");
    }
    let (_, list) = a
        .kms("POST", "list-keys", Some(json!({"limit": "1000"})))
        .await;
    let aliases: Vec<&str> = list["key_details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key_alias"].as_str().unwrap())
        .filter(|a| a.starts_with("contested-"))
        .collect();
    assert_eq!(aliases.len(), 8, "{aliases:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_tag_writes_from_two_nodes_lose_nothing() {
    let Some((c, _dir)) = cluster("racing_tag_writes_from_two_nodes_lose_nothing", None).await
    else {
        return;
    };
    let (a, b) = (start(&c, "A").await, start(&c, "B").await);
    let key = create_key(&a, "tagged").await;
    let mut jobs = Vec::new();
    for (name, node) in [("a", &a), ("b", &b)] {
        for i in 0..8 {
            let (api, endpoint) = node.handle();
            let op = format!("{key}/tags");
            let body = json!({"tag": {"key": format!("{name}-{i}"), "value": "v"}});
            jobs.push(tokio::spawn(async move {
                api.kms(&endpoint, "POST", &op, Some(body)).await
            }));
        }
    }
    for job in jobs {
        let (status, body) = job.await.unwrap();
        assert!(status == 200 || status == 204, "{status} {body}");
    }
    let (status, tags) = b.kms("GET", &format!("{key}/tags"), None).await;
    assert_eq!(status, 200, "{tags}");
    let mut names: Vec<&str> = tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 16, "{names:?}");
}

/// With a one-second sweep on both nodes, nothing is deleted before its date
/// and the sweeps never fail. (That a due key is deleted exactly once across
/// nodes is `kms::tests::deletion_sweep_runs_once_across_postgres_nodes`:
/// a past-due key cannot be made over HTTP without a test-only hook.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sweepers_on_every_node_are_harmless() {
    let Some((c, _dir)) = cluster(
        "sweepers_on_every_node_are_harmless",
        Some("sweep_interval_secs = 1\n"),
    )
    .await
    else {
        return;
    };
    let (a, b) = (start(&c, "A").await, start(&c, "B").await);
    let key = create_key(&a, "scheduled").await;
    let (status, body) = b
        .kms(
            "POST",
            "schedule-key-deletion",
            Some(json!({"key_id": key, "pending_days": "7"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(state_of(&a, &key).await, "4");
    for node in [&a, &b] {
        let log = node.log();
        assert!(
            !log.contains("deletion sweep failed"),
            "node {}: {log}",
            node.name
        );
    }
}

/// A password login on `node`: its status.
async fn login(c: &Cluster, node: &Node, password: &str) -> u16 {
    let body = json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "password": password, "domain": {"id": c.domain_id}}}},
        "scope": {"project": {"id": c.project_id}}}});
    reqwest::Client::new()
        .post(format!("{}/v3/auth/tokens", node.endpoint))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The login lockout counts in the database: failures spread over two nodes
/// lock the user on both (IAM's policy is per user, not per server).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_logins_on_two_nodes_add_up_to_one_lockout() {
    let Some((c, _dir)) = cluster("failed_logins_on_two_nodes_add_up", None).await else {
        return;
    };
    let (a, b) = (start(&c, "A").await, start(&c, "B").await);
    assert_eq!(login(&c, &a, &c.password).await, 201);
    for node in [&a, &b, &a, &b] {
        assert_eq!(login(&c, node, "wrong").await, 401);
    }
    assert_eq!(
        login(&c, &b, &c.password).await,
        201,
        "4 failures lock no one"
    );
    for node in [&a, &b, &a, &b, &a] {
        assert_eq!(login(&c, node, "wrong").await, 401);
    }
    assert_eq!(login(&c, &a, &c.password).await, 401, "locked on A");
    assert_eq!(login(&c, &b, &c.password).await, 401, "locked on B");
}
