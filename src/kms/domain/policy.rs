//! Key policies of a key space: the document, validated once when it is
//! stored, and `evaluate`, the pure decision taken on every use of a key of
//! the space (`kms::access`). docs/kms-policies.md says what the cloud
//! documents and what is dewstack's own.
//!
//! The cloud's document (SDK model `ShowKeyPolicyResponseBodyPolicy`) has
//! `version`, `validity_period` and the allow-lists `allowed_access_point` and
//! `allowed_data_security_zone`. dewstack's choice: an optional `statement`
//! list (effect, action, resource, as IAM policies write them) narrows what a
//! policy allows and can deny outright; without it a policy allows every
//! action on every key of its space.

use crate::kms::error::KmsError;
use serde::{Deserialize, Serialize};

/// The tag that puts a key into a key space (dewstack's choice: the cloud's
/// key model has no key space field, and a tag is set and shown by the
/// operations users already have).
pub const KEYSPACE_TAG: &str = "keyspace_id";

/// Bounds of one document (dewstack's choice: the cloud publishes none).
pub const MAX_DOCUMENT_BYTES: usize = 32 * 1024;
pub const MAX_STATEMENTS: usize = 20;
pub const MAX_PATTERNS: usize = 50;
pub const MAX_PATTERN_LEN: usize = 256;
pub const MAX_ALLOWED: usize = 100;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub effect: Effect,
    pub action: Vec<String>,
    pub resource: Vec<String>,
}

/// A validated policy document; times are epoch milliseconds.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct PolicyDocument {
    pub version: String,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub allowed_access_point: Vec<String>,
    pub allowed_data_security_zone: Vec<String>,
    pub statement: Vec<Statement>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValidity {
    start_time: Option<String>,
    end_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatement {
    effect: String,
    action: Vec<String>,
    resource: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    version: Option<String>,
    validity_period: Option<RawValidity>,
    allowed_access_point: Option<Vec<String>>,
    allowed_data_security_zone: Option<Vec<String>>,
    statement: Option<Vec<RawStatement>>,
}

fn bad(why: &'static str) -> KmsError {
    KmsError::InvalidPolicy(why)
}

/// Milliseconds since the epoch, as KMS writes every time (`"1502798250000"`).
fn parse_ms(raw: Option<&str>) -> Result<Option<i64>, KmsError> {
    match raw {
        None => Ok(None),
        Some(s) if !s.is_empty() && s.len() <= 16 && s.bytes().all(|b| b.is_ascii_digit()) => s
            .parse()
            .map(Some)
            .map_err(|_| bad("validity_period times are epoch milliseconds")),
        Some(_) => Err(bad("validity_period times are epoch milliseconds")),
    }
}

fn patterns(list: Vec<String>, check: fn(&str) -> bool) -> Result<Vec<String>, KmsError> {
    if list.is_empty() || list.len() > MAX_PATTERNS {
        return Err(bad("a statement names 1 to 50 actions and resources"));
    }
    if list
        .iter()
        .any(|p| p.is_empty() || p.len() > MAX_PATTERN_LEN || !check(p))
    {
        return Err(bad(
            "an action is kms:..., a resource a key id, a KMS URN or *",
        ));
    }
    Ok(list)
}

fn statement(raw: RawStatement) -> Result<Statement, KmsError> {
    let effect = match raw.effect.to_ascii_lowercase().as_str() {
        "allow" => Effect::Allow,
        "deny" => Effect::Deny,
        _ => return Err(bad("effect is Allow or Deny")),
    };
    let is_action = |p: &str| p == "*" || p.to_ascii_lowercase().starts_with("kms:");
    Ok(Statement {
        effect,
        action: patterns(raw.action, is_action)?,
        resource: patterns(raw.resource.unwrap_or_else(|| vec!["*".into()]), |_| true)?,
    })
}

fn is_uuid(s: &str) -> bool {
    crate::kms::domain::keyspace::is_uuid(s)
}

/// The `policy` string of CreateKeyPolicy/UpdateKeyPolicy (a JSON document
/// in a string, as the SDK model says), validated and normalised.
pub fn parse(raw: &str) -> Result<PolicyDocument, KmsError> {
    if raw.len() > MAX_DOCUMENT_BYTES {
        return Err(bad("the document is longer than 32 KiB"));
    }
    let doc: RawDocument =
        serde_json::from_str(raw).map_err(|_| bad("not a JSON object of the policy's fields"))?;
    let version = doc.version.unwrap_or_else(|| "1.0".into());
    if version.is_empty() || version.len() > 16 {
        return Err(bad("version is 1 to 16 characters"));
    }
    let (start_ms, end_ms) = match &doc.validity_period {
        Some(v) => (
            parse_ms(v.start_time.as_deref())?,
            parse_ms(v.end_time.as_deref())?,
        ),
        None => (None, None),
    };
    if let (Some(s), Some(e)) = (start_ms, end_ms) {
        if s >= e {
            return Err(bad("validity_period ends before it starts"));
        }
    }
    let points = doc.allowed_access_point.unwrap_or_default();
    let zones = doc.allowed_data_security_zone.unwrap_or_default();
    if points.len() > MAX_ALLOWED || zones.len() > MAX_ALLOWED {
        return Err(bad("at most 100 access points and 100 zones"));
    }
    if !points.iter().all(|p| is_uuid(p)) {
        return Err(bad("allowed_access_point lists access point ids"));
    }
    if zones.iter().any(|z| z.is_empty() || z.len() > 64) {
        return Err(bad("a data security zone id is 1 to 64 characters"));
    }
    let statements = doc.statement.unwrap_or_default();
    if statements.len() > MAX_STATEMENTS {
        return Err(bad("at most 20 statements"));
    }
    Ok(PolicyDocument {
        version,
        start_ms,
        end_ms,
        allowed_access_point: points,
        allowed_data_security_zone: zones,
        statement: statements
            .into_iter()
            .map(statement)
            .collect::<Result<_, _>>()?,
    })
}

/// What a request asks of a key of a key space.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// A `domain::grants::op` name (`encrypt-data`), matched as its IAM action.
    pub operation: &'a str,
    pub key_id: &'a str,
    pub key_domain: &'a str,
    /// The access point the request proved it came through (`kms::keyspaces`).
    pub access_point: Option<&'a str>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The key space has no policy: its keys are used as any other key.
    NoPolicy,
    Allow,
    /// A statement of a policy in force denies the request.
    ExplicitDeny,
    /// Policies exist and none allows the request (default deny).
    NotAllowed,
}

