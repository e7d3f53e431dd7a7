//! Key spaces and their access points: field rules of CreateAccessPoint,
//! CreateKeyPolicy and their lists, access point states, and the text an
//! access point's holder signs to prove a request came through it.

use crate::kms::error::KmsError;
use serde::{Deserialize, Serialize};

/// Access points and key policies per project (dewstack's choice: the cloud
/// publishes no quota), so one tenant cannot grow the tables without end.
pub const ACCESS_POINTS_PER_PROJECT: usize = 100;
pub const POLICIES_PER_PROJECT: usize = 100;

/// What a key space holds per project: each kind has its quota and its
/// own names (an access point and a policy may share a name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    AccessPoint,
    Policy,
}

/// The one rule for adding a member to a key space: the project's quota of
/// that kind, then a name unique within its key space. `existing` is every
/// member of that kind in the project, as `(keyspace_id, name)`.
pub fn admit<'a>(
    member: Member,
    existing: impl ExactSizeIterator<Item = (&'a str, &'a str)>,
    keyspace_id: &str,
    name: &str,
) -> Result<(), KmsError> {
    let (quota, plural) = match member {
        Member::AccessPoint => (ACCESS_POINTS_PER_PROJECT, "access points"),
        Member::Policy => (POLICIES_PER_PROJECT, "key policies"),
    };
    let mut existing = existing;
    if existing.len() >= quota {
        return Err(KmsError::KeyspaceQuotaExceeded(plural));
    }
    if existing.any(|(space, n)| space == keyspace_id && n == name) {
        return Err(match member {
            Member::AccessPoint => KmsError::AccessPointNameExists,
            Member::Policy => KmsError::PolicyNameExists,
        });
    }
    Ok(())
}

/// Page size of ListAccessPoint and ListKeyPolicy (SDK: 1-100, default 50).
pub const LIST_DEFAULT: usize = 50;
pub const LIST_MAX: usize = 100;

/// `type` of an access point, as the SDK numbers them.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessPointType {
    Ecs,
    Cce,
    Custom,
}

impl AccessPointType {
    pub fn from_wire(raw: Option<i64>) -> Result<Self, KmsError> {
        match raw {
            Some(1) => Ok(Self::Ecs),
            Some(2) => Ok(Self::Cce),
            Some(3) => Ok(Self::Custom),
            None => Err(KmsError::MissingParameter("type")),
            Some(_) => Err(KmsError::InvalidParameter("type")),
        }
    }

    pub fn wire(self) -> i64 {
        match self {
            Self::Ecs => 1,
            Self::Cce => 2,
            Self::Custom => 3,
        }
    }
}

/// `state` of an access point: 0 disabled, 1 enabled.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessPointState {
    Enabled,
    Disabled,
}

impl AccessPointState {
    pub fn wire(self) -> i64 {
        match self {
            Self::Enabled => 1,
            Self::Disabled => 0,
        }
    }

    pub fn enable(self) -> Result<Self, KmsError> {
        match self {
            Self::Disabled => Ok(Self::Enabled),
            Self::Enabled => Err(KmsError::AccessPointNotDisabled),
        }
    }

    pub fn disable(self) -> Result<Self, KmsError> {
        match self {
            Self::Enabled => Ok(Self::Disabled),
            Self::Disabled => Err(KmsError::AccessPointNotEnabled),
        }
    }
}

/// `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`,
/// the SDK's rule for `keyspace_id`, `marker` and ids.
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub fn keyspace_id(raw: Option<&str>) -> Result<String, KmsError> {
    match raw {
        None | Some("") => Err(KmsError::MissingParameter("keyspace_id")),
        Some(s) if is_uuid(s) => Ok(s.to_ascii_lowercase()),
        Some(_) => Err(KmsError::InvalidParameter("keyspace_id")),
    }
}

