//! IAM secrets: a rotation makes a new access key that the signature check
//! accepts at once, and the old one is refused from the end of the grace,
//! across restarts; the two-key rule and the refusals.

use super::*;
use crate::iam::keys::{access_key, GRACE_MS};
use crate::testing::{ACCESS_KEY, DOMAIN_ID, SECRET_KEY};

fn credential(ak: &str, sk: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"access": ak, "secret": sk, "user": "admin"})).unwrap()
}

/// An IAM secret holding `value`, in the root identity's domain (`domain`
/// overrides it).
async fn iam_secret(app: &AppState, name: &str, value: &[u8], domain: &str) {
    make_secret_with(app, name, "IAM", None, value).await;
    let (n, d) = (name.to_owned(), domain.to_owned());
    app.db
        .tx(move |tx| {
            let mut s = store::load_secret(tx, P, &n)?;
            s.domain_id = d.clone();
            store::save_secret(tx, &s)
        })
        .await
        .unwrap();
}

async fn enabled(app: &AppState, ak: &str) -> Option<String> {
    access_key(&app.db, &app.iam_keys, &app.directory, ak, now(app))
        .await
        .unwrap()
        .map(|k| k.user_id.clone())
}

async fn current_credential(app: &AppState, name: &str) -> (String, String, serde_json::Value) {
    let s = secret(app, name).await;
    let value: serde_json::Value = serde_json::from_slice(&current_value(app, &s).await).unwrap();
    let ak = value["access"].as_str().unwrap().to_owned();
    let sk = value["secret"].as_str().unwrap().to_owned();
    (ak, sk, value)
}

#[tokio::test]
async fn the_new_key_works_at_once_and_the_old_one_stops_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::new(crate::testing::fixed_time());
    let app = app(dir.path(), &clock, 1);
    let root_user = crate::testing::identity().user_id;
    iam_secret(&app, "ak", &credential(ACCESS_KEY, SECRET_KEY), DOMAIN_ID).await;
    assert_eq!(
        enabled(&app, ACCESS_KEY).await.as_deref(),
        Some(&*root_user)
    );

    let done = rotate(&app, P, "ak", Trigger::Now).await.unwrap();
    assert_eq!(done.task.task_status, tasks::SUCCESS, "{:?}", done.task);
    let (new_ak, new_sk, value) = current_credential(&app, "ak").await;
    assert_ne!(new_ak, ACCESS_KEY);
    assert_eq!((new_ak.len(), new_sk.len()), (20, 40));
    assert_eq!(value["user"], "admin", "other fields are kept");
    let s = secret(&app, "ak").await;
    assert_eq!(stage(&s, stages::CURRENT).as_deref(), Some("v2"));
    assert_eq!(stage(&s, stages::PREVIOUS).as_deref(), Some("v1"));
    assert_eq!(enabled(&app, &new_ak).await.as_deref(), Some(&*root_user));
    assert!(enabled(&app, ACCESS_KEY).await.is_some(), "in its grace");

    clock.advance(chrono::Duration::milliseconds(GRACE_MS - 1));
    assert!(enabled(&app, ACCESS_KEY).await.is_some());
    clock.advance(chrono::Duration::milliseconds(1));
    assert!(enabled(&app, ACCESS_KEY).await.is_none(), "retired");
    assert!(enabled(&app, &new_ak).await.is_some());
    // The new key belongs to the user it replaced, so the secret key matches.
    assert_eq!(
        crate::iam::key_owner(&app, DOMAIN_ID, &new_ak, &new_sk)
            .await
            .unwrap(),
        Some(root_user.clone())
    );

    // A restart (a fresh cache, the same store) sees the same keys.
    drop(app);
    let again = app_at(dir.path(), &clock, 2);
    assert!(enabled(&again, &new_ak).await.is_some());
    assert!(enabled(&again, ACCESS_KEY).await.is_none());
}

fn app_at(dir: &std::path::Path, clock: &FixedClock, seed: u64) -> AppState {
    app(dir, clock, seed)
}

#[tokio::test]
async fn a_second_rotation_cuts_off_the_key_still_in_its_grace() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::new(crate::testing::fixed_time());
    let app = app(dir.path(), &clock, 3);
    iam_secret(&app, "ak", &credential(ACCESS_KEY, SECRET_KEY), DOMAIN_ID).await;
    rotate(&app, P, "ak", Trigger::Now).await.unwrap();
    let (first, _, _) = current_credential(&app, "ak").await;
    clock.advance(chrono::Duration::minutes(11));
    let done = rotate(&app, P, "ak", Trigger::Now).await.unwrap();
    assert_eq!(done.task.task_status, tasks::SUCCESS, "{:?}", done.task);
    let (second, _, _) = current_credential(&app, "ak").await;
    // At most two keys: the one made now and the one it replaced.
    assert!(enabled(&app, ACCESS_KEY).await.is_none());
    assert!(enabled(&app, &first).await.is_some());
    assert!(enabled(&app, &second).await.is_some());
    let (d, u) = (DOMAIN_ID.to_owned(), crate::testing::identity().user_id);
    let dirc = app.directory.clone();
    let t = now(&app);
    let live = app
        .db
        .tx(move |tx| crate::iam::keys::keys_of_user(tx, &dirc, &d, &u))
        .await
        .unwrap();
    let live: Vec<_> = live
        .into_iter()
        .filter(|k| k.disable_ms.is_none_or(|x| t < x))
        .collect();
    assert_eq!(live.len(), 2, "{live:?}");
}

#[tokio::test]
async fn a_value_without_the_key_s_secret_or_of_another_domain_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::new(crate::testing::fixed_time());
    let app = app(dir.path(), &clock, 4);
    iam_secret(
        &app,
        "wrong-sk",
        &credential(ACCESS_KEY, "not-the-secret"),
        DOMAIN_ID,
    )
    .await;
    iam_secret(
        &app,
        "other-domain",
        &credential(ACCESS_KEY, SECRET_KEY),
        "another",
    )
    .await;
    iam_secret(&app, "not-json", b"plain text", DOMAIN_ID).await;
    iam_secret(
        &app,
        "unknown",
        &credential("NOSUCHKEY", SECRET_KEY),
        DOMAIN_ID,
    )
    .await;
    for name in ["wrong-sk", "other-domain", "not-json", "unknown"] {
        let e = rotate(&app, P, name, Trigger::Now).await.unwrap_err();
        assert!(
            matches!(e, CsmsError::InvalidParameter("secret_string")),
            "{name}: {e:?}"
        );
        assert_eq!(secret(&app, name).await.last_version, 1, "{name}");
    }
    assert!(tasks_of(&app).await.is_empty(), "refusals leave no task");
    assert!(
        enabled(&app, ACCESS_KEY).await.is_some(),
        "nothing was retired"
    );
}
