//! Pure rotation rules: how a secret rotates (by the type the cloud gives
//! it), when it rotates next, and what a rotation function is told.

use crate::csms::domain::parse_rotation_period;
use crate::csms::error::CsmsError;
use serde::Serialize;

/// The stage a rotation's new version carries until the rotation finishes
/// (the name rotation functions of every cloud know; dewstack's choice, as
/// the cloud's rotation protocol is not published).
pub const PENDING: &str = "SYSPENDING";

/// The steps a rotation function is invoked with, in order.
pub const STEPS: [&str; 4] = ["createSecret", "setSecret", "testSecret", "finishSecret"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// dewstack stores a generated 32-character password as the new version.
    Generate,
    /// The rotation function the URN names runs every step.
    Function { urn: String },
    /// A new access key for the user of the secret's key (`access_key.rs`).
    AccessKey,
}

/// How a secret of `secret_type` rotates, or why it cannot.
///
/// RDS-FG and GaussDB-FG are rotated by a FunctionGraph function in the
/// cloud: `rotation_func_urn` and `rotation_config` (`{"InstanceId": "...",
/// "SecretSubType": "SingleUser"|"MultiUser"}`, required for these types by
/// CreateSecret's reference) must be set. COMMON secrets get a generated value
/// (dewstack's choice: the cloud's RotateSecret page says it does not rotate
/// COMMON secrets, but dewstack has always done so and tests rely on it).
pub fn method(
    secret_type: &str,
    func_urn: Option<&str>,
    rotation_config: Option<&str>,
) -> Result<Method, CsmsError> {
    match secret_type {
        "COMMON" => Ok(Method::Generate),
        "IAM" => Ok(Method::AccessKey),
        "RDS-FG" | "GaussDB-FG" => {
            let urn = func_urn
                .filter(|u| !u.is_empty())
                .ok_or(CsmsError::MissingParameter("rotation_func_urn"))?;
            check_rotation_config(rotation_config)?;
            Ok(Method::Function {
                urn: urn.to_owned(),
            })
        }
        _ => Err(CsmsError::InvalidParameter("secret_type")),
    }
}

fn check_rotation_config(raw: Option<&str>) -> Result<(), CsmsError> {
    let bad = CsmsError::InvalidParameter("rotation_config");
    let raw = raw.ok_or(CsmsError::MissingParameter("rotation_config"))?;
    let value: serde_json::Value = serde_json::from_str(raw).map_err(|_| bad)?;
    let sub = value.get("SecretSubType").and_then(|v| v.as_str());
    let instance = value.get("InstanceId").and_then(|v| v.as_str());
    match (instance, sub) {
        (Some(_), Some("SingleUser" | "MultiUser")) => Ok(()),
        _ => Err(CsmsError::InvalidParameter("rotation_config")),
    }
}

/// How long a `SYSPENDING` label marks a rotation still running. Another
/// rotation of the secret is refused meanwhile (400 `CSMS.0002`, parameter
/// "rotation": the cloud publishes no code for it); an older label is taken
/// to be left by a rotation that died. dewstack's choice, as long as the
/// sweep's lease.
pub const RUNNING_MS: i64 = 10 * 60_000;

pub fn rotation_running(stages: &crate::csms::stages::Stages, now_ms: i64) -> bool {
    stages
        .get(PENDING)
        .is_some_and(|p| now_ms.saturating_sub(p.update_ms) < RUNNING_MS)
}

/// `next_rotation_time` after a rotation (or a failed scheduled one) at
/// `from_ms`: one period later while automatic rotation is on.
pub fn next_rotation(auto_rotation: bool, period: Option<&str>, from_ms: i64) -> Option<i64> {
    let secs = parse_rotation_period(period?).ok()?;
    auto_rotation.then(|| from_ms.saturating_add(secs.saturating_mul(1000)))
}

/// What each step's POST carries (JSON). Names the secret and the versions,
/// never a value: the function reads values through the CSMS API, as it would
/// in the cloud. dewstack's choice of shape.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct StepEvent {
    pub step: &'static str,
    pub secret_name: String,
    pub secret_id: String,
    pub secret_type: String,
    pub project_id: String,
    /// The new version (it carries `version_stage`).
    pub version_id: String,
    pub version_stage: &'static str,
    /// The version that is `SYSCURRENT` while the rotation runs.
    pub current_version_id: Option<String>,
    pub rotation_config: Option<String>,
    pub rotation_func_urn: String,
    pub rotation_task_id: String,
}

/// Why a rotation failed, as its task reports it (`task_error_code`,
/// `task_error_msg`). Codes are dewstack's own: the cloud publishes none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: String,
    pub message: String,
}

impl Failure {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub fn of(e: &CsmsError) -> Self {
        Self::new(e.status_and_code().1, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn methods_by_type() {
        assert_eq!(method("COMMON", None, None).unwrap(), Method::Generate);
        assert_eq!(method("IAM", None, None).unwrap(), Method::AccessKey);
        let cfg = r#"{"InstanceId":"i-1","SecretSubType":"SingleUser"}"#;
        assert_eq!(
            method("RDS-FG", Some("urn:f"), Some(cfg)).unwrap(),
            Method::Function {
                urn: "urn:f".into()
            }
        );
        assert!(method("GaussDB-FG", Some("urn:f"), Some(cfg)).is_ok());
        assert!(matches!(
            method("RDS-FG", None, Some(cfg)),
            Err(CsmsError::MissingParameter("rotation_func_urn"))
        ));
        assert!(matches!(
            method("RDS-FG", Some("urn:f"), None),
            Err(CsmsError::MissingParameter("rotation_config"))
        ));
        for bad in [
            "nope",
            "{}",
            r#"{"InstanceId":"i","SecretSubType":"Triple"}"#,
        ] {
            assert!(method("RDS-FG", Some("u"), Some(bad)).is_err(), "{bad}");
        }
        assert!(matches!(
            method("RDS", None, None),
            Err(CsmsError::InvalidParameter("secret_type"))
        ));
    }

    #[test]
    fn a_fresh_pending_label_means_a_rotation_runs() {
        let mut stages = crate::csms::stages::Stages::new();
        assert!(!rotation_running(&stages, 0));
        crate::csms::stages::move_stage(&mut stages, PENDING, "v2", 1_000).unwrap();
        assert!(rotation_running(&stages, 1_000 + RUNNING_MS - 1));
        assert!(!rotation_running(&stages, 1_000 + RUNNING_MS));
    }

    #[test]
    fn next_rotation_is_one_period_on() {
        assert_eq!(
            next_rotation(true, Some("6h"), 1_000),
            Some(1_000 + 21_600_000)
        );
        assert_eq!(next_rotation(false, Some("6h"), 1_000), None);
        assert_eq!(next_rotation(true, None, 1_000), None);
        assert_eq!(next_rotation(true, Some("bad"), 1_000), None);
    }
}
