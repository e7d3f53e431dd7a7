//! One rotation, start to end. The new value is stored first as a version
//! labelled `SYSPENDING`; a function rotation then runs the four steps; on
//! success `SYSCURRENT` moves to the pending version (the old one becomes
//! `SYSPREVIOUS`), `rotation_time`/`next_rotation_time` move, and
//! SECRET_VERSION_CREATED and SECRET_ROTATED are emitted. On a failed step
//! the pending version is removed, `SYSCURRENT` stays where it was, and the
//! task is FAILED with SECRET_ROTATED_FAILED emitted. Every rotation leaves
//! one task.

use super::access_key;
use super::agency;
use super::function::Invoker;
use super::plan::{self, Failure, Method, StepEvent, PENDING, STEPS};
use super::tasks::{self, SecretTask};
use crate::csms::domain::{generate_password, EventType, PasswordRequest, SecretValue};
use crate::csms::error::CsmsError;
use crate::csms::jobs::notify;
use crate::csms::stages;
use crate::csms::store::{self, SecretRecord, VersionRecord};
use crate::csms::values;
use crate::server::state::AppState;
use std::sync::Arc;
use zeroize::Zeroizing;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// RotateSecret.
    Now,
    /// The sweep, at `next_rotation_time`.
    Schedule,
}

/// What a rotation did: the version now current (the new one on success) and
/// its task.
#[derive(Debug)]
pub struct Rotated {
    pub secret_name: String,
    pub version_id: String,
    pub task: SecretTask,
}

/// Rotates `name` of `project` once. Refusals (secret missing or pending
/// deletion, a type that cannot rotate, a missing function setting or
/// agency) are errors and leave no task; what fails after the rotation
/// started is a FAILED task, not an error.
pub async fn rotate(
    app: &AppState,
    project: &str,
    name: &str,
    trigger: Trigger,
) -> Result<Rotated, CsmsError> {
    let (p, n) = (project.to_owned(), name.to_owned());
    let secret = app.db.tx(move |tx| store::load_secret(tx, &p, &n)).await?;
    secret.state.check_usable()?;
    let method = plan::method(
        &secret.secret_type,
        secret.rotation_func_urn.as_deref(),
        secret.rotation_config.as_deref(),
    )?;
    if matches!(method, Method::Function { .. }) {
        let (d, t) = (secret.domain_id.clone(), secret.secret_type.clone());
        if !app.db.tx(move |tx| agency::granted(tx, &d, &t)).await? {
            return Err(CsmsError::InvalidParameter("agency"));
        }
    }
    let task_id = app.rng.uuid().to_string();
    let (value, key) = if method == Method::AccessKey {
        let (key, value) = access_key::prepare(app, &secret).await?;
        (value, Some(Arc::new(key)))
    } else {
        let password = generate_password(&PasswordRequest::default(), &app.rng)?;
        let bytes = Zeroizing::new(password.as_bytes().to_vec());
        let value = SecretValue {
            bytes,
            binary: false,
        };
        (value, None)
    };
    let pending = add_pending(app, &secret, &value).await?;
    let steps = match &method {
        Method::Generate | Method::AccessKey => Ok(()),
        Method::Function { urn } => run_steps(app, &secret, urn, pending, &task_id).await,
    };
    let finish = Finish {
        key,
        project: project.to_owned(),
        name: name.to_owned(),
        pending,
        task_id,
        urn: secret
            .rotation_func_urn
            .clone()
            .filter(|_| matches!(method, Method::Function { .. })),
        trigger,
    };
    match steps {
        Ok(()) => match promote(app, &finish).await {
            Ok(done) => Ok(done),
            Err(e) => abandon(app, &finish, Failure::of(&e)).await,
        },
        Err(failure) => abandon(app, &finish, failure).await,
    }
}

struct Finish {
    /// The access key an IAM secret's rotation installs on promotion.
    key: Option<Arc<access_key::Prepared>>,
    project: String,
    name: String,
    pending: u64,
    task_id: String,
    urn: Option<String>,
    trigger: Trigger,
}

