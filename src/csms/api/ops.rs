//! GenerateRandomPassword, RotateSecret and ListSecretTask.
//!
//! dewstack has no FunctionGraph: rotating a secret stores a freshly generated
//! 32-character password as a new `SYSCURRENT` version (notifying
//! SECRET_VERSION_CREATED and SECRET_ROTATED) and records a finished task.

use super::secrets::{parse_limit, SecretPath};
use super::versions;
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::query::Query;
use crate::csms::domain::{EventType, SecretValue};
use crate::csms::error::CsmsError;
use crate::csms::stages;
use crate::csms::wire::CsmsBody;
use crate::csms::wire::CsmsQuery;
use crate::server::state::AppState;
use crate::store::TxExt;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

const TASKS: &str = "csms_tasks";
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
pub const MIN_PASSWORD: i64 = 8;
pub const MAX_PASSWORD: i64 = 4096;

#[derive(Deserialize, Default)]
pub struct PasswordRequest {
    pub password_policy_name: Option<String>,
    pub length: Option<i64>,
    pub exclude_characters: Option<String>,
    pub exclude_lowercase: Option<bool>,
    pub exclude_uppercase: Option<bool>,
    pub exclude_numbers: Option<bool>,
    pub exclude_punctuation: Option<bool>,
    pub include_space: Option<bool>,
    pub require_each_included_type: Option<bool>,
}

#[derive(Serialize)]
pub struct PasswordResponse {
    pub password: String,
}

/// A random password following `req`; character classes that end up empty
/// after exclusions are dropped; none left is an invalid request.
pub fn generate_password(
    req: &PasswordRequest,
    rng: &crate::rng::Rng,
) -> Result<Zeroizing<String>, CsmsError> {
    use rand::Rng as _;
    let length = req.length.unwrap_or(32);
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&length) {
        return Err(CsmsError::InvalidParameter("length"));
    }
    let excluded = req.exclude_characters.as_deref().unwrap_or_default();
    let mut classes: Vec<Vec<char>> = Vec::new();
    let mut add = |skip: Option<bool>, chars: &str| {
        if !skip.unwrap_or(false) {
            let set: Vec<char> = chars.chars().filter(|c| !excluded.contains(*c)).collect();
            if !set.is_empty() {
                classes.push(set);
            }
        }
    };
    add(req.exclude_lowercase, "abcdefghijklmnopqrstuvwxyz");
    add(req.exclude_uppercase, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    add(req.exclude_numbers, "0123456789");
    add(req.exclude_punctuation, PUNCTUATION);
    add(req.include_space.map(|on| !on).or(Some(true)), " ");
    if classes.is_empty() {
        return Err(CsmsError::InvalidParameter("exclude_characters"));
    }
    let all: Vec<char> = classes.iter().flatten().copied().collect();
    let mut rng = rng.csprng();
    let length = length as usize;
    let mut out: Vec<char> = (0..length)
        .map(|_| all[rng.gen_range(0..all.len())])
        .collect();
    if req.require_each_included_type.unwrap_or(false) {
        if classes.len() > length {
            return Err(CsmsError::InvalidParameter("length"));
        }
        // One position per class, chosen without repeats, holds a member of it.
        let mut positions: Vec<usize> = (0..length).collect();
        for class in &classes {
            let pick = rng.gen_range(0..positions.len());
            let at = positions.swap_remove(pick);
            out[at] = class[rng.gen_range(0..class.len())];
        }
    }
    let password = Zeroizing::new(out.iter().collect::<String>());
    out.iter_mut().for_each(|c| *c = '\0');
    Ok(password)
}

pub async fn generate_random_password(
    State(app): State<AppState>,
    _caller: Caller,
    Body(req, _): CsmsBody<PasswordRequest>,
) -> Result<Json<PasswordResponse>, CsmsError> {
    let _ = &req.password_policy_name;
    let password = generate_password(&req, &app.rng)?;
    Ok(Json(PasswordResponse {
        password: password.to_string(),
    }))
}

#[derive(Serialize, Deserialize, Clone)]
pub struct SecretTask {
    pub task_id: String,
    pub secret_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_func_urn: Option<String>,
    pub task_status: String,
    pub operate_type: String,
    pub task_time: i64,
    pub attempt_nums: i64,
    pub task_error_code: String,
    pub task_error_msg: String,
}

#[derive(Serialize)]
pub struct RotateSecretResponse {
    pub version_id: String,
    pub secret_name: String,
    pub rotation_task_id: String,
}

