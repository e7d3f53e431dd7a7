//! CSMS grants: the rules of CreateGrants/UpdateGrant (pure), and their
//! records.
//!
//! | table | key | value |
//! |---|---|---|
//! | `csms_grants` | `project/secret_id/grantee` | `GrantRecord` |
//! | `csms_grantees` | `grantee/secret_id` | owning project (the access check's index) |
//!
//! A grant lets one user read one secret (ShowSecret, ListSecretVersions,
//! ShowSecretVersion, ShowSecretStage) until its `validity_time`; the reading
//! itself is decided in `access.rs`. Grants go with their secret when it is
//! purged (`store::purge_secret`).

use super::error::CsmsError;
use crate::store::{Tx, TxExt};
use chrono::{NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

const GRANTS: &str = "csms_grants";
const GRANTEES: &str = "csms_grantees";

/// Grants on one secret (dewstack's choice: the cloud publishes no limit).
/// It also bounds a project's grants: secrets are bounded by their quota.
pub const GRANTS_PER_SECRET: usize = 100;

/// The resource type CreateGrants names. The cloud also grants secret groups
/// (`GROUP`); dewstack has no secret groups, so only `SECRET` is accepted.
pub const SECRET: &str = "SECRET";

/// `grantee_type` `0`: one user. `2` (a user group) is refused: dewstack's
/// directory has no groups (dewstack's choice, docs/csms.md).
pub const GRANTEE_USER: &str = "0";
const GRANTEE_GROUP: &str = "2";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct GrantRecord {
    pub id: String,
    pub project_id: String,
    pub secret_id: String,
    pub secret_name: String,
    /// The grantee's user id and domain.
    pub grantee: String,
    pub grantee_domain: String,
    pub create_ms: i64,
    pub update_ms: i64,
    /// The grant ends at this instant; `None`: until deleted.
    pub validity_ms: Option<i64>,
}

impl GrantRecord {
    /// Whether the grant lets its grantee read at `now_ms`.
    pub fn in_effect(&self, now_ms: i64) -> bool {
        self.validity_ms.is_none_or(|end| now_ms < end)
    }

    /// `state` of the wire: 0 in effect, 1 expired (dewstack's choice: the
    /// cloud documents the field without its values).
    pub fn state(&self, now_ms: i64) -> i32 {
        if self.in_effect(now_ms) {
            0
        } else {
            1
        }
    }
}

/// `type` of the request: only `SECRET` (case-sensitive, as documented).
pub fn parse_resource_type(raw: Option<&str>) -> Result<(), CsmsError> {
    match raw.filter(|t| !t.is_empty()) {
        None => Err(CsmsError::MissingParameter("type")),
        Some(SECRET) => Ok(()),
        Some(_) => Err(CsmsError::InvalidParameter("type")),
    }
}

pub fn parse_grantee_type(raw: Option<&str>) -> Result<(), CsmsError> {
    match raw.map(str::trim).filter(|t| !t.is_empty()) {
        None => Err(CsmsError::MissingParameter("grantee_type")),
        Some(GRANTEE_USER) => Ok(()),
        Some(GRANTEE_GROUP) => Err(CsmsError::GrantGroupUnsupported),
        Some(_) => Err(CsmsError::InvalidParameter("grantee_type")),
    }
}

/// A user id as the cloud's grant pages bound it: 1–64 characters.
pub fn parse_grantee(raw: Option<&str>, field: &'static str) -> Result<String, CsmsError> {
    match raw.filter(|v| !v.is_empty()) {
        None => Err(CsmsError::MissingParameter(field)),
        Some(v) if v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
            Ok(v.to_owned())
        }
        Some(_) => Err(CsmsError::InvalidParameter(field)),
    }
}

/// `resource_id`: the secret's id (or, dewstack's choice, its name), at most
/// 64 characters as the published pages bound it.
pub fn parse_resource_id(raw: Option<&str>) -> Result<String, CsmsError> {
    match raw.filter(|v| !v.is_empty()) {
        None => Err(CsmsError::MissingParameter("resource_id")),
        Some(v) if v.len() <= 64 && !v.contains('/') => Ok(v.to_owned()),
        Some(_) => Err(CsmsError::InvalidParameter("resource_id")),
    }
}

/// `validity_time`, "有效期截止时间" (the end of validity), in the forms a
/// client sends: the Python SDK models it as a date (`2027-01-31`), the
/// published page as a string; integers are milliseconds since the epoch, as
/// every CSMS time in responses. A date means through the end of that day
/// (UTC). Absent or empty: no end. An end not after `now_ms` is refused (a
/// grant that never holds is a mistake). The accepted forms are dewstack's
/// choice: the cloud documents none.
pub fn parse_validity(raw: Option<&str>, now_ms: i64) -> Result<Option<i64>, CsmsError> {
    let Some(raw) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad = CsmsError::InvalidParameter("validity_time");
    let end = if let Ok(ms) = raw.parse::<i64>() {
        ms
    } else if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let next = day
            .succ_opt()
            .ok_or(CsmsError::InvalidParameter("validity_time"))?;
        let midnight = next.and_hms_opt(0, 0, 0).ok_or(bad)?;
        Utc.from_utc_datetime(&midnight).timestamp_millis()
    } else if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        t.timestamp_millis()
    } else {
        return Err(bad);
    };
    if end <= now_ms {
        return Err(CsmsError::InvalidParameter("validity_time"));
    }
    Ok(Some(end))
}

fn grant_key(project: &str, secret_id: &str, grantee: &str) -> String {
    format!("{project}/{secret_id}/{grantee}")
}

fn grantee_key(grantee: &str, secret_id: &str) -> String {
    format!("{grantee}/{secret_id}")
}