/// `^[a-zA-Z0-9:/_-]{1,255}$` (access_point_name, policy_name).
pub fn name(raw: Option<&str>, field: &'static str) -> Result<String, KmsError> {
    let s = raw.ok_or(KmsError::MissingParameter(field))?;
    let ok = (1..=255).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":/_-".contains(&b));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(KmsError::InvalidParameter(field))
    }
}

/// Descriptions: at most 255 characters (the SDK's range), no control characters.
pub fn description(raw: Option<&str>) -> Result<String, KmsError> {
    let s = raw.unwrap_or_default();
    if s.chars().count() > 255 || s.chars().any(char::is_control) {
        return Err(KmsError::InvalidParameter("description"));
    }
    Ok(s.to_owned())
}

/// A validated CreateAccessPoint body.
#[derive(Debug, Clone)]
pub struct NewAccessPoint {
    pub keyspace_id: String,
    pub name: String,
    pub kind: AccessPointType,
    /// ECS: the instance id; CCE: the cluster's public key (PEM); Custom: empty.
    pub identity: String,
    pub cluster_id: String,
    pub description: String,
}

pub struct AccessPointFields<'a> {
    pub keyspace_id: Option<&'a str>,
    pub name: Option<&'a str>,
    pub kind: Option<i64>,
    pub identity: Option<&'a str>,
    pub cluster_id: Option<&'a str>,
    pub description: Option<&'a str>,
}

impl NewAccessPoint {
    /// The SDK's rules: ECS names its instance, CCE gives its cluster's
    /// public key and cluster id, Custom gives neither (a key pair is made).
    pub fn validate(f: AccessPointFields) -> Result<Self, KmsError> {
        let kind = AccessPointType::from_wire(f.kind)?;
        let identity = f.identity.unwrap_or_default();
        let cluster_id = f.cluster_id.unwrap_or_default();
        match kind {
            AccessPointType::Ecs if identity.is_empty() => {
                return Err(KmsError::MissingParameter("identity"))
            }
            AccessPointType::Cce if identity.is_empty() => {
                return Err(KmsError::MissingParameter("identity"))
            }
            AccessPointType::Cce if cluster_id.is_empty() => {
                return Err(KmsError::MissingParameter("cluster_id"))
            }
            AccessPointType::Custom if !identity.is_empty() => {
                return Err(KmsError::InvalidParameter("identity"))
            }
            _ => {}
        }
        if identity.len() > 4096 || cluster_id.len() > 64 {
            return Err(KmsError::InvalidParameter("identity"));
        }
        Ok(Self {
            keyspace_id: keyspace_id(f.keyspace_id)?,
            name: name(f.name, "access_point_name")?,
            kind,
            identity: identity.to_owned(),
            cluster_id: cluster_id.to_owned(),
            description: description(f.description)?,
        })
    }
}

/// Header naming the access point a request comes through, and the one
/// holding the signature over `string_to_sign` (dewstack's choice of
/// names: the cloud documents only that the client signs with the private
/// key and the server verifies).
pub const HEADER_ID: &str = "x-kms-access-point-id";
pub const HEADER_SIGNATURE: &str = "x-kms-access-point-signature";
/// The request's date, as the AK/SK scheme sends it.
pub const HEADER_DATE: &str = "x-sdk-date";
pub const SCHEME: &str = "DEWSTACK-AP-ECDSA-P256-SHA256";

/// What the access point's private key signs (ECDSA P-256, SHA-256, DER
/// or raw r||s, base64): the id, the date, the method, the path and the
/// hex SHA-256 of the body, one per line.
pub fn string_to_sign(id: &str, date: &str, method: &str, path: &str, body_sha256: &str) -> String {
    format!("{SCHEME}\n{id}\n{date}\n{method}\n{path}\n{body_sha256}")
}

/// `keyspace_id`, `limit` and `marker` of ListAccessPoint and ListKeyPolicy.
/// The marker is the id of the last item of the previous page.
#[derive(Debug)]
pub struct ListParams {
    keyspace: Option<String>,
    limit: usize,
    marker: Option<String>,
}