impl Finish {
    fn task(&self, now_ms: i64, failure: Option<&Failure>) -> SecretTask {
        SecretTask {
            task_id: self.task_id.clone(),
            secret_name: self.name.clone(),
            rotation_func_urn: self.urn.clone(),
            task_status: if failure.is_some() {
                tasks::FAILED
            } else {
                tasks::SUCCESS
            }
            .into(),
            operate_type: "ROTATE".into(),
            task_time: now_ms,
            attempt_nums: 1,
            task_error_code: failure.map(|f| f.code.clone()).unwrap_or_default(),
            task_error_msg: failure.map(|f| f.message.clone()).unwrap_or_default(),
        }
    }
}

/// Seals `value` and stores it as a new version labelled `SYSPENDING`.
async fn add_pending(
    app: &AppState,
    secret: &SecretRecord,
    value: &SecretValue,
) -> Result<u64, CsmsError> {
    let (project, name) = (secret.project_id.clone(), secret.name.clone());
    let (value_id, sealed) = values::seal(app, &project, &secret.kms_key_id, &name, value).await?;
    let key_id = secret.kms_key_id.clone();
    let binary = value.binary;
    let now = app.clock.now().timestamp_millis();
    app.db
        .tx(move |tx| {
            let mut s = store::load_secret(tx, &project, &name)?;
            s.state.check_usable()?;
            if plan::rotation_running(&s.stages, now) {
                return Err(CsmsError::InvalidParameter("rotation"));
            }
            let number = s.last_version + 1;
            stages::move_stage(&mut s.stages, PENDING, &stages::version_id(number), now)?;
            let v = VersionRecord {
                number,
                create_ms: now,
                expire_ms: None,
                kms_key_id: key_id.clone(),
                value_id: value_id.clone(),
                binary,
                sealed: sealed.clone(),
                expiry_notified: false,
            };
            s.last_version = number;
            store::put_version(tx, &project, &name, &v)?;
            store::bound::drop_excess_versions(tx, &s)?;
            store::save_secret(tx, &s)?;
            Ok(number)
        })
        .await
}

async fn run_steps(
    app: &AppState,
    secret: &SecretRecord,
    urn: &str,
    pending: u64,
    task_id: &str,
) -> Result<(), Failure> {
    let invoker = Invoker::for_urn(&app.rotation_functions, urn)?;
    for step in STEPS {
        let event = StepEvent {
            step,
            secret_name: secret.name.clone(),
            secret_id: secret.id.clone(),
            secret_type: secret.secret_type.clone(),
            project_id: secret.project_id.clone(),
            version_id: stages::version_id(pending),
            version_stage: PENDING,
            current_version_id: secret
                .stages
                .get(stages::CURRENT)
                .map(|s| s.version_id.clone()),
            rotation_config: secret.rotation_config.clone(),
            rotation_func_urn: urn.to_owned(),
            rotation_task_id: task_id.to_owned(),
        };
        invoker.invoke(&event).await?;
    }
    Ok(())
}

