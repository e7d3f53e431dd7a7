//! Grant rules: the operations a grant can allow, who a grant names, what
//! it allows, and the validation of CreateGrant's fields.

use super::key::KeyState;
use super::limits::GRANTS_PER_KEY_QUOTA;
use crate::kms::error::KmsError;
use crate::kms::store::grants::{GrantRecord, PrincipalType};
use crate::kms::store::KeyRecord;

/// Operation names as grants list them: the values CreateGrantRequestBody's
/// `operations` accepts (SDK docstring and the cloud's CreateGrant page).
pub mod op {
    pub const CREATE_DATAKEY: &str = "create-datakey";
    pub const CREATE_DATAKEY_WITHOUT_PLAINTEXT: &str = "create-datakey-without-plaintext";
    pub const ENCRYPT_DATAKEY: &str = "encrypt-datakey";
    pub const DECRYPT_DATAKEY: &str = "decrypt-datakey";
    pub const DESCRIBE_KEY: &str = "describe-key";
    pub const CREATE_GRANT: &str = "create-grant";
    pub const RETIRE_GRANT: &str = "retire-grant";
    pub const ENCRYPT_DATA: &str = "encrypt-data";
    pub const DECRYPT_DATA: &str = "decrypt-data";
    // The cloud has no grant operation for these key uses, so no grant can
    // list them: a grantee is refused (403), and only the owner's project may
    // use the key. They are named after their API action.
    pub const SIGN: &str = "sign";
    pub const VERIFY: &str = "verify";
    pub const GET_PUBLICKEY: &str = "get-publickey";
    pub const GENERATE_MAC: &str = "generate-mac";
    pub const VERIFY_MAC: &str = "verify-mac";
    pub const DERIVE_SHARED_SECRET: &str = "derive-shared-secret";
    pub const CREATE_DATAKEY_CAPSULE: &str = "create-datakey-capsule";
    pub const DECRYPT_DATAKEY_CAPSULE: &str = "decrypt-datakey-capsule";
}

/// Operations a grant can allow, as the API names them.
pub const OPERATIONS: [&str; 9] = [
    op::CREATE_DATAKEY,
    op::CREATE_DATAKEY_WITHOUT_PLAINTEXT,
    op::ENCRYPT_DATAKEY,
    op::DECRYPT_DATAKEY,
    op::DESCRIBE_KEY,
    op::CREATE_GRANT,
    op::RETIRE_GRANT,
    op::ENCRYPT_DATA,
    op::DECRYPT_DATA,
];

/// Key uses that no grant can allow (see `op`).
#[cfg_attr(not(test), allow(dead_code))] // documents `op`; checked by the tests
pub const NOT_GRANTABLE: [&str; 8] = [
    op::SIGN,
    op::VERIFY,
    op::GET_PUBLICKEY,
    op::GENERATE_MAC,
    op::VERIFY_MAC,
    op::DERIVE_SHARED_SECRET,
    op::CREATE_DATAKEY_CAPSULE,
    op::DECRYPT_DATAKEY_CAPSULE,
];

/// The grant rule alone: some grant must name the caller (else 404) and allow the operation (else 403).
pub fn decide(
    grants: &[GrantRecord],
    user_id: &str,
    domain_id: &str,
    operation: &str,
) -> Result<(), KmsError> {
    let mine: Vec<&GrantRecord> = grants
        .iter()
        .filter(|g| g.names(user_id, domain_id))
        .collect();
    if mine.is_empty() {
        return Err(KmsError::KeyNotFound);
    }
    if mine.iter().any(|g| g.allows(operation)) {
        Ok(())
    } else {
        Err(KmsError::NoKeyPermission)
    }
}

/// A grant created by a grantee (a caller acting on another project's key
/// through its grants) may allow only operations the creator itself holds on
/// that key: the union of the operations of every grant naming it. Huawei's
/// CreateGrant page says nothing about grants made by grantees; refusing
/// anything more (403, like any operation a grant does not allow) is
/// dewstack's choice, so a grantee can never give itself or anyone else more
/// than it holds. The new grant stands on its own: revoking or retiring the
/// grant it came from does not remove it (the cloud documents no cascade;
/// dewstack's choice, the key owner sees and revokes every grant on its key).
pub fn check_delegation(
    grants: &[GrantRecord],
    user_id: &str,
    domain_id: &str,
    requested: &[String],
) -> Result<(), KmsError> {
    let held = |op: &String| {
        grants
            .iter()
            .any(|g| g.names(user_id, domain_id) && g.allows(op))
    };
    if requested.iter().all(held) {
        Ok(())
    } else {
        Err(KmsError::NoKeyPermission)
    }
}