impl Decision {
    pub fn check(self) -> Result<(), KmsError> {
        match self {
            Decision::NoPolicy | Decision::Allow => Ok(()),
            Decision::ExplicitDeny | Decision::NotAllowed => Err(KmsError::PolicyDenied),
        }
    }
}

/// The IAM action of a KMS operation, as the cloud's permission pages name
/// them (`kms:cmk:encryptData`).
pub fn iam_action(operation: &str) -> String {
    let known = match operation {
        "create-datakey" => "createDataKey",
        "create-datakey-without-plaintext" => "createDataKeyWithoutPlaintext",
        "encrypt-datakey" => "encryptDataKey",
        "decrypt-datakey" => "decryptDataKey",
        "describe-key" => "get",
        "create-grant" => "createGrant",
        "retire-grant" => "retireGrant",
        "encrypt-data" => "encryptData",
        "decrypt-data" => "decryptData",
        "get-publickey" => "getPublicKey",
        "generate-mac" => "generateMac",
        "verify-mac" => "verifyMac",
        "derive-shared-secret" => "deriveSharedSecret",
        "create-datakey-capsule" => "createDataKeyCapsule",
        "decrypt-datakey-capsule" => "decryptDataKeyCapsule",
        other => other,
    };
    format!("kms:cmk:{known}")
}

/// `*` matches any run of characters; ASCII case is ignored (IAM actions are
/// case-insensitive, key ids are lower case).
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi].eq_ignore_ascii_case(&t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// A resource pattern: `*`, a key id (glob), or the URN
/// `KMS:<region>:<domain>:KeyId:<key id>` (the region is not checked: a
/// project lives in one region).
fn resource_matches(pattern: &str, req: &Request) -> bool {
    let parts: Vec<&str> = pattern.split(':').collect();
    match parts.as_slice() {
        [kms, _region, domain, kind, id]
            if kms.eq_ignore_ascii_case("kms") && kind.eq_ignore_ascii_case("keyid") =>
        {
            glob(domain, req.key_domain) && glob(id, req.key_id)
        }
        _ => glob(pattern, req.key_id),
    }
}

fn in_force(doc: &PolicyDocument, now_ms: i64) -> bool {
    doc.start_ms.is_none_or(|s| now_ms >= s) && doc.end_ms.is_none_or(|e| now_ms < e)
}

/// The conditions of a policy's allows: with allow-lists, the request must
/// come through a listed access point. dewstack has no data security zones,
/// so a zone never matches (dewstack's choice).
fn conditions_hold(doc: &PolicyDocument, req: &Request) -> bool {
    if doc.allowed_access_point.is_empty() && doc.allowed_data_security_zone.is_empty() {
        return true;
    }
    req.access_point
        .is_some_and(|ap| doc.allowed_access_point.iter().any(|a| a == ap))
}

fn statement_matches(s: &Statement, action: &str, req: &Request) -> bool {
    s.action.iter().any(|a| glob(a, action)) && s.resource.iter().any(|r| resource_matches(r, req))
}

/// The decision for `req` under the policies of the key's space. A policy
/// outside its validity period neither allows nor denies, but still keeps
/// the space restricted (dewstack's choice: an expired policy must not open
/// its keys to everyone). An explicit deny wins over any allow.
pub fn evaluate(policies: &[PolicyDocument], req: &Request) -> Decision {
    if policies.is_empty() {
        return Decision::NoPolicy;
    }
    let action = iam_action(req.operation);
    let mut allowed = false;
    for doc in policies.iter().filter(|d| in_force(d, req.now_ms)) {
        if doc.statement.is_empty() {
            allowed |= conditions_hold(doc, req);
            continue;
        }
        for s in doc.statement.iter() {
            if !statement_matches(s, &action, req) {
                continue;
            }
            match s.effect {
                Effect::Deny => return Decision::ExplicitDeny,
                Effect::Allow => allowed |= conditions_hold(doc, req),
            }
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::NotAllowed
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