impl ListParams {
    pub fn parse(
        keyspace: Option<&str>,
        limit: Option<&str>,
        marker: Option<&str>,
    ) -> Result<Self, KmsError> {
        let keyspace = match keyspace {
            None | Some("") => None,
            Some(k) => Some(keyspace_id(Some(k))?),
        };
        let limit = crate::common::paging::parse_limit(limit, LIST_DEFAULT, LIST_MAX)
            .map_err(|_| KmsError::LimitOutOfRange)?;
        let marker = match marker {
            None | Some("") => None,
            Some(m) if is_uuid(m) => Some(m.to_ascii_lowercase()),
            Some(_) => return Err(KmsError::InvalidParameter("marker")),
        };
        Ok(Self {
            keyspace,
            limit,
            marker,
        })
    }

    fn in_space(&self, space: &str) -> bool {
        self.keyspace.as_deref().is_none_or(|k| k == space)
    }

    /// The page of those of `all` in the asked key space (all when none was
    /// asked), and the marker of the next page if any.
    pub fn page_in_space<T>(
        &self,
        all: Vec<T>,
        space: impl Fn(&T) -> &str,
        id: impl Fn(&T) -> &str,
    ) -> Result<(Vec<T>, Option<String>), KmsError> {
        let wanted = all
            .into_iter()
            .filter(|t| self.in_space(space(t)))
            .collect();
        self.page(wanted, id)
    }