fn decode(bytes: &[u8]) -> Result<GrantRecord, CsmsError> {
    serde_json::from_slice(bytes).map_err(|e| CsmsError::Internal(e.to_string()))
}

/// Every grant on a secret (at most `GRANTS_PER_SECRET`), by grantee id.
pub fn of_secret(
    tx: &mut dyn Tx,
    project: &str,
    secret_id: &str,
) -> Result<Vec<GrantRecord>, CsmsError> {
    let prefix = format!("{project}/{secret_id}/");
    let rows = tx.scan(GRANTS, &prefix, None, GRANTS_PER_SECRET + 1)?;
    rows.iter().map(|(_, b)| decode(b)).collect()
}

pub fn find(
    tx: &mut dyn Tx,
    project: &str,
    secret_id: &str,
    grantee: &str,
) -> Result<Option<GrantRecord>, CsmsError> {
    Ok(tx.get_json(GRANTS, &grant_key(project, secret_id, grantee))?)
}

/// Writes a grant, refusing a new one beyond `GRANTS_PER_SECRET`.
pub fn save(tx: &mut dyn Tx, grant: &GrantRecord) -> Result<(), CsmsError> {
    let key = grant_key(&grant.project_id, &grant.secret_id, &grant.grantee);
    if tx.get(GRANTS, &key)?.is_none()
        && of_secret(tx, &grant.project_id, &grant.secret_id)?.len() >= GRANTS_PER_SECRET
    {
        return Err(CsmsError::GrantQuota);
    }
    tx.put(
        GRANTEES,
        &grantee_key(&grant.grantee, &grant.secret_id),
        grant.project_id.as_bytes(),
    )?;
    tx.put_json(GRANTS, &key, grant)?;
    Ok(())
}

pub fn delete(tx: &mut dyn Tx, grant: &GrantRecord) -> Result<(), CsmsError> {
    tx.delete(GRANTEES, &grantee_key(&grant.grantee, &grant.secret_id))?;
    tx.delete(
        GRANTS,
        &grant_key(&grant.project_id, &grant.secret_id, &grant.grantee),
    )?;
    Ok(())
}

/// Removes every grant on a secret (it is purged, or the owner revokes all).
pub fn delete_all(tx: &mut dyn Tx, project: &str, secret_id: &str) -> Result<(), CsmsError> {
    for g in of_secret(tx, project, secret_id)? {
        delete(tx, &g)?;
    }
    Ok(())
}

/// The grant naming `grantee` on the secret `secret_id` of whichever project
/// made it; ids are unique across projects, so at most one project holds it.
pub fn for_grantee(
    tx: &mut dyn Tx,
    grantee: &str,
    secret_id: &str,
) -> Result<Option<GrantRecord>, CsmsError> {
    let Some(project) = tx.get(GRANTEES, &grantee_key(grantee, secret_id))? else {
        return Ok(None);
    };
    find(tx, &String::from_utf8_lossy(&project), secret_id, grantee)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn validity_forms() {
        assert_eq!(parse_validity(None, NOW).unwrap(), None);
        assert_eq!(parse_validity(Some(""), NOW).unwrap(), None);
        let ms = (NOW + 5).to_string();
        assert_eq!(parse_validity(Some(&ms), NOW).unwrap(), Some(NOW + 5));
        // 2027-02-01 runs through the end of that day, UTC.
        let day = Utc
            .with_ymd_and_hms(2027, 2, 2, 0, 0, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(parse_validity(Some("2027-02-01"), NOW).unwrap(), Some(day));
        assert_eq!(
            parse_validity(Some("2027-02-01T08:00:00+08:00"), NOW).unwrap(),
            Some(day - 24 * 3600 * 1000)
        );
        // Not after now: 2027-01-14 ended before NOW (2027-01-15T08:00Z).
        for bad in [
            "tomorrow",
            "2027-13-01",
            "1",
            "2027-01-14",
            &NOW.to_string(),
        ] {
            assert!(
                matches!(
                    parse_validity(Some(bad), NOW),
                    Err(CsmsError::InvalidParameter("validity_time"))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn types_and_grantees() {
        assert!(parse_resource_type(Some("SECRET")).is_ok());
        assert!(matches!(
            parse_resource_type(Some("GROUP")),
            Err(CsmsError::InvalidParameter("type"))
        ));
        assert!(matches!(
            parse_resource_type(None),
            Err(CsmsError::MissingParameter("type"))
        ));
        assert!(parse_grantee_type(Some("0")).is_ok());
        assert!(matches!(
            parse_grantee_type(Some("2")),
            Err(CsmsError::GrantGroupUnsupported)
        ));
        assert!(parse_grantee_type(Some("1")).is_err());
        assert!(parse_grantee(Some(&"a".repeat(64)), "g").is_ok());
        assert!(parse_grantee(Some(&"a".repeat(65)), "g").is_err());
        assert!(parse_grantee(Some("a/b"), "g").is_err());
        assert!(parse_grantee(Some(""), "g").is_err());
    }

    #[test]
    fn a_grant_holds_until_its_end() {
        let mut g = GrantRecord {
            id: "g".into(),
            project_id: "p".into(),
            secret_id: "s".into(),
            secret_name: "n".into(),
            grantee: "u".into(),
            grantee_domain: "d".into(),
            create_ms: 0,
            update_ms: 0,
            validity_ms: Some(NOW),
        };
        assert!(g.in_effect(NOW - 1));
        assert!(!g.in_effect(NOW));
        assert_eq!((g.state(NOW - 1), g.state(NOW)), (0, 1));
        g.validity_ms = None;
        assert!(g.in_effect(i64::MAX));
    }
}
