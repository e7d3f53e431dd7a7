//! Version stages, pure. A stage is a label that points to exactly one version
//! of a secret; a version may carry several. `SYSCURRENT` marks the version
//! served by default; whenever it moves, the version it leaves gets
//! `SYSPREVIOUS` (which the caller can neither set nor delete). At most 12
//! stages per secret (CSMS.0203).

use super::domain::is_valid_name;
use super::error::CsmsError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const CURRENT: &str = "SYSCURRENT";
pub const PREVIOUS: &str = "SYSPREVIOUS";
pub const MAX_STAGES: usize = 12;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StageRecord {
    pub version_id: String,
    pub update_ms: i64,
}

pub type Stages = BTreeMap<String, StageRecord>;

pub fn version_id(n: u64) -> String {
    format!("v{n}")
}

pub fn version_number(id: &str) -> Option<u64> {
    // Exactly what `version_id` writes: digits only, no sign or leading zero.
    let digits = id.strip_prefix('v')?;
    if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok().filter(|n| *n > 0)
}

pub fn is_system(name: &str) -> bool {
    name == CURRENT || name == PREVIOUS
}

pub fn parse_stage_name(raw: &str) -> Result<String, CsmsError> {
    if !is_valid_name(raw) {
        return Err(CsmsError::InvalidParameter("stage_name"));
    }
    Ok(raw.to_owned())
}

