//! Key stores (dedicated keystores): the request rules of CreateKeyStore,
//! the enable/disable state machine, and which key specs a PKCS#11 token
//! holds for dewstack. Pure: the configured HSM clusters are passed in.

use super::key::KeySpec;
use crate::kms::error::KmsError;
use serde::{Deserialize, Serialize};

/// The id the cloud reports for keys of its default key store.
pub const DEFAULT_KEYSTORE: &str = "0";

/// The only type a dewstack key store has: one HSM "cluster" (a PKCS#11 token).
pub const KEYSTORE_TYPE: &str = "DHSM";

/// dewstack's choice: ListKeyStores' `limit` default is the SDK's documented
/// 10; the cloud publishes no maximum, dewstack takes 100.
pub const LIST_DEFAULT: usize = 10;
pub const LIST_MAX: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeystoreState {
    Enabled,
    Disabled,
}

impl KeystoreState {
    /// dewstack's choice: the cloud does not publish `keystore_state`'s
    /// values; they follow `key_state` ("2" enabled, "3" disabled).
    pub fn code(self) -> &'static str {
        match self {
            KeystoreState::Enabled => "2",
            KeystoreState::Disabled => "3",
        }
    }

    pub fn enable(self) -> Result<Self, KmsError> {
        match self {
            KeystoreState::Disabled => Ok(KeystoreState::Enabled),
            KeystoreState::Enabled => Err(KmsError::KeystoreNotDisabled),
        }
    }

    pub fn disable(self) -> Result<Self, KmsError> {
        match self {
            KeystoreState::Enabled => Ok(KeystoreState::Disabled),
            KeystoreState::Disabled => Err(KmsError::KeystoreNotEnabled),
        }
    }

    /// Keys of a disabled key store cannot be used.
    pub fn check_usable(self) -> Result<(), KmsError> {
        match self {
            KeystoreState::Enabled => Ok(()),
            KeystoreState::Disabled => Err(KmsError::KeystoreDisabled),
        }
    }
}

/// A validated CreateKeyStore request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKeystore {
    pub alias: String,
    pub hsm_cluster_id: String,
}

impl NewKeystore {
    /// `configured` are the cluster ids of `[[hsm_clusters]]` this caller's
    /// domain may use. `hsm_ca_cert` is accepted and not used: dewstack
    /// reaches its token through the PKCS#11 module, which does its own
    /// transport security (dewstack's choice).
    pub fn validate(
        alias: Option<&str>,
        hsm_cluster_id: Option<&str>,
        cluster_id: Option<&str>,
        keystore_type: Option<&str>,
        configured: &[&str],
    ) -> Result<Self, KmsError> {
        let alias = alias.ok_or(KmsError::MissingParameter("keystore_alias"))?;
        let alias_ok = (1..=255).contains(&alias.len())
            && alias
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'_' | b'-'));
        if !alias_ok {
            return Err(KmsError::InvalidParameter("keystore_alias"));
        }
        match keystore_type {
            None | Some(KEYSTORE_TYPE) => {}
            Some(_) => return Err(KmsError::InvalidParameter("keystore_type")),
        }
        // For a DHSM key store `cluster_id` is the HSM cluster id: either
        // field names it, and both must agree.
        let cluster = match (hsm_cluster_id, cluster_id) {
            (Some(h), Some(c)) if h != c => return Err(KmsError::InvalidParameter("cluster_id")),
            (Some(h), _) => h,
            (None, Some(c)) => c,
            (None, None) => return Err(KmsError::MissingParameter("hsm_cluster_id")),
        };
        if !configured.contains(&cluster) {
            return Err(KmsError::InvalidParameter("hsm_cluster_id"));
        }
        Ok(NewKeystore {
            alias: alias.to_owned(),
            hsm_cluster_id: cluster.to_owned(),
        })
    }
}

/// Whether dewstack makes keys of `spec` inside a PKCS#11 token: AES-256
/// (AES-GCM), HMAC-SHA-2 and the NIST ECDSA curves. SM4, SM2, HMAC-SM3,
/// secp256k1 and Ed25519 have no standard PKCS#11 mechanism that SoftHSM2
/// and most HSMs share; RSA keys in a token are not offered yet (dewstack's
/// choice). Whether the token itself offers the mechanism is asked of it
/// as well (`hsm::Token::supports`).
pub fn token_holds(spec: KeySpec) -> bool {
    matches!(
        spec,
        KeySpec::Aes256
            | KeySpec::Hmac256
            | KeySpec::Hmac384
            | KeySpec::Hmac512
            | KeySpec::EcP256
            | KeySpec::EcP384
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const C: &[&str] = &["hsm-a", "hsm-b"];

    #[test]
    fn create_rules() {
        let ok = NewKeystore::validate(Some("ks_1"), Some("hsm-a"), None, None, C).unwrap();
        assert_eq!(ok.hsm_cluster_id, "hsm-a");
        let by_cluster = NewKeystore::validate(Some("ks"), None, Some("hsm-b"), Some("DHSM"), C);
        assert_eq!(by_cluster.unwrap().hsm_cluster_id, "hsm-b");
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
        );
        let cases: [(Case, &str); 7] = [
            ((None, Some("hsm-a"), None, None), "KMS.0204"),
            ((Some(""), Some("hsm-a"), None, None), "KMS.0308"),
            ((Some("a b"), Some("hsm-a"), None, None), "KMS.0308"),
            ((Some("ks"), None, None, None), "KMS.0204"),
            ((Some("ks"), Some("nope"), None, None), "KMS.0308"),
            ((Some("ks"), Some("hsm-a"), Some("hsm-b"), None), "KMS.0308"),
            ((Some("ks"), Some("hsm-a"), None, Some("CDMS")), "KMS.0308"),
        ];
        for ((alias, hsm, cluster, ty), code) in cases {
            let e = NewKeystore::validate(alias, hsm, cluster, ty, C).unwrap_err();
            assert_eq!(
                e.status_and_code().1,
                code,
                "{alias:?} {hsm:?} {cluster:?} {ty:?}"
            );
        }
        let long = "a".repeat(256);
        assert!(NewKeystore::validate(Some(&long), Some("hsm-a"), None, None, C).is_err());
    }

    #[test]
    fn states() {
        use KeystoreState::*;
        assert_eq!(Enabled.disable().unwrap(), Disabled);
        assert_eq!(Disabled.enable().unwrap(), Enabled);
        assert!(matches!(
            Enabled.enable(),
            Err(KmsError::KeystoreNotDisabled)
        ));
        assert!(matches!(
            Disabled.disable(),
            Err(KmsError::KeystoreNotEnabled)
        ));
        assert!(Enabled.check_usable().is_ok());
        assert!(matches!(
            Disabled.check_usable(),
            Err(KmsError::KeystoreDisabled)
        ));
        assert_eq!((Enabled.code(), Disabled.code()), ("2", "3"));
    }

    #[test]
    fn keystore_ids_and_specs() {
        use crate::kms::domain::parse_keystore_id;
        assert_eq!(parse_keystore_id("0").unwrap(), "0");
        let id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f";
        assert_eq!(parse_keystore_id(id).unwrap(), id);
        assert!(parse_keystore_id("1").is_err());
        assert!(parse_keystore_id("").is_err());
        assert!(token_holds(KeySpec::Aes256) && token_holds(KeySpec::EcP256));
        assert!(!token_holds(KeySpec::Sm4) && !token_holds(KeySpec::Sm2));
    }
}
