//! Rotation end to end on one process, the clock fixed: the schedule, the
//! restart, the function protocol, failures and the agency rule.

#![allow(clippy::unwrap_used)]
use super::*;
use crate::clock::FixedClock;
use crate::csms::domain::{EventType, SecretState, SecretValue};
use crate::csms::error::CsmsError;
use crate::csms::jobs::notify;
use crate::csms::stages;
use crate::csms::store::{self, SecretRecord, VersionRecord};
use crate::csms::values;
use crate::server::state::AppState;
use crate::store::Db;
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

const P: &str = "proj";
const D: &str = "dom";
const HOUR: i64 = 3_600_000;

fn app(dir: &std::path::Path, clock: &FixedClock, seed: u64) -> AppState {
    let db = Db::open(dir, None).unwrap();
    crate::testing::state_with_seed(db, Arc::new(clock.clone()), seed)
}

fn now(app: &AppState) -> i64 {
    app.clock.now().timestamp_millis()
}

/// A secret with one version (`first`) and automatic rotation every 6 h.
async fn make_secret(app: &AppState, name: &str, secret_type: &str, urn: Option<&str>) {
    make_secret_with(app, name, secret_type, urn, b"first").await
}

/// `make_secret` with the first version's value given.
async fn make_secret_with(
    app: &AppState,
    name: &str,
    secret_type: &str,
    urn: Option<&str>,
    first: &[u8],
) {
    let key = crate::kms::ensure_default_key(app, D, P, "csms")
        .await
        .unwrap();
    let value = SecretValue {
        bytes: Zeroizing::new(first.to_vec()),
        binary: false,
    };
    let (value_id, sealed) = values::seal(app, P, &key, name, &value).await.unwrap();
    let t = now(app);
    let mut secret = SecretRecord {
        domain_id: D.into(),
        kms_key_id: key.clone(),
        secret_type: secret_type.into(),
        auto_rotation: true,
        rotation_period: Some("6h".into()),
        rotation_config: Some(r#"{"InstanceId":"i-1","SecretSubType":"SingleUser"}"#.into()),
        rotation_func_urn: urn.map(str::to_owned),
        next_rotation_ms: Some(t + 6 * HOUR),
        event_subscriptions: vec!["ev".into()],
        ..SecretRecord::for_test(P, name, t)
    };
    stages::move_stage(&mut secret.stages, stages::CURRENT, "v1", t).unwrap();
    let version = VersionRecord {
        number: 1,
        create_ms: t,
        expire_ms: None,
        kms_key_id: key,
        value_id,
        binary: false,
        sealed,
        expiry_notified: false,
    };
    app.db
        .tx(move |tx| {
            if store::find_event(tx, P, "ev")?.is_none() {
                store::insert_event(
                    tx,
                    &store::EventRecord {
                        event_id: "e".into(),
                        name: "ev".into(),
                        project_id: P.into(),
                        event_types: vec![EventType::Rotated, EventType::RotatedFailed],
                        enabled: true,
                        target: crate::csms::domain::Target {
                            target_type: "SMN".into(),
                            target_id: "urn:smn:x".into(),
                            target_name: "t".into(),
                        },
                        create_ms: t,
                        update_ms: t,
                    },
                )?;
            }
            store::insert_secret(tx, &secret)?;
            store::put_version(tx, P, &secret.name, &version)
        })
        .await
        .unwrap();
}

async fn secret(app: &AppState, name: &str) -> SecretRecord {
    let n = name.to_owned();
    app.db
        .tx(move |tx| store::load_secret(tx, P, &n))
        .await
        .unwrap()
}

fn stage(s: &SecretRecord, name: &str) -> Option<String> {
    s.stages.get(name).map(|r| r.version_id.clone())
}

async fn tasks_of(app: &AppState) -> Vec<tasks::SecretTask> {
    app.db.tx(|tx| tasks::list(tx, P)).await.unwrap()
}

async fn events_of(app: &AppState) -> Vec<EventType> {
    let records = app.db.tx(|tx| notify::list_records(tx, P)).await.unwrap();
    records.iter().map(|r| r.trigger_event_type).collect()
}

async fn current_value(app: &AppState, s: &SecretRecord) -> Vec<u8> {
    let n = stages::version_number(&stage(s, stages::CURRENT).unwrap()).unwrap();
    let name = s.name.clone();
    let v = app
        .db
        .tx(move |tx| store::find_version(tx, P, &name, n))
        .await
        .unwrap()
        .unwrap();
    values::open(app, P, &s.name, &v).await.unwrap().to_vec()
}

#[tokio::test]
async fn scheduled_rotation_runs_when_due_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::new(crate::testing::fixed_time());
    let first = app(dir.path(), &clock, 1);
    make_secret(&first, "db", "COMMON", None).await;
    assert_eq!(rotate_due(&first).await.unwrap(), RotationSweep::default());
    clock.advance(chrono::Duration::hours(6));
    let swept = rotate_due(&first).await.unwrap();
    assert_eq!(
        swept,
        RotationSweep {
            rotated: 1,
            failed: 0
        }
    );
    let s = secret(&first, "db").await;
    let t = now(&first);
    assert_eq!(stage(&s, stages::CURRENT).as_deref(), Some("v2"));
    assert_eq!(stage(&s, stages::PREVIOUS).as_deref(), Some("v1"));
    assert_eq!(stage(&s, plan::PENDING), None);
    assert_eq!(
        (s.rotation_ms, s.next_rotation_ms),
        (Some(t), Some(t + 6 * HOUR))
    );
    let value = current_value(&first, &s).await;
    assert_eq!(value.len(), 32);
    assert_ne!(value, b"first");
    assert_eq!(rotate_due(&first).await.unwrap(), RotationSweep::default());
    let tasks = tasks_of(&first).await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].task_status, tasks::SUCCESS);
    assert_eq!(events_of(&first).await, vec![EventType::Rotated]);
    drop(first);

    // A new process on the same database keeps the schedule.
    let second = app(dir.path(), &clock, 2);
    clock.advance(chrono::Duration::hours(5));
    assert_eq!(rotate_due(&second).await.unwrap(), RotationSweep::default());
    clock.advance(chrono::Duration::hours(1));
    assert_eq!(rotate_due(&second).await.unwrap().rotated, 1);
    let s = secret(&second, "db").await;
    assert_eq!(stage(&s, stages::CURRENT).as_deref(), Some("v3"));
    assert_eq!(stage(&s, stages::PREVIOUS).as_deref(), Some("v2"));
}

