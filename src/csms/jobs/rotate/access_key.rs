//! Rotation of IAM secrets (`secret_type` "IAM"): the secret holds an access
//! key of one of dewstack's own users as IAM's credential object names it,
//! `{"access": "<AK>", "secret": "<SK>"}` (other fields are kept). A
//! rotation makes a new AK/SK for the user of `access`, stores it as the new
//! version, and retires the old key after the grace (`iam::keys::GRACE_MS`).
//!
//! The cloud rotates IAM credentials with its `rotate-iam-credentials`
//! FunctionGraph template; the type name, the value's shape and rotating
//! without a function are dewstack's choice (docs/rotation.md).

use crate::csms::domain::SecretValue;
use crate::csms::error::CsmsError;
use crate::csms::stages;
use crate::csms::store::{self, SecretRecord};
use crate::csms::values;
use crate::iam::{NewKey, RotationRefused};
use crate::server::state::AppState;
use crate::store::Tx;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

pub const SECRET_TYPE: &str = "IAM";

/// A key rotation ready to be installed with the promotion of its version.
#[derive(Debug)]
pub struct Prepared {
    pub domain_id: String,
    pub user_id: String,
    pub old_ak: String,
    pub new: NewKey,
}

/// The `access` and `secret` of an IAM secret's value; `None` when the value
/// is not such an object.
pub fn credential_of(plain: &[u8]) -> Option<(String, Zeroizing<String>)> {
    let value: Value = serde_json::from_slice(plain).ok()?;
    let access = value.get("access")?.as_str()?.to_owned();
    let secret = Zeroizing::new(value.get("secret")?.as_str()?.to_owned());
    (!access.is_empty()).then_some((access, secret))
}

/// The value with `access`/`secret` replaced and every other field kept.
pub fn with_credential(plain: &[u8], ak: &str, sk: &str) -> Option<Zeroizing<Vec<u8>>> {
    let mut object: Map<String, Value> = serde_json::from_slice(plain).ok()?;
    object.insert("access".into(), Value::String(ak.to_owned()));
    object.insert("secret".into(), Value::String(sk.to_owned()));
    serde_json::to_vec(&object).ok().map(Zeroizing::new)
}

/// Reads the current value, checks it names an enabled key of the secret's
/// domain with its secret key, and draws the new key. Refusals are 400
/// `CSMS.0002` naming `secret_string` (the message never names the key).
pub async fn prepare(
    app: &AppState,
    secret: &SecretRecord,
) -> Result<(Prepared, SecretValue), CsmsError> {
    let bad = || CsmsError::InvalidParameter("secret_string");
    let number = secret
        .stages
        .get(stages::CURRENT)
        .and_then(|s| stages::version_number(&s.version_id))
        .ok_or(CsmsError::VersionNotFound)?;
    let (p, n) = (secret.project_id.clone(), secret.name.clone());
    let version = app
        .db
        .read(move |tx| store::find_version(tx, &p, &n, number))
        .await?
        .ok_or(CsmsError::VersionNotFound)?;
    let plain = values::open(app, &secret.project_id, &secret.name, &version).await?;
    let (access, secret_key) = credential_of(&plain).ok_or_else(bad)?;
    let user_id = crate::iam::key_owner(app, &secret.domain_id, &access, &secret_key)
        .await?
        .ok_or_else(bad)?;
    let new = crate::iam::new_access_key(app);
    let bytes = with_credential(&plain, &new.access_key, &new.secret_key).ok_or_else(bad)?;
    let prepared = Prepared {
        domain_id: secret.domain_id.clone(),
        user_id,
        old_ak: access,
        new,
    };
    let value = SecretValue {
        bytes,
        binary: false,
    };
    Ok((prepared, value))
}

/// Inside the promotion's transaction: the new key works and the old one
/// retires exactly when the new version becomes `SYSCURRENT`. Returns the
/// keys to forget from this node's cache once committed.
pub fn install(
    tx: &mut dyn Tx,
    app: &AppState,
    p: &Prepared,
    now_ms: i64,
) -> Result<Vec<String>, CsmsError> {
    crate::iam::install_access_key(tx, app, &p.domain_id, &p.user_id, &p.old_ak, &p.new, now_ms)?
        .map_err(|refused| match refused {
            RotationRefused::NotLive => CsmsError::InvalidParameter("secret_string"),
            RotationRefused::Quota => CsmsError::AccessKeyQuota,
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_value_names_the_credential_as_iam_does() {
        let (ak, sk) = credential_of(br#"{"access":"AK1","secret":"SK1","note":1}"#).unwrap();
        assert_eq!((ak.as_str(), sk.as_str()), ("AK1", "SK1"));
        for bad in [
            &b"not json"[..],
            br#"{"access":"AK1"}"#,
            br#"{"access":"","secret":"x"}"#,
            br#"{"access":1,"secret":"x"}"#,
            br#"["AK1","SK1"]"#,
        ] {
            assert!(credential_of(bad).is_none());
        }
    }

    #[test]
    fn a_new_credential_keeps_the_other_fields() {
        let out =
            with_credential(br#"{"access":"A","secret":"S","user":"bob"}"#, "B", "T").unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"access": "B", "secret": "T", "user": "bob"})
        );
    }
}