pub async fn rotate_secret(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
) -> Result<Json<RotateSecretResponse>, CsmsError> {
    let password = generate_password(&PasswordRequest::default(), &app.rng)?;
    let value = SecretValue {
        bytes: Zeroizing::new(password.as_bytes().to_vec()),
        binary: false,
    };
    let (secret, version) = versions::add_version(
        &app,
        caller.project(),
        &path.secret_name,
        &value,
        vec![stages::CURRENT.to_owned()],
        None,
        Some(EventType::Rotated),
    )
    .await?;
    let task = SecretTask {
        task_id: app.rng.uuid().to_string(),
        secret_name: secret.name.clone(),
        rotation_func_urn: secret.rotation_func_urn.clone(),
        task_status: "SUCCESS".into(),
        operate_type: "ROTATE".into(),
        task_time: version.create_ms,
        attempt_nums: 1,
        task_error_code: String::new(),
        task_error_msg: String::new(),
    };
    let key = format!(
        "{}/{:016}/{}",
        caller.project(),
        task.task_time,
        task.task_id
    );
    let saved = task.clone();
    app.db
        .tx(move |tx| tx.put_json(TASKS, &key, &saved).map_err(CsmsError::from))
        .await?;
    Ok(Json(RotateSecretResponse {
        version_id: stages::version_id(version.number),
        secret_name: secret.name,
        rotation_task_id: task.task_id,
    }))
}

#[derive(Deserialize, Default)]
pub struct TasksQuery {
    pub secret_name: Option<String>,
    pub status: Option<String>,
    pub task_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::common::body::string_or_number::deserialize"
    )]
    pub limit: Option<String>,
    pub marker: Option<String>,
}

#[derive(Serialize)]
pub struct ListSecretTaskResponse {
    pub total: i64,
    pub tasks: Vec<SecretTask>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

pub async fn list_secret_task(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): CsmsQuery<TasksQuery>,
) -> Result<Json<ListSecretTaskResponse>, CsmsError> {
    let limit = parse_limit(q.limit.as_deref())?;
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        if s != "SUCCESS" && s != "FAILED" {
            return Err(CsmsError::InvalidParameter("status"));
        }
    }
    let project = caller.project().to_owned();
    let all: Vec<SecretTask> = app
        .db
        .tx(move |tx| {
            Ok::<_, CsmsError>(
                tx.scan_json::<SecretTask>(TASKS, &format!("{project}/"))?
                    .into_iter()
                    .map(|(_, t)| t)
                    .collect(),
            )
        })
        .await?;
    let some = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let (name, status, id) = (some(&q.secret_name), some(&q.status), some(&q.task_id));
    let matching: Vec<SecretTask> = all
        .into_iter()
        .filter(|t| name.as_deref().is_none_or(|n| t.secret_name == n))
        .filter(|t| status.as_deref().is_none_or(|s| t.task_status == s))
        .filter(|t| id.as_deref().is_none_or(|i| t.task_id == i))
        .collect();
    let total = matching.len() as i64;
    let start = match some(&q.marker) {
        Some(m) => matching
            .iter()
            .position(|t| t.task_id == m)
            .map(|i| i + 1)
            .ok_or(CsmsError::InvalidParameter("marker"))?,
        None => 0,
    };
    let page: Vec<SecretTask> = matching.iter().skip(start).take(limit).cloned().collect();
    let more = start + page.len() < matching.len();
    Ok(Json(ListSecretTaskResponse {
        total,
        next_marker: page.last().filter(|_| more).map(|t| t.task_id.clone()),
        tasks: page,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn passwords_follow_the_policy() {
        let p = generate_password(&PasswordRequest::default(), &Rng::seeded(1)).unwrap();
        assert_eq!(p.chars().count(), 32);
        assert!(!p.contains(' '));
        let req = PasswordRequest {
            length: Some(64),
            exclude_punctuation: Some(true),
            exclude_uppercase: Some(true),
            exclude_characters: Some("abc".into()),
            require_each_included_type: Some(true),
            ..Default::default()
        };
        let p = generate_password(&req, &Rng::seeded(1)).unwrap();
        assert!(p
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert!(!p.contains(['a', 'b', 'c']));
        assert!(p.chars().any(|c| c.is_ascii_digit()) && p.chars().any(|c| c.is_ascii_lowercase()));
        let spaced = PasswordRequest {
            length: Some(MAX_PASSWORD),
            include_space: Some(true),
            ..Default::default()
        };
        assert!(generate_password(&spaced, &Rng::seeded(1))
            .unwrap()
            .contains(' '));
        for bad in [7, 4097] {
            let r = PasswordRequest {
                length: Some(bad),
                ..Default::default()
            };
            assert!(generate_password(&r, &Rng::seeded(1)).is_err());
        }
        let nothing = PasswordRequest {
            exclude_lowercase: Some(true),
            exclude_uppercase: Some(true),
            exclude_numbers: Some(true),
            exclude_punctuation: Some(true),
            ..Default::default()
        };
        assert!(generate_password(&nothing, &Rng::seeded(1)).is_err());
    }
}