#[tokio::test]
async fn a_claimed_rotation_is_hidden_until_its_lease_ends() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::new(crate::testing::fixed_time());
    let app = app(dir.path(), &clock, 1);
    make_secret(&app, "db", "COMMON", None).await;
    let due = now(&app) + 6 * HOUR;
    let claim = |at: i64| {
        let db = app.db.clone();
        async move {
            db.tx(move |tx| schedule::claim_due(tx, at, 10))
                .await
                .unwrap()
        }
    };
    assert!(claim(due - 1).await.is_empty());
    assert_eq!(claim(due).await.len(), 1);
    assert!(claim(due).await.is_empty(), "another node finds it claimed");
    // The claiming node died: after the lease the rotation is taken again.
    assert_eq!(claim(due + schedule::LEASE_MS).await.len(), 1);
    // A secret that stopped rotating leaves only a stale row, dropped.
    let t = due + 2 * schedule::LEASE_MS;
    app.db
        .tx(|tx| {
            let mut s = store::load_secret(tx, P, "db")?;
            s.auto_rotation = false;
            store::save_secret(tx, &s)
        })
        .await
        .unwrap();
    assert!(claim(t).await.is_empty());
}

/// A rotation function on a local port: records each event, answers 500 at
/// the step named in `fail`.
async fn function(
    fail: Arc<Mutex<Option<String>>>,
) -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let seen: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let (log, failing) = (seen.clone(), fail.clone());
    let router = axum::Router::new().route(
        "/rotate",
        axum::routing::post(move |axum::Json(event): axum::Json<serde_json::Value>| {
            let (log, failing) = (log.clone(), failing.clone());
            async move {
                let step = event["step"].as_str().unwrap_or_default().to_owned();
                log.lock().unwrap().push(event);
                if failing.lock().unwrap().as_deref() == Some(step.as_str()) {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}/rotate"), seen)
}

#[tokio::test]
async fn function_rotation_runs_the_steps_and_a_failed_step_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::new(crate::testing::fixed_time());
    let mut app = app(dir.path(), &clock, 1);
    let fail: Arc<Mutex<Option<String>>> = Arc::default();
    let (url, seen) = function(fail.clone()).await;
    let urn = "urn:fss:cn-north-4:proj:function:default:rotate:latest";
    let mut map = std::collections::BTreeMap::new();
    map.insert(urn.to_owned(), url);
    app.rotation_functions = Arc::new(crate::config::RotationFunctions(map));
    make_secret(&app, "rds", "RDS-FG", Some(urn)).await;

    // No agency yet: refused now; on schedule a FAILED task, schedule moved on.
    let refused = rotate(&app, P, "rds", Trigger::Now).await;
    assert!(matches!(
        refused,
        Err(CsmsError::InvalidParameter("agency"))
    ));
    clock.advance(chrono::Duration::hours(6));
    assert_eq!(rotate_due(&app).await.unwrap().failed, 1);
    let s = secret(&app, "rds").await;
    assert_eq!(s.next_rotation_ms, Some(now(&app) + 6 * HOUR));
    assert_eq!(stage(&s, stages::CURRENT).as_deref(), Some("v1"));
    assert_eq!(tasks_of(&app).await[0].task_status, tasks::FAILED);
    assert!(seen.lock().unwrap().is_empty());

    let rng = app.rng.clone();
    app.db
        .tx(move |tx| agency::create(tx, &rng, D, "RDS-FG", 0))
        .await
        .unwrap();
    let done = rotate(&app, P, "rds", Trigger::Now).await.unwrap();
    assert_eq!(done.version_id, "v2");
    assert_eq!(done.task.rotation_func_urn.as_deref(), Some(urn));
    let steps: Vec<(String, String, String)> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["step"].as_str().unwrap().to_owned(),
                e["version_id"].as_str().unwrap().to_owned(),
                e["version_stage"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = plan::STEPS
        .iter()
        .map(|s| (s.to_string(), "v2".to_string(), "SYSPENDING".to_string()))
        .collect();
    assert_eq!(steps, expected);
    assert!(seen.lock().unwrap()[0]["current_version_id"] == "v1");
    let s = secret(&app, "rds").await;
    assert_eq!(stage(&s, stages::CURRENT).as_deref(), Some("v2"));
    assert_eq!(stage(&s, stages::PREVIOUS).as_deref(), Some("v1"));

    // The function fails at testSecret: v2 stays current, v3 is gone.
    *fail.lock().unwrap() = Some("testSecret".into());
    seen.lock().unwrap().clear();
    let failed = rotate(&app, P, "rds", Trigger::Now).await.unwrap();
    assert_eq!(failed.version_id, "v2");
    assert_eq!(failed.task.task_status, tasks::FAILED);
    assert_eq!(failed.task.task_error_code, "CSMS.9102");
    assert!(failed.task.task_error_msg.contains("testSecret"));
    assert_eq!(
        seen.lock().unwrap().len(),
        3,
        "no step after the failed one"
    );
    let s = secret(&app, "rds").await;
    assert_eq!(stage(&s, stages::CURRENT).as_deref(), Some("v2"));
    assert_eq!(stage(&s, plan::PENDING), None);
    let versions = app
        .db
        .tx(|tx| store::list_versions(tx, P, "rds"))
        .await
        .unwrap();
    assert_eq!(
        versions.iter().map(|v| v.number).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        events_of(&app).await,
        vec![
            EventType::RotatedFailed,
            EventType::Rotated,
            EventType::RotatedFailed
        ]
    );

    // A URN with no configured function fails as a task too.
    app.rotation_functions = Arc::default();
    let unmapped = rotate(&app, P, "rds", Trigger::Now).await.unwrap();
    assert_eq!(unmapped.task.task_error_code, "CSMS.9101");
    assert_eq!(tasks_of(&app).await.len(), 4);
}

#[tokio::test]
async fn secrets_pending_deletion_do_not_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::new(crate::testing::fixed_time());
    let app = app(dir.path(), &clock, 1);
    make_secret(&app, "gone", "COMMON", None).await;
    app.db
        .tx(|tx| {
            let mut s = store::load_secret(tx, P, "gone")?;
            s.state = SecretState::PendingDelete;
            s.scheduled_delete_ms = Some(i64::MAX / 2);
            store::save_secret(tx, &s)
        })
        .await
        .unwrap();
    clock.advance(chrono::Duration::hours(7));
    assert_eq!(rotate_due(&app).await.unwrap(), RotationSweep::default());
    assert!(matches!(
        rotate(&app, P, "gone", Trigger::Now).await,
        Err(CsmsError::SecretPendingDeletionUnusable)
    ));
}

#[tokio::test]
async fn a_second_rotation_waits_for_the_running_one() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::new(crate::testing::fixed_time());
    let app = app(dir.path(), &clock, 1);
    make_secret(&app, "busy", "COMMON", None).await;
    let t = now(&app);
    // A rotation is between its pending version and its promotion.
    app.db
        .tx(move |tx| {
            let mut s = store::load_secret(tx, P, "busy")?;
            stages::move_stage(&mut s.stages, plan::PENDING, "v1", t)?;
            store::save_secret(tx, &s)
        })
        .await
        .unwrap();
    assert!(matches!(
        rotate(&app, P, "busy", Trigger::Now).await,
        Err(CsmsError::InvalidParameter("rotation"))
    ));
    // A label older than RUNNING_MS was left by a rotation that died.
    clock.advance(chrono::Duration::milliseconds(plan::RUNNING_MS));
    let done = rotate(&app, P, "busy", Trigger::Now).await.unwrap();
    assert_eq!(done.version_id, "v2");
    let s = secret(&app, "busy").await;
    assert_eq!(stage(&s, plan::PENDING), None);
}

#[path = "iam_tests.rs"]
mod iam_tests;
