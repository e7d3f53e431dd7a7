//! Who may connect to an endpoint service: its own domain always; other
//! domains when a whitelist entry `iam:domain::<domain_id>` names them. The
//! domain part may contain `*`, matching any run of characters, so
//! `iam:domain::*` opens the service to everyone. `organizations:orgPath::…`
//! entries are accepted and stored, but dewstack has no organizations, so
//! they never match anybody.

use super::error::VpcepError;

const IAM_PREFIX: &str = "iam:domain::";
const ORG_PREFIX: &str = "organizations:orgPath::";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionType {
    DomainId,
    OrgPath,
}

impl PermissionType {
    pub fn parse(raw: Option<&str>) -> Result<Self, VpcepError> {
        match raw.unwrap_or("domainId") {
            "domainId" => Ok(PermissionType::DomainId),
            "orgPath" => Ok(PermissionType::OrgPath),
            _ => Err(VpcepError::InvalidParameter("permission_type")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PermissionType::DomainId => "domainId",
            PermissionType::OrgPath => "orgPath",
        }
    }

    pub fn of(permission: &str) -> Self {
        if permission.starts_with(ORG_PREFIX) {
            PermissionType::OrgPath
        } else {
            PermissionType::DomainId
        }
    }
}

/// Checks one whitelist entry against its declared type.
/// domainId: `iam:domain::` + 1–64 of `[A-Za-z0-9*]`;
/// orgPath: `organizations:orgPath::` + 1–1024 of `[A-Za-z0-9/*?-]`.
pub fn parse(raw: &str, kind: PermissionType) -> Result<String, VpcepError> {
    let raw = raw.trim();
    let ok = match kind {
        PermissionType::DomainId => raw.strip_prefix(IAM_PREFIX).is_some_and(|d| {
            (1..=64).contains(&d.len()) && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '*')
        }),
        PermissionType::OrgPath => raw.strip_prefix(ORG_PREFIX).is_some_and(|p| {
            (1..=1024).contains(&p.len())
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '*' | '?'))
        }),
    };
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(VpcepError::InvalidPermission)
    }
}

/// `*` matches any run of characters (also none); everything else literally.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// Whether `domain_id` may see and connect to a service owned by `owner`.
pub fn permits<'a>(
    owner: &str,
    entries: impl IntoIterator<Item = &'a str>,
    domain_id: &str,
) -> bool {
    owner == domain_id
        || entries.into_iter().any(|e| {
            e.strip_prefix(IAM_PREFIX)
                .is_some_and(|pattern| glob(pattern, domain_id))
        })
}

/// Whether the whitelist opens the service to every domain (`iam:domain::*`).
pub fn is_public<'a>(entries: impl IntoIterator<Item = &'a str>) -> bool {
    entries.into_iter().any(|e| e == "iam:domain::*")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const D: &str = "0605767a3300d5762fb7c0186d9e1779";

    #[test]
    fn formats() {
        let ok = parse(&format!("iam:domain::{D}"), PermissionType::DomainId).unwrap();
        assert_eq!(ok, format!("iam:domain::{D}"));
        assert!(parse("iam:domain::*", PermissionType::DomainId).is_ok());
        for bad in [
            "",
            "iam:domain::",
            "iam:domain::a-b",
            "iam:domain:abc",
            "domain::abc",
            "organizations:orgPath::o-1/r-2",
        ] {
            assert!(matches!(
                parse(bad, PermissionType::DomainId),
                Err(VpcepError::InvalidPermission)
            ));
        }
        assert!(parse(
            &format!("iam:domain::{}", "a".repeat(65)),
            PermissionType::DomainId
        )
        .is_err());
        assert!(parse(
            "organizations:orgPath::o-1/r-2/ou-3/*",
            PermissionType::OrgPath
        )
        .is_ok());
        assert!(parse("iam:domain::abc", PermissionType::OrgPath).is_err());
        assert_eq!(
            PermissionType::parse(None).unwrap(),
            PermissionType::DomainId
        );
        assert!(PermissionType::parse(Some("x")).is_err());
    }

    #[test]
    fn matching() {
        let exact = format!("iam:domain::{D}");
        assert!(permits("owner", [exact.as_str()], D));
        assert!(!permits("owner", [exact.as_str()], "ffff"));
        assert!(permits("owner", [], "owner"), "the owner is always allowed");
        assert!(!permits("owner", [], D));
        assert!(permits("owner", ["iam:domain::*"], D));
        assert!(permits("owner", ["iam:domain::0605*"], D));
        assert!(permits("owner", ["iam:domain::*1779"], D));
        assert!(permits("owner", ["iam:domain::06*d9*79"], D));
        assert!(!permits("owner", ["iam:domain::07*"], D));
        assert!(!permits("owner", ["organizations:orgPath::*"], D));
    }

    #[test]
    fn public() {
        assert!(is_public(["iam:domain::*"]));
        assert!(!is_public(["iam:domain::0605*"]));
    }

    #[test]
    fn globbing() {
        assert!(glob("a*", "a"));
        assert!(glob("*", ""));
        assert!(!glob("ab*ba", "aba"));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("abc", "abcd"));
    }
}