    /// The page after the marker, and the marker of the next one if any.
    pub fn page<T>(
        &self,
        all: Vec<T>,
        id: impl Fn(&T) -> &str,
    ) -> Result<(Vec<T>, Option<String>), KmsError> {
        let start = match &self.marker {
            None => 0,
            Some(m) => {
                all.iter()
                    .position(|t| id(t) == m)
                    .ok_or(KmsError::InvalidParameter("marker"))?
                    + 1
            }
        };
        let rest = all.len().saturating_sub(start);
        let page: Vec<T> = all.into_iter().skip(start).take(self.limit).collect();
        let next = (rest > page.len())
            .then(|| page.last().map(|t| id(t).to_owned()))
            .flatten();
        Ok((page, next))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn uuid_rule_is_the_sdks() {
        assert!(is_uuid("0f0e1d2c-3b4a-5968-7766-554433221100"));
        assert!(is_uuid("0F0E1D2C-3B4A-5968-7766-554433221100"));
        assert!(!is_uuid("0f0e1d2c3b4a596877665544332211aa"));
        assert!(!is_uuid("0f0e1d2c-3b4a-5968-7766-55443322110g"));
    }

    #[test]
    fn access_point_types_need_their_identity() {
        let f = |kind, identity: Option<&'static str>, cluster: Option<&'static str>| {
            NewAccessPoint::validate(AccessPointFields {
                keyspace_id: Some("0f0e1d2c-3b4a-5968-7766-554433221100"),
                name: Some("app-1"),
                kind: Some(kind),
                identity,
                cluster_id: cluster,
                description: None,
            })
        };
        assert!(f(3, None, None).is_ok());
        assert!(f(3, Some("x"), None).is_err());
        assert!(f(1, None, None).is_err());
        assert!(f(1, Some("ecs-1"), None).is_ok());
        assert!(f(2, Some("pem"), None).is_err());
        assert!(f(2, Some("pem"), Some("c1")).is_ok());
        assert!(f(4, None, None).is_err());
    }

    #[test]
    fn names_follow_the_sdk_pattern() {
        assert!(name(Some("a:b/c_d-1"), "n").is_ok());
        assert!(name(Some(""), "n").is_err());
        assert!(name(Some("a b"), "n").is_err());
        assert!(name(Some(&"a".repeat(256)), "n").is_err());
    }

    #[test]
    fn a_page_holds_only_the_asked_key_space() {
        let (a, b) = (
            "0f0e1d2c-3b4a-5968-7766-55443322110a",
            "0f0e1d2c-3b4a-5968-7766-55443322110b",
        );
        let items: Vec<(&str, String)> = (0..4)
            .map(|i| {
                let space = if i % 2 == 0 { a } else { b };
                (space, format!("0f0e1d2c-3b4a-5968-7766-55443322110{i}"))
            })
            .collect();
        let in_b = ListParams::parse(Some(b), None, None).unwrap();
        let (page, next) = in_b
            .page_in_space(items.clone(), |t| t.0, |t| &t.1)
            .unwrap();
        assert_eq!(page, vec![items[1].clone(), items[3].clone()]);
        assert_eq!(next, None);
        let any = ListParams::parse(None, Some("3"), None).unwrap();
        let (page, next) = any.page_in_space(items.clone(), |t| t.0, |t| &t.1).unwrap();
        assert_eq!(page, items[..3]);
        assert_eq!(next.as_deref(), Some(items[2].1.as_str()));
    }

    #[test]
    fn pages_follow_the_marker() {
        let ids: Vec<String> = (0..5)
            .map(|i| format!("0f0e1d2c-3b4a-5968-7766-55443322110{i}"))
            .collect();
        let p = ListParams::parse(None, Some("2"), None).unwrap();
        let (page, next) = p.page(ids.clone(), |s| s).unwrap();
        assert_eq!(page, ids[..2]);
        assert_eq!(next.as_deref(), Some(ids[1].as_str()));
        let p = ListParams::parse(None, Some("2"), Some(&ids[3])).unwrap();
        let (page, next) = p.page(ids.clone(), |s| s).unwrap();
        assert_eq!((page, next), (vec![ids[4].clone()], None));
        let stale = "ffffffff-3b4a-5968-7766-554433221100";
        let p = ListParams::parse(None, None, Some(stale)).unwrap();
        assert!(p.page(ids, |s| s).is_err());
        assert!(ListParams::parse(None, Some("0"), None).is_err());
        assert!(ListParams::parse(None, Some("101"), None).is_err());
        assert!(ListParams::parse(Some("nope"), None, None).is_err());
        assert!(ListParams::parse(None, None, Some("nope")).is_err());
    }

    #[test]
    fn a_member_needs_room_in_the_project_and_a_free_name_in_its_space() {
        let (a, b) = (
            "0f0e1d2c-3b4a-5968-7766-55443322110a",
            "0f0e1d2c-3b4a-5968-7766-55443322110b",
        );
        let code = |r: Result<(), KmsError>| r.map_err(|e| e.status_and_code().1);
        let held = [(a, "app"), (b, "other")];
        for member in [Member::AccessPoint, Member::Policy] {
            let taken = match member {
                Member::AccessPoint => "KMS.9204",
                Member::Policy => "KMS.9203",
            };
            assert_eq!(
                code(admit(member, held.iter().copied(), a, "app")),
                Err(taken)
            );
            // The same name in another space, or another name: admitted.
            assert_eq!(code(admit(member, held.iter().copied(), b, "app")), Ok(()));
            assert_eq!(code(admit(member, held.iter().copied(), a, "new")), Ok(()));
            let quota = match member {
                Member::AccessPoint => ACCESS_POINTS_PER_PROJECT,
                Member::Policy => POLICIES_PER_PROJECT,
            };
            let names: Vec<String> = (0..quota).map(|i| format!("n{i}")).collect();
            let full = || names.iter().map(|n| (b, n.as_str()));
            assert_eq!(code(admit(member, full(), a, "app")), Err("KMS.9205"));
            let one_less = || names[1..].iter().map(|n| (b, n.as_str()));
            assert_eq!(code(admit(member, one_less(), a, "app")), Ok(()));
            // The quota is checked first, even for a taken name.
            assert_eq!(code(admit(member, full(), b, "n0")), Err("KMS.9205"));
        }
    }

    #[test]
    fn states_move_only_to_the_other_state() {
        assert_eq!(
            AccessPointState::Enabled.disable().ok(),
            Some(AccessPointState::Disabled)
        );
        assert!(AccessPointState::Enabled.enable().is_err());
        assert!(AccessPointState::Disabled.disable().is_err());
    }
}
