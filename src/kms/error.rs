//! Every way a KMS call can fail, and the one table mapping each to the
//! cloud's HTTP status and `KMS.xxxx` code (see docs/error-codes.md).

use crate::common::envelope::Style;
use crate::common::tags::rules::TagRuleError;
use axum::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    #[error("{0}")]
    BadBody(String),
    #[error("Parameters missing in the request message: {0}.")]
    MissingParameter(&'static str),
    #[error("Invalid key ID.")]
    InvalidKeyId,
    #[error("Invalid sequence number.")]
    InvalidSequence,
    #[error("Invalid {0}.")]
    InvalidParameter(&'static str),
    #[error("Invalid key_alias.")]
    InvalidAlias,
    #[error("Invalid key_description.")]
    InvalidDescription,
    #[error("The key does not exist.")]
    KeyNotFound,
    #[error("The key has been disabled.")]
    KeyDisabled,
    #[error("The key is in Scheduled deletion state and cannot be used.")]
    KeyPendingDeletionUnusable,
    #[error("Cannot perform this operation on Default Master Keys.")]
    DefaultKey,
    #[error("The key is not disabled.")]
    KeyNotDisabled,
    #[error("The key is not enabled.")]
    KeyNotEnabled,
    #[error("The deletion of CMKs can be scheduled by 7 to 1096 days in advance.")]
    InvalidPendingDays,
    #[error("The key is in the Pending deletion status.")]
    KeyAlreadyPendingDeletion,
    #[error("The key is not in the Pending deletion status.")]
    KeyNotPendingDeletion,
    #[error("The key is not in the Pending import status.")]
    KeyNotPendingImport,
    #[error("The resource is frozen.")]
    KeyFrozen,
    #[error("Existing CMK alias.")]
    AliasExists,
    #[error("The number of keys has reached the upper limit.")]
    KeyQuotaExceeded,
    #[error("The key_spec and key_usage do not match.")]
    UsageMismatch,
    #[error("The tag list cannot be empty.")]
    TagListEmpty,
    #[error("Invalid value for the action field.")]
    InvalidTagAction,
    #[error("Invalid value for the key field in the tag parameter.")]
    InvalidTagKey,
    #[error("Invalid value of the value field in the tag parameter.")]
    InvalidTagValue,
    #[error("Invalid length of the key field in the tag parameter.")]
    TagKeyLength,
    #[error("Invalid length of the value field in the tag parameter.")]
    TagValueLength,
    #[error("The total number of tags has exceeded the upper limit.")]
    TooManyTags,
    #[error("The tag does not exist.")]
    TagNotFound,
    #[error("Invalid matches.")]
    InvalidMatches,
    #[error("The value of offset must be greater than or equal to 0.")]
    InvalidOffset,
    #[error("Invalid cipher_text.")]
    InvalidCiphertext,
    #[error("Hash algorithm does not match the message digest length.")]
    DigestLength,
    #[error("random_data_length must be between 8 and 8192 bits.")]
    RandomLength,
    #[error("random_data_length must be divisible by 8.")]
    RandomNotBytes,
    #[error("datakey_length must be between 8 and 8192 bits.")]
    DatakeyLength,
    #[error("Invalid key_spec of the data key.")]
    DatakeySpec,
    #[error("datakey_length must be divisible by 8.")]
    DatakeyNotBytes,
    #[error("Invalid plain_text.")]
    InvalidDatakeyPlaintext,
    #[error("Invalid datakey_plain_length.")]
    DatakeyPlainLength,
    #[error("Hash verification of the data encryption key failed.")]
    DatakeyPlainHash,
    #[error("The actual length of plain_text does not match datakey_plain_length.")]
    DatakeyPlainMismatch,
    #[error("Invalid cipher_text.")]
    InvalidDatakeyCiphertext,
    #[error("Invalid datakey_cipher_length.")]
    DatakeyCipherLength,
    #[error("Hash verification of the data encryption key failed.")]
    DatakeyCipherHash,
    #[error("The actual length of cipher_text does not match datakey_cipher_length.")]
    DatakeyCipherMismatch,
    #[error("dewstack does not support {0} yet.")]
    Unsupported(&'static str),
    #[error("Invalid request URL.")]
    InvalidUrl,
    // ---- rotation, import, grants ----
    #[error("External keys required.")]
    ExternalKeyRequired,
    #[error("RSA private key failed to decrypt the data.")]
    UnwrapFailed,
    #[error("External keys do not support rotation.")]
    ExternalKeyNoRotation,
    #[error("Key rotation is not enabled.")]
    RotationNotEnabled,
    #[error("Asymmetric and HMAC keys do not support rotation.")]
    AsymmetricKeyNoRotation,
    #[error("Key rotation is not disabled.")]
    RotationAlreadyEnabled,
    #[error("rotation_interval is out of the valid range.")]
    InvalidRotationInterval,
    #[error("The user has no permission to access the key.")]
    NoKeyPermission,
    #[error("create-grant cannot be the only granted operation permission.")]
    GrantCreateOnly,
    #[error("Invalid principal for creating/retiring a grant.")]
    InvalidPrincipal,
    #[error("No more permissions can be granted for the CMK.")]
    GrantQuotaExceeded,
    #[error("The grant does not exist.")]
    GrantNotFound,
    #[error("The value of limit falls beyond the range.")]
    LimitOutOfRange,
    #[error("The throttling threshold has been reached: too many key generations, retry later.")]
    Throttled,
    #[error("The number of aliases has reached the upper limit.")]
    AliasQuotaExceeded,
    #[error("The number of key versions has reached the upper limit.")]
    KeyVersionQuotaExceeded,
    #[error("The value of marker must be greater than or equal to 0.")]
    InvalidMarker,
    #[error("Invalid token.")]
    InvalidImportToken,
    #[error("The expiration time of an imported key must be later than the current time.")]
    ImportExpirationPast,
    #[error("The key_id does not match the key_id value in the token.")]
    ImportTokenKeyMismatch,
    #[error("The length of the external key material does not match the key spec.")]
    ImportMaterialLength,
    #[error("Token verification failed.")]
    ImportTokenVerification,
    #[error("When you re-import the material of a deleted CMK, the external key in plaintext must be consistent with that imported earlier.")]
    ImportMaterialMismatch,
    #[error("CMK material can be deleted only when the CMK is in Enabled or Disabled status.")]
    MaterialNotDeletable,
    // ---- aliases, regions ----
    #[error("Invalid alias.")]
    InvalidAliasName,
    #[error("The alias does not exist.")]
    AliasNotFound,
    #[error("Invalid realm.")]
    RegionUnsupported,
    // ---- multi-region keys (domain/multi_region.rs) ----
    #[error("Only a primary key of a user, outside key stores, can be replicated.")]
    NotReplicable,
    #[error("The key already has a replica in this region.")]
    ReplicaExists,
    #[error("The key is not the primary key of a multi-region key.")]
    NotPrimary,
    #[error("Invalid realm: the key has no replica in this region.")]
    NoReplicaInRegion,
    #[error("The primary key has replicas: delete them or move the primary region first.")]
    PrimaryHasReplicas,
    #[error("A replica key does not rotate: rotate its primary key.")]
    ReplicaNoRotation,
    #[error("The replica project is not a project of this account in the replica region.")]
    InvalidReplicaProject,
    // ---- key stores ----
    #[error("The keystore does not exist.")]
    KeystoreNotFound,
    #[error("The keystore has been disabled.")]
    KeystoreDisabled,
    #[error("The keystore is not disabled.")]
    KeystoreNotDisabled,
    #[error("The keystore is not enabled.")]
    KeystoreNotEnabled,
    #[error("Existing keystore alias.")]
    KeystoreAliasExists,
    #[error("A keystore already exists on this HSM cluster.")]
    HsmClusterInUse,
    #[error("The keystore still holds keys.")]
    KeystoreHasKeys,
    #[error("The HSM cannot be reached, retry later.")]
    HsmUnavailable,
    // ---- key spaces: access points and key policies ----
    #[error("The key policy of the key space does not allow this request.")]
    PolicyDenied,
    #[error("Invalid policy: {0}.")]
    InvalidPolicy(&'static str),
    #[error("The key policy does not exist.")]
    PolicyNotFound,
    #[error("The access point does not exist.")]
    AccessPointNotFound,
    #[error("The access point is not enabled.")]
    AccessPointNotEnabled,
    #[error("The access point is not disabled.")]
    AccessPointNotDisabled,
    #[error("A key policy with this name exists in the key space.")]
    PolicyNameExists,
    #[error("An access point with this name exists in the key space.")]
    AccessPointNameExists,
    #[error("The number of {0} has reached the upper limit.")]
    KeyspaceQuotaExceeded(&'static str),
    #[error("The private key of this access point has already been downloaded.")]
    PrivateKeyGone,
    #[error("The request could not be verified as coming through the access point: {0}.")]
    AccessPointUnverified(&'static str),
    #[error("The storage backend is unavailable, retry later.")]
    Unavailable,
    #[error("KMS error.")]
    Internal(String),
}

impl KmsError {
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        use KmsError::*;
        let bad = StatusCode::BAD_REQUEST;
        match self {
            BadBody(_) => (bad, "KMS.0202"),
            MissingParameter(_) => (bad, "KMS.0204"),
            InvalidKeyId => (bad, "KMS.0205"),
            InvalidSequence => (bad, "KMS.0206"),
            InvalidParameter(_) | UsageMismatch => (bad, "KMS.0308"),
            InvalidAlias => (bad, "KMS.1101"),
            InvalidDescription => (bad, "KMS.1103"),
            KeyNotFound => (StatusCode::NOT_FOUND, "KMS.0207"),
            KeyDisabled => (bad, "KMS.0209"),
            KeyPendingDeletionUnusable => (bad, "KMS.0210"),
            DefaultKey => (bad, "KMS.0211"),
            KeyNotDisabled => (bad, "KMS.1201"),
            KeyNotEnabled => (bad, "KMS.1301"),
            InvalidPendingDays => (bad, "KMS.1401"),
            KeyAlreadyPendingDeletion => (bad, "KMS.1402"),
            KeyNotPendingDeletion => (bad, "KMS.1501"),
            KeyNotPendingImport => (bad, "KMS.0310"),
            KeyFrozen => (bad, "KMS.0320"),
            AliasExists => (bad, "KMS.1104"),
            KeyQuotaExceeded => (bad, "KMS.1105"),
            TagListEmpty => (bad, "KMS.0401"),
            InvalidTagAction => (bad, "KMS.0404"),
            InvalidTagValue => (bad, "KMS.0405"),
            InvalidTagKey => (bad, "KMS.0406"),
            TooManyTags => (bad, "KMS.0409"),
            TagValueLength => (bad, "KMS.0410"),
            TagKeyLength => (bad, "KMS.0411"),
            InvalidMatches => (bad, "KMS.0415"),
            TagNotFound => (StatusCode::NOT_FOUND, "KMS.0416"),
            InvalidOffset => (bad, "KMS.0417"),
            InvalidUrl => (bad, "KMS.0201"),
            ExternalKeyRequired => (bad, "KMS.0309"),
            UnwrapFailed => (bad, "KMS.0311"),
            ExternalKeyNoRotation => (bad, "KMS.0312"),
            RotationNotEnabled => (bad, "KMS.0313"),
            AsymmetricKeyNoRotation => (bad, "KMS.0324"),
            RotationAlreadyEnabled => (bad, "KMS.2901"),
            InvalidRotationInterval => (bad, "KMS.3001"),
            NoKeyPermission => (StatusCode::FORBIDDEN, "KMS.0306"),
            GrantCreateOnly => (bad, "KMS.2401"),
            InvalidPrincipal => (bad, "KMS.2402"),
            GrantQuotaExceeded => (bad, "KMS.2404"),
            GrantNotFound => (bad, "KMS.2501"),
            LimitOutOfRange => (bad, "KMS.1601"),
            // The API gateway's throttling answer (429, retryable in the SDKs).
            Throttled => (StatusCode::TOO_MANY_REQUESTS, "APIGW.0308"),
            // dewstack's own codes: the cloud publishes no alias or key
            // version bound, nor a code for reaching one.
            AliasQuotaExceeded => (bad, "KMS.9001"),
            KeyVersionQuotaExceeded => (bad, "KMS.9002"),
            InvalidMarker => (bad, "KMS.1602"),
            InvalidImportToken => (bad, "KMS.2601"),
            ImportExpirationPast => (bad, "KMS.2602"),
            ImportTokenKeyMismatch => (bad, "KMS.2603"),
            ImportMaterialLength => (bad, "KMS.2604"),
            ImportTokenVerification => (bad, "KMS.2605"),
            ImportMaterialMismatch => (bad, "KMS.2606"),
            MaterialNotDeletable => (bad, "KMS.2701"),
            InvalidCiphertext => (bad, "KMS.0308"),
            Unsupported(_) => (bad, "KMS.0308"),
            DigestLength => (bad, "KMS.0329"),
            RandomLength => (bad, "KMS.1801"),
            RandomNotBytes => (bad, "KMS.1802"),
            DatakeyLength => (bad, "KMS.1901"),
            DatakeySpec => (bad, "KMS.1902"),
            DatakeyNotBytes => (bad, "KMS.1903"),
            InvalidDatakeyPlaintext => (bad, "KMS.2101"),
            DatakeyPlainLength => (bad, "KMS.2102"),
            DatakeyPlainHash => (bad, "KMS.2103"),
            DatakeyPlainMismatch => (bad, "KMS.2104"),
            InvalidDatakeyCiphertext => (bad, "KMS.2201"),
            DatakeyCipherLength => (bad, "KMS.2202"),
            DatakeyCipherHash => (bad, "KMS.2203"),
            DatakeyCipherMismatch => (bad, "KMS.2204"),
            // The field is `alias`, not `key_alias`: the generic invalid-field code.
            InvalidAliasName => (bad, "KMS.0308"),
            // No code is published for a missing alias; an alias names a key,
            // so it answers as a key that is not found does.
            AliasNotFound => (StatusCode::NOT_FOUND, "KMS.0207"),
            // A region dewstack does not serve, the key's own, or one without
            // a replica of it: "Invalid realm." (realm = region in KMS key
            // details) is the closest published code.
            RegionUnsupported | NoReplicaInRegion => (bad, "KMS.1102"),
            // dewstack's own codes: the cloud publishes none for multi-region keys.
            NotReplicable => (bad, "KMS.9301"),
            ReplicaExists => (bad, "KMS.9302"),
            NotPrimary => (bad, "KMS.9303"),
            PrimaryHasReplicas => (bad, "KMS.9304"),
            ReplicaNoRotation => (bad, "KMS.9305"),
            InvalidReplicaProject => (bad, "KMS.9306"),
            // A missing key store answers as any missing KMS resource does.
            KeystoreNotFound => (StatusCode::NOT_FOUND, "KMS.0207"),
            // dewstack's own codes: the cloud publishes none for key stores.
            KeystoreDisabled => (bad, "KMS.9101"),
            KeystoreNotDisabled => (bad, "KMS.9102"),
            KeystoreNotEnabled => (bad, "KMS.9103"),
            KeystoreAliasExists => (bad, "KMS.9104"),
            HsmClusterInUse => (bad, "KMS.9105"),
            KeystoreHasKeys => (bad, "KMS.9106"),
            HsmUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "KMS.9107"),
            // The cloud's code for a caller without permission on the key
            // (403, as a grantee refused by its grants gets); no separate code
            // is published for a key policy's deny (dewstack's choice).
            PolicyDenied => (StatusCode::FORBIDDEN, "KMS.0306"),
            InvalidPolicy(_) => (bad, "KMS.0308"),
            // Missing resources answer as any missing KMS resource does.
            PolicyNotFound | AccessPointNotFound => (StatusCode::NOT_FOUND, "KMS.0207"),
            // dewstack's own codes: the cloud publishes none for key spaces.
            AccessPointNotEnabled => (bad, "KMS.9201"),
            AccessPointNotDisabled => (bad, "KMS.9202"),
            PolicyNameExists => (bad, "KMS.9203"),
            AccessPointNameExists => (bad, "KMS.9204"),
            KeyspaceQuotaExceeded(_) => (bad, "KMS.9205"),
            PrivateKeyGone => (bad, "KMS.9206"),
            AccessPointUnverified(_) => (StatusCode::UNAUTHORIZED, "KMS.9207"),
            Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "KMS.0102"),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "KMS.0101"),
        }
    }
}

crate::service_error!(KmsError, Style::Dew, bad_body = BadBody);

/// A query string that does not parse (a repeated key, a mistyped value).
impl From<crate::common::query::QueryError> for KmsError {
    fn from(_: crate::common::query::QueryError) -> Self {
        KmsError::InvalidUrl
    }
}

impl From<TagRuleError> for KmsError {
    fn from(e: TagRuleError) -> Self {
        match e {
            TagRuleError::EmptyList => KmsError::TagListEmpty,
            TagRuleError::KeyLength => KmsError::TagKeyLength,
            TagRuleError::KeyChars => KmsError::InvalidTagKey,
            TagRuleError::ValueLength => KmsError::TagValueLength,
            TagRuleError::ValueChars => KmsError::InvalidTagValue,
            TagRuleError::TooMany => KmsError::TooManyTags,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::common::body::BodyError;
    use crate::common::error::golden::{body_of, logged_detail};
    use crate::store::StoreError;

    #[tokio::test]
    async fn golden_envelopes() {
        let (s, b) = body_of(KmsError::KeyNotFound).await;
        assert_eq!(s, 404);
        assert_eq!(
            b,
            serde_json::json!({"error": {"error_code": "KMS.0207", "error_msg": "The key does not exist."}})
        );
        let (s, b) = body_of(KmsError::KeyNotPendingDeletion).await;
        assert_eq!(
            (s, b["error"]["error_code"].as_str().unwrap()),
            (400, "KMS.1501")
        );
        let (s, b) = body_of(KmsError::DefaultKey).await;
        assert_eq!(
            (s, b["error"]["error_code"].as_str().unwrap()),
            (400, "KMS.0211")
        );
        let (s, b) = body_of(KmsError::InvalidKeyId).await;
        assert_eq!(
            (s, b["error"]["error_code"].as_str().unwrap()),
            (400, "KMS.0205")
        );
        for (e, status, code) in [
            (KmsError::Throttled, 429, "APIGW.0308"),
            (KmsError::AliasQuotaExceeded, 400, "KMS.9001"),
            (KmsError::KeyVersionQuotaExceeded, 400, "KMS.9002"),
            (KmsError::PolicyDenied, 403, "KMS.0306"),
            (KmsError::InvalidPolicy("x"), 400, "KMS.0308"),
            (KmsError::PolicyNotFound, 404, "KMS.0207"),
            (KmsError::AccessPointNotFound, 404, "KMS.0207"),
            (KmsError::PrivateKeyGone, 400, "KMS.9206"),
            (KmsError::AccessPointUnverified("x"), 401, "KMS.9207"),
        ] {
            let (s, b) = body_of(e).await;
            assert_eq!(
                (s, b["error"]["error_code"].as_str().unwrap()),
                (status, code)
            );
        }
    }

    #[tokio::test]
    async fn internal_detail_is_not_shown() {
        let (s, b) = body_of(KmsError::Internal("secret detail".into())).await;
        assert_eq!(s, 500);
        assert!(!b.to_string().contains("secret detail"));
    }

    #[tokio::test]
    async fn shared_plumbing_golden() {
        assert_eq!(
            logged_detail(KmsError::Internal("secret detail".into())).as_deref(),
            Some("secret detail")
        );
        let (s, b) = body_of(KmsError::from(StoreError::Unavailable("x".into()))).await;
        assert_eq!(
            b,
            serde_json::json!({"error": {"error_code": "KMS.0102",
                "error_msg": "The storage backend is unavailable, retry later."}})
        );
        assert_eq!(s, 503);
        let (s, b) = body_of(KmsError::from(StoreError::Backend("x".into()))).await;
        assert_eq!(
            (s, b["error"]["error_code"].as_str().unwrap()),
            (500, "KMS.0101")
        );
        let (s, b) = body_of(KmsError::from(BodyError(
            "Invalid request body: EOF".into(),
        )))
        .await;
        assert_eq!(
            (s, b),
            (
                400,
                serde_json::json!({"error": {"error_code": "KMS.0202",
                "error_msg": "Invalid request body: EOF"}})
            )
        );
        let (s, b) = body_of(KmsError::from(TagRuleError::KeyLength)).await;
        assert_eq!(
            (s, b["error"]["error_code"].as_str().unwrap()),
            (400, "KMS.0411")
        );
    }
}