/// `version_stages` of a new version: `[SYSCURRENT]` when not given, else 1–12
/// distinct valid names, none of them `SYSPREVIOUS`.
pub fn parse_version_stages(raw: Option<&[String]>) -> Result<Vec<String>, CsmsError> {
    let Some(raw) = raw else {
        return Ok(vec![CURRENT.to_owned()]);
    };
    if raw.is_empty() || raw.len() > MAX_STAGES {
        return Err(CsmsError::InvalidParameter("version_stages"));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for name in raw {
        if !is_valid_name(name) {
            return Err(CsmsError::InvalidParameter("version_stages"));
        }
        if name == PREVIOUS {
            return Err(CsmsError::SystemStage);
        }
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    Ok(out)
}

/// Points `name` at `version`; moving `SYSCURRENT` hands `SYSPREVIOUS` to the
/// version it leaves. Nothing changes when the result would break a rule.
pub fn move_stage(
    stages: &mut Stages,
    name: &str,
    version: &str,
    now_ms: i64,
) -> Result<(), CsmsError> {
    move_all(stages, &[name.to_owned()], version, now_ms)
}

/// `move_stage` for several names at once (a new version's `version_stages`).
pub fn move_all(
    stages: &mut Stages,
    names: &[String],
    version: &str,
    now_ms: i64,
) -> Result<(), CsmsError> {
    let mut next = stages.clone();
    for name in names {
        if name == PREVIOUS {
            return Err(CsmsError::SystemStage);
        }
        let to = StageRecord {
            version_id: version.to_owned(),
            update_ms: now_ms,
        };
        if name == CURRENT {
            if let Some(old) = next.get(CURRENT).filter(|s| s.version_id != version) {
                let previous = StageRecord {
                    version_id: old.version_id.clone(),
                    update_ms: now_ms,
                };
                next.insert(PREVIOUS.to_owned(), previous);
            }
        }
        next.insert(name.clone(), to);
    }
    if next.len() > MAX_STAGES {
        return Err(CsmsError::StageQuota);
    }
    *stages = next;
    Ok(())
}

/// DeleteSecretStage: only custom stages can go.
pub fn remove_stage(stages: &mut Stages, name: &str) -> Result<(), CsmsError> {
    if is_system(name) {
        return Err(CsmsError::SystemStage);
    }
    stages
        .remove(name)
        .map(|_| ())
        .ok_or(CsmsError::StageNotFound)
}

/// The version an id names: `latest` is `SYSCURRENT`, `previous` is `SYSPREVIOUS`.
pub fn resolve(stages: &Stages, id: &str) -> Result<String, CsmsError> {
    let stage = match id {
        "latest" => CURRENT,
        "previous" => PREVIOUS,
        other => return Ok(other.to_owned()),
    };
    stages
        .get(stage)
        .map(|s| s.version_id.clone())
        .ok_or(CsmsError::VersionNotFound)
}

/// Versions a secret keeps: "凭据管理服务的每个凭据中最多可支持20个版本"
/// (CreateSecretVersion, 接口约束).
pub const MAX_VERSIONS: usize = 20;

/// The version to drop so that a secret holding `numbers` (oldest first)
/// keeps at most `MAX_VERSIONS`: the oldest one no stage points to. The cloud
/// publishes the limit but not what happens at the 21st version, and CSMS has
/// no call that deletes a version, so refusing would leave a rotated secret
/// stuck for good; dropping the oldest unstaged version (as AWS Secrets
/// Manager does) is dewstack's choice. A stage-less version always exists
/// then, since a secret has at most `MAX_STAGES` (12) stages.
pub fn version_to_drop(stages: &Stages, numbers: &[u64]) -> Option<u64> {
    if numbers.len() <= MAX_VERSIONS {
        return None;
    }
    numbers
        .iter()
        .copied()
        .find(|n| stages_of(stages, &version_id(*n)).is_empty())
}

/// The stages that point to `version`, in name order.
pub fn stages_of(stages: &Stages, version: &str) -> Vec<String> {
    stages
        .iter()
        .filter(|(_, s)| s.version_id == version)
        .map(|(n, _)| n.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(stages: &Stages, name: &str) -> Option<String> {
        stages.get(name).map(|s| s.version_id.clone())
    }

    #[test]
    fn the_oldest_unstaged_version_goes_beyond_twenty() {
        let mut s = Stages::new();
        let numbers: Vec<u64> = (1..=21).collect();
        move_all(&mut s, &["keep".to_string()], "v1", 1).unwrap();
        move_all(&mut s, &parse_version_stages(None).unwrap(), "v21", 2).unwrap();
        assert_eq!(version_to_drop(&s, &numbers[..20]), None);
        // v1 carries a stage: v2 is the oldest without one.
        assert_eq!(version_to_drop(&s, &numbers), Some(2));
        remove_stage(&mut s, "keep").unwrap();
        assert_eq!(version_to_drop(&s, &numbers), Some(1));
    }

    #[test]
    fn new_versions_take_current_and_push_previous() {
        let mut s = Stages::new();
        move_all(&mut s, &parse_version_stages(None).unwrap(), "v1", 1).unwrap();
        assert_eq!(at(&s, CURRENT).as_deref(), Some("v1"));
        assert_eq!(at(&s, PREVIOUS), None);
        move_all(&mut s, &parse_version_stages(None).unwrap(), "v2", 2).unwrap();
        assert_eq!(at(&s, CURRENT).as_deref(), Some("v2"));
        assert_eq!(at(&s, PREVIOUS).as_deref(), Some("v1"));
        move_all(&mut s, &[CURRENT.into()], "v3", 3).unwrap();
        assert_eq!(at(&s, PREVIOUS).as_deref(), Some("v2"));
        assert_eq!(stages_of(&s, "v1"), Vec::<String>::new());
    }

    #[test]
    fn custom_stages_do_not_touch_current() {
        let mut s = Stages::new();
        move_all(&mut s, &[CURRENT.into()], "v1", 1).unwrap();
        move_all(&mut s, &["pending".into()], "v2", 2).unwrap();
        assert_eq!(at(&s, CURRENT).as_deref(), Some("v1"));
        assert_eq!(at(&s, "pending").as_deref(), Some("v2"));
        // A stage points to one version only: moving it leaves v2.
        move_stage(&mut s, "pending", "v1", 3).unwrap();
        assert_eq!(stages_of(&s, "v2"), Vec::<String>::new());
        assert_eq!(
            stages_of(&s, "v1"),
            vec![CURRENT.to_string(), "pending".into()]
        );
    }

    #[test]
    fn moving_current_to_its_own_version_keeps_previous() {
        let mut s = Stages::new();
        move_all(&mut s, &[CURRENT.into()], "v1", 1).unwrap();
        move_all(&mut s, &[CURRENT.into()], "v2", 2).unwrap();
        move_stage(&mut s, CURRENT, "v2", 3).unwrap();
        assert_eq!(at(&s, PREVIOUS).as_deref(), Some("v1"));
        move_stage(&mut s, CURRENT, "v1", 4).unwrap();
        assert_eq!(at(&s, CURRENT).as_deref(), Some("v1"));
        assert_eq!(at(&s, PREVIOUS).as_deref(), Some("v2"));
    }

    #[test]
    fn system_stages_are_protected() {
        let mut s = Stages::new();
        move_all(&mut s, &[CURRENT.into()], "v1", 1).unwrap();
        move_all(&mut s, &[CURRENT.into()], "v2", 2).unwrap();
        assert!(matches!(
            remove_stage(&mut s, CURRENT),
            Err(CsmsError::SystemStage)
        ));
        assert!(matches!(
            remove_stage(&mut s, PREVIOUS),
            Err(CsmsError::SystemStage)
        ));
        assert!(matches!(
            move_stage(&mut s, PREVIOUS, "v2", 3),
            Err(CsmsError::SystemStage)
        ));
        assert!(matches!(
            parse_version_stages(Some(&[PREVIOUS.into()])),
            Err(CsmsError::SystemStage)
        ));
        assert!(matches!(
            remove_stage(&mut s, "nope"),
            Err(CsmsError::StageNotFound)
        ));
        move_stage(&mut s, "custom", "v1", 3).unwrap();
        remove_stage(&mut s, "custom").unwrap();
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn stage_quota_is_twelve_and_refusal_changes_nothing() {
        let mut s = Stages::new();
        move_all(&mut s, &[CURRENT.into()], "v1", 1).unwrap();
        for i in 0..11 {
            move_stage(&mut s, &format!("s{i}"), "v1", 2).unwrap();
        }
        assert_eq!(s.len(), 12);
        assert!(matches!(
            move_stage(&mut s, "extra", "v1", 3),
            Err(CsmsError::StageQuota)
        ));
        assert_eq!(s.len(), 12);
        // Re-pointing an existing stage is always fine.
        move_stage(&mut s, "s0", "v1", 4).unwrap();
        let many: Vec<String> = (0..13).map(|i| format!("x{i}")).collect();
        assert!(parse_version_stages(Some(&many)).is_err());
        assert!(parse_version_stages(Some(&[])).is_err());
    }

    #[test]
    fn resolving_ids() {
        let mut s = Stages::new();
        move_all(&mut s, &[CURRENT.into()], "v1", 1).unwrap();
        assert_eq!(resolve(&s, "latest").unwrap(), "v1");
        assert!(matches!(
            resolve(&s, "previous"),
            Err(CsmsError::VersionNotFound)
        ));
        move_all(&mut s, &[CURRENT.into()], "v2", 2).unwrap();
        assert_eq!(resolve(&s, "previous").unwrap(), "v1");
        assert_eq!(resolve(&s, "v7").unwrap(), "v7");
        assert_eq!(version_number("v12"), Some(12));
        assert_eq!(version_number("v012"), None);
        assert_eq!(version_number("v0"), None);
        assert_eq!(version_number("12"), None);
        assert_eq!(version_number("v+5"), None);
        assert_eq!(version_number("v"), None);
        assert_eq!(version_number("v99999999999999999999"), None);
        assert_eq!(version_id(3), "v3");
    }
}