/// `^[a-zA-Z0-9]{1,64}$`
pub fn parse_principal(raw: &str, field: &'static str) -> Result<String, KmsError> {
    if (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(raw.to_owned())
    } else {
        Err(KmsError::InvalidParameter(field))
    }
}

/// Valid names, no duplicates, and never `create-grant` alone.
pub fn parse_operations(raw: Option<&[String]>) -> Result<Vec<String>, KmsError> {
    let raw = raw.ok_or(KmsError::MissingParameter("operations"))?;
    let mut ops: Vec<String> = Vec::new();
    for op in raw {
        if !OPERATIONS.contains(&op.as_str()) {
            return Err(KmsError::InvalidParameter("operations"));
        }
        if !ops.contains(op) {
            ops.push(op.clone());
        }
    }
    match ops.as_slice() {
        [] => Err(KmsError::InvalidParameter("operations")),
        [only] if only == op::CREATE_GRANT => Err(KmsError::GrantCreateOnly),
        _ => Ok(ops),
    }
}

/// `^[a-zA-Z0-9:/_-]{1,255}$`
pub fn parse_grant_name(raw: &str) -> Result<String, KmsError> {
    let ok = (1..=255).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'_' | b'-'));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(KmsError::InvalidParameter("name"))
    }
}

/// `^[A-Fa-f0-9]{64}$`
pub fn parse_grant_id(raw: Option<&str>) -> Result<String, KmsError> {
    let raw = raw.ok_or(KmsError::MissingParameter("grant_id"))?;
    if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(raw.to_ascii_lowercase())
    } else {
        Err(KmsError::InvalidParameter("grant_id"))
    }
}

pub fn may_retire(g: &GrantRecord, project: &str, user_id: &str, domain_id: &str) -> bool {
    g.project_id == project
        || g.retiring_principal.as_deref() == Some(user_id)
        || (g.names(user_id, domain_id) && g.allows(op::RETIRE_GRANT))
}

/// A validated CreateGrant request.
pub struct NewGrant {
    pub key_id: String,
    pub grantee: String,
    pub kind: PrincipalType,
    pub operations: Vec<String>,
    pub name: String,
    pub retiring: Option<String>,
}

/// CreateGrant's fields as the request brings them.
pub struct GrantFields<'a> {
    pub key_id: Option<&'a str>,
    pub grantee_principal: Option<&'a str>,
    pub grantee_principal_type: Option<&'a str>,
    pub operations: Option<&'a [String]>,
    pub name: Option<&'a str>,
    pub retiring_principal: Option<&'a str>,
}

impl NewGrant {
    pub fn validate(f: GrantFields<'_>) -> Result<Self, KmsError> {
        let key_id = super::input::parse_key_id(f.key_id)?;
        let grantee = parse_principal(
            f.grantee_principal
                .ok_or(KmsError::MissingParameter("grantee_principal"))?,
            "grantee_principal",
        )?;
        let kind = parse_principal_type(f.grantee_principal_type)?;
        let operations = parse_operations(f.operations)?;
        let name = match f.name {
            None => String::new(),
            Some(n) => parse_grant_name(n)?,
        };
        let retiring = f
            .retiring_principal
            .filter(|r| !r.is_empty())
            .map(|r| parse_principal(r, "retiring_principal"))
            .transpose()?;
        Ok(NewGrant {
            key_id,
            grantee,
            kind,
            operations,
            name,
            retiring,
        })
    }
}

/// `grantee_principal_type`: `user` (also when absent) or `domain`.
pub fn parse_principal_type(raw: Option<&str>) -> Result<PrincipalType, KmsError> {
    match raw {
        None | Some("") | Some("user") => Ok(PrincipalType::User),
        Some("domain") => Ok(PrincipalType::Domain),
        Some(_) => Err(KmsError::InvalidParameter("grantee_principal_type")),
    }
}

/// Whether `key` may get a grant at all: never a default key, nor one
/// pending deletion or frozen.
pub fn check_grantable(key: &KeyRecord) -> Result<(), KmsError> {
    if key.default_key {
        return Err(KmsError::DefaultKey);
    }
    match key.key_state {
        KeyState::PendingDeletion => Err(KmsError::KeyPendingDeletionUnusable),
        KeyState::Frozen => Err(KmsError::KeyFrozen),
        _ => Ok(()),
    }
}

/// A key that already has `existing` grants may get another one.
pub fn check_grant_quota(existing: usize) -> Result<(), KmsError> {
    if existing >= GRANTS_PER_KEY_QUOTA as usize {
        return Err(KmsError::GrantQuotaExceeded);
    }
    Ok(())
}

#[cfg(test)]
#[path = "grants_tests.rs"]
mod tests;