/// Makes the version `SYSPENDING` names current. A function may have moved
/// `SYSPENDING` to a version it made itself (CreateSecretVersion with that
/// stage); that version is the one promoted.
async fn promote(app: &AppState, f: &Finish) -> Result<Rotated, CsmsError> {
    let now = app.clock.now().timestamp_millis();
    let (p, n) = (f.project.clone(), f.name.clone());
    let task = f.task(now, None);
    let rng = app.rng.clone();
    let saved = task.clone();
    let (key, state) = (f.key.clone(), app.clone());
    let (version_id, stale) = app
        .db
        .tx(move |tx| {
            let stale = match &key {
                Some(k) => access_key::install(tx, &state, k, now)?,
                None => Vec::new(),
            };
            let mut s = store::load_secret(tx, &p, &n)?;
            s.state.check_usable()?;
            let target = s
                .stages
                .get(PENDING)
                .map(|r| r.version_id.clone())
                .ok_or(CsmsError::VersionNotFound)?;
            stages::move_stage(&mut s.stages, stages::CURRENT, &target, now)?;
            s.stages.remove(PENDING);
            s.rotation_ms = Some(now);
            s.next_rotation_ms =
                plan::next_rotation(s.auto_rotation, s.rotation_period.as_deref(), now);
            s.update_ms = now;
            store::save_secret(tx, &s)?;
            notify::emit(tx, &rng, &s, EventType::VersionCreated, now)?;
            notify::emit(tx, &rng, &s, EventType::Rotated, now)?;
            tasks::record(tx, &p, &saved)?;
            Ok::<_, CsmsError>((target, stale.clone()))
        })
        .await?;
    crate::iam::forget_access_keys(app, &stale);
    Ok(Rotated {
        secret_name: f.name.clone(),
        version_id,
        task,
    })
}

/// Undoes a rotation that failed after its pending version was stored.
async fn abandon(app: &AppState, f: &Finish, failure: Failure) -> Result<Rotated, CsmsError> {
    let now = app.clock.now().timestamp_millis();
    let (p, n, pending, trigger) = (f.project.clone(), f.name.clone(), f.pending, f.trigger);
    let task = f.task(now, Some(&failure));
    tracing::warn!(secret = %f.name, code = %failure.code, "csms: rotation failed");
    let rng = app.rng.clone();
    let saved = task.clone();
    let current = app
        .db
        .tx(move |tx| {
            tasks::record(tx, &p, &saved)?;
            let Some(mut s) = store::find_secret(tx, &p, &n)? else {
                return Ok::<_, CsmsError>(String::new());
            };
            let ours = stages::version_id(pending);
            if s.stages.get(PENDING).is_some_and(|r| r.version_id == ours) {
                s.stages.remove(PENDING);
            }
            if stages::stages_of(&s.stages, &ours).is_empty() {
                store::delete_version(tx, &p, &n, pending)?;
            }
            if trigger == Trigger::Schedule {
                s.next_rotation_ms =
                    plan::next_rotation(s.auto_rotation, s.rotation_period.as_deref(), now);
            }
            store::save_secret(tx, &s)?;
            notify::emit(tx, &rng, &s, EventType::RotatedFailed, now)?;
            Ok(s.stages
                .get(stages::CURRENT)
                .map(|r| r.version_id.clone())
                .unwrap_or_default())
        })
        .await?;
    Ok(Rotated {
        secret_name: f.name.clone(),
        version_id: current,
        task,
    })
}

/// A scheduled rotation refused before it started (the secret can no longer
/// rotate, or its agency is gone): recorded as a FAILED task with
/// SECRET_ROTATED_FAILED, and the schedule moves one period on so that the
/// sweep does not retry it at once.
pub async fn record_refusal(
    app: &AppState,
    project: &str,
    name: &str,
    refusal: &CsmsError,
) -> Result<(), CsmsError> {
    let now = app.clock.now().timestamp_millis();
    let failure = Failure::of(refusal);
    let (p, n) = (project.to_owned(), name.to_owned());
    let rng = app.rng.clone();
    let task_id = app.rng.uuid().to_string();
    app.db
        .tx(move |tx| {
            let Some(mut s) = store::find_secret(tx, &p, &n)? else {
                return Ok(());
            };
            s.next_rotation_ms =
                plan::next_rotation(s.auto_rotation, s.rotation_period.as_deref(), now);
            store::save_secret(tx, &s)?;
            let f = Finish {
                key: None,
                project: p.clone(),
                name: n.clone(),
                pending: 0,
                task_id: task_id.clone(),
                urn: s.rotation_func_urn.clone(),
                trigger: Trigger::Schedule,
            };
            tasks::record(tx, &p, &f.task(now, Some(&failure)))?;
            notify::emit(tx, &rng, &s, EventType::RotatedFailed, now)?;
            Ok(())
        })
        .await
}
