//! Which operations are audited, and what of each request a record may
//! keep. An operation is audited when it changes state, uses a key
//! (encrypt, decrypt, sign, verify, data keys, MAC, derivation) or reads a
//! secret value; reads of metadata are not (dewstack's choice: the trail
//! stays small and the hot read paths pay nothing).
//!
//! Request fields are an allow-list per operation: a field not listed here
//! never reaches a record, so a new field (plaintext or not) is redacted
//! until someone lists it. Names apply at every depth of the body.

/// An audited operation: its catalog name, CTS resource type, the request
/// fields a record may keep, and whether it only reads.
pub struct Audited {
    pub name: &'static str,
    pub resource_type: &'static str,
    pub request: &'static [&'static str],
    pub read_only: bool,
}

const SEQ: &str = "sequence";
const KEY: &[&str] = &["key_id", SEQ];
const TAGS: &[&str] = &["tags", "tag", "key", "value", "action", SEQ];
const KEY_ALGO: &[&str] = &["key_id", "encryption_algorithm", SEQ];
const DATAKEY: &[&str] = &["key_id", "key_spec", "datakey_length", SEQ];
const PAIR: &[&str] = &["key_id", "key_spec", "with_plain_text", SEQ];
const SIGN: &[&str] = &["key_id", "signing_algorithm", "message_type", SEQ];
const MAC: &[&str] = &["key_id", "mac_algorithm"];
const GRANT: &[&str] = &["key_id", "grant_id", SEQ];
const NONE: &[&str] = &[];
const GRANT_FIELDS: &[&str] = &[
    "resource_id",
    "type",
    "grantee_type",
    "grantee_target_id",
    "validity_time",
];
const EVENT: &[&str] = &[
    "name",
    "event_types",
    "state",
    "notification",
    "target_type",
    "target_id",
    "target_name",
];
const SECRET_META: &[&str] = &[
    "name",
    "kms_key_id",
    "description",
    "secret_type",
    "auto_rotation",
    "rotation_period",
    "event_subscriptions",
    "enterprise_project_id",
    "rotation_func_urn",
];
const PERMISSIONS: &[&str] = &[
    "permissions",
    "permission",
    "permission_type",
    "action",
    "id",
    "description",
];

const fn op(
    name: &'static str,
    resource_type: &'static str,
    request: &'static [&'static str],
) -> Audited {
    Audited {
        name,
        resource_type,
        request,
        read_only: false,
    }
}

/// A key use or secret read that changes nothing.
const fn read(
    name: &'static str,
    resource_type: &'static str,
    request: &'static [&'static str],
) -> Audited {
    Audited {
        name,
        resource_type,
        request,
        read_only: true,
    }
}

/// Resource types are dewstack's names (CTS publishes none for these
/// services' traces).
#[rustfmt::skip]
pub const AUDITED: &[Audited] = &[
    op("CreateKey", "key", &["key_alias", "key_spec", "key_usage", "key_description", "origin", "enterprise_project_id", "keystore_id", SEQ]),
    op("EnableKey", "key", KEY),
    op("DisableKey", "key", KEY),
    op("DeleteKey", "key", &["key_id", "pending_days", SEQ]),
    op("CancelKeyDeletion", "key", KEY),
    op("CreateKeyStore", "keystore", &["keystore_alias", "hsm_cluster_id", "cluster_id", "keystore_type"]),
    op("DeleteKeyStore", "keystore", NONE),
    op("EnableKeyStore", "keystore", NONE),
    op("DisableKeyStore", "keystore", NONE),
    op("CreateAccessPoint", "access_point", &["keyspace_id", "access_point_name", "type", "identity", "cluster_id", "description"]),
    op("DeleteAccessPoint", "access_point", NONE),
    op("EnableAccessPoint", "access_point", NONE),
    op("DisableAccessPoint", "access_point", NONE),
    // It hands out (and removes) the private key: the key itself is never recorded.
    op("DownloadAccessPointPrivateKey", "access_point", NONE),
    op("CreateKeyPolicy", "key_policy", &["keyspace_id", "policy_name", "policy", "description"]),
    op("UpdateKeyPolicy", "key_policy", &["policy", "description"]),
    op("DeleteKeyPolicy", "key_policy", NONE),
    op("UpdateKeyDescription", "key", &["key_id", "key_description", SEQ]),
    op("UpdateKeyAlias", "key", &["key_id", "key_alias", SEQ]),
    op("BatchCreateKmsTags", "key", TAGS),
    op("CreateKmsTag", "key", TAGS),
    op("DeleteTag", "key", NONE),
    read("EncryptData", "key", KEY_ALGO),
    read("DecryptData", "key", KEY_ALGO),
    op("EnableKeyRotation", "key", KEY),
    op("DisableKeyRotation", "key", KEY),
    op("UpdateKeyRotationInterval", "key", &["key_id", "rotation_interval", SEQ]),
    op("RotateOnDemand", "key", KEY),
    op("CreateParametersForImport", "key", &["key_id", "wrapping_algorithm", SEQ]),
    op("ImportKeyMaterial", "key", &["key_id", "expiration_time", SEQ]),
    op("DeleteImportedKeyMaterial", "key", KEY),
    op("CreateGrant", "grant", &["key_id", "grantee_principal", "operations", "name", "retiring_principal", "grantee_principal_type", SEQ]),
    op("CancelGrant", "grant", GRANT),
    op("CancelSelfGrant", "grant", GRANT),
    op("CreateAlias", "alias", &["key_id", "alias"]),
    op("DeleteAlias", "alias", &["key_id", "aliases"]),
    op("AssociateAlias", "alias", &["alias", "target_key_id"]),
    op("ReplicateKey", "key", &["key_id", "replica_region", "key_alias", "key_description", "replica_project_id", "tags", "key", "value"]),
    op("UpdatePrimaryRegion", "key", &["key_id", "primary_region"]),
    read("CreateDatakey", "key", DATAKEY),
    read("CreateDatakeyWithoutPlaintext", "key", DATAKEY),
    read("EncryptDatakey", "key", &["key_id", "datakey_plain_length", "key_spec", SEQ]),
    read("DecryptDatakey", "key", &["key_id", "datakey_cipher_length", SEQ]),
    read("CreateRsaDatakeyPair", "key", PAIR),
    read("CreateEcDatakeyPair", "key", PAIR),
    read("ReEncrypt", "key", &["source_key_id", "source_encryption_algorithm", "destination_key_id", "destination_encryption_algorithm", "datakey_cipher_length"]),
    read("Sign", "key", SIGN),
    read("ValidateSignature", "key", SIGN),
    read("GenerateMac", "key", MAC),
    read("VerifyMac", "key", MAC),
    read("DeriveSharedSecret", "key", &["key_id", "key_agreement_algorithm"]),
    read("CreateDatakeyCapsule", "key", &["key_id", "datakey_length", "policy_id"]),
    read("DecryptDatakeyCapsule", "key", &["key_id"]),
    op("CreatePin", "key", &["pin_type", "keystore_id"]),
    op("CreateSecret", "secret", SECRET_META),
    op("UpdateSecret", "secret", SECRET_META),
    op("DeleteSecret", "secret", NONE),
    op("UploadSecretBlob", "secret", NONE),
    op("BatchImportSecrets", "secret", NONE),
    op("DeleteSecretForSchedule", "secret", &["recovery_window_in_days"]),
    op("RestoreSecret", "secret", NONE),
    op("CreateSecretVersion", "secret", &["version_stages", "expire_time"]),
    read("ShowSecretVersion", "secret", NONE),
    op("UpdateVersion", "secret", &["expire_time"]),
    op("UpdateSecretStage", "secret", &["version_id"]),
    op("DeleteSecretStage", "secret", NONE),
    op("CreateSecretEvent", "event", EVENT),
    op("UpdateSecretEvent", "event", EVENT),
    op("DeleteSecretEvent", "event", NONE),
    read("DownloadSecretBlob", "secret", NONE),
    op("RotateSecret", "secret", NONE),
    read("GenerateRandomPassword", "password", &["password_policy_name", "length", "exclude_lowercase", "exclude_uppercase", "exclude_numbers", "exclude_punctuation", "include_space", "require_each_included_type"]),
    op("CreateAgency", "agency", &["secret_type"]),
    // Reads values to judge them; only names and paging are recorded.
    read("CheckSecrets", "secret", &["type", "name", "version_id", "marker", "limit"]),
    op("UpdateSecretsConfig", "secret_config", &["checking_secret_strength"]),
    op("CreateGrants", "grant", GRANT_FIELDS),
    op("UpdateGrant", "grant", GRANT_FIELDS),
    op("DeleteGrant", "grant", NONE),
    // Never the passwords: no request field is recorded.
    op("UpdateUserPassword", "user", NONE),
    op("BatchCreateOrDeleteTags", "secret", TAGS),
    op("CreateSecretTag", "secret", TAGS),
    op("DeleteSecretTag", "secret", NONE),
    op("CreateEndpointService", "endpoint_service", &["port_id", "service_name", "vpc_id", "approval_enabled", "service_type", "server_type", "ip", "ports", "client_port", "server_port", "protocol", "tcp_proxy", "tags", "key", "value", "description", "ip_version"]),
    op("UpdateEndpointService", "endpoint_service", &["approval_enabled", "service_name", "ports", "client_port", "server_port", "protocol", "port_id", "tcp_proxy", "description", "ip"]),
    op("DeleteEndpointService", "endpoint_service", NONE),
    op("UpdateEndpointServiceName", "endpoint_service", &["endpoint_service_name"]),
    op("UpgradeEndpointService", "endpoint_service", NONE),
    op("AddEndpointServiceServerResource", "endpoint_service", &["server_resources", "availability_zone_id", "subnet_id"]),
    op("AcceptOrRejectEndpoint", "endpoint_service", &["action", "endpoints"]),
    op("UpdateEndpointConnectionsDesc", "endpoint_service", &["connections", "id", "description"]),
    op("AddOrRemoveServicePermissions", "endpoint_service", PERMISSIONS),
    op("BatchAddEndpointServicePermissions", "endpoint_service", PERMISSIONS),
    op("BatchRemoveEndpointServicePermissions", "endpoint_service", PERMISSIONS),
    op("UpdateEndpointServicePermissionDesc", "endpoint_service", PERMISSIONS),
    op("CreateEndpoint", "endpoint", &["subnet_id", "endpoint_service_id", "vpc_id", "enable_dns", "tags", "key", "value", "routetables", "port_ip", "whitelist", "enable_whitelist", "description", "ip_version"]),
    op("UpdateEndpointWhite", "endpoint", &["whitelist", "enable_whitelist"]),
    op("DeleteEndpoint", "endpoint", NONE),
    op("UpdateEndpointRoutetable", "endpoint", &["routetables"]),
    op("UpdateEndpointPolicy", "endpoint", NONE),
    op("DeleteEndpointPolicy", "endpoint", NONE),
    op("UpgradeEndpoint", "endpoint", &["action"]),
    op("BatchAddOrRemoveResourceInstance", "tag", TAGS),
    op("AdvanceClock", "clock", &["advance"]),
];

/// Response fields a record may keep, for every operation: identifiers,
/// states and error envelopes, never a value, plaintext or key material.
pub const RESPONSE: &[&str] = &[
    "key_info",
    "key_id",
    "key_alias",
    "key_state",
    "key_spec",
    "key_usage",
    "grant_id",
    "secret",
    "id",
    "name",
    "state",
    "status",
    "kms_key_id",
    "secret_type",
    "version",
    "version_metadata",
    "version_stages",
    "version_id",
    "expire_time",
    "stage",
    "event",
    "event_types",
    "endpoint_service_id",
    "service_name",
    "error",
    "error_code",
    "error_msg",
    "code",
    "message",
    "encryption_algorithm",
    "signing_algorithm",
    "mac_algorithm",
    "signature_valid",
    "mac_valid",
    "now",
    "offset_secs",
];

/// Path parameters that name the resource, most specific first.
pub const RESOURCE_PARAMS: &[&str] = &[
    "key_id",
    "secret_name",
    "secret_id",
    "event_name",
    "vpc_endpoint_service_id",
    "vpc_endpoint_id",
    "keystore_id",
    "access_point_id",
    "policy_id",
    "resource_id",
];

/// Body fields naming the resource when the path does not, request first.
pub const RESOURCE_FIELDS: &[&str] = &[
    "key_id",
    "target_key_id",
    "destination_key_id",
    "key_info.key_id",
    "keystore.keystore_id",
    "secret.id",
    "access_point_id",
    "policy_id",
    "id",
];

/// Body fields naming the resource by name.
pub const NAME_FIELDS: &[&str] = &[
    "key_alias",
    "alias",
    "name",
    "secret.name",
    "service_name",
    "access_point_name",
    "policy_name",
];

/// Every field name on the paths of `RESOURCE_FIELDS` and `NAME_FIELDS`:
/// what a record's parse of a body must keep besides the allow-list.
pub fn looked_up_names() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<&'static str> = RESOURCE_FIELDS
            .iter()
            .chain(NAME_FIELDS)
            .flat_map(|path| path.split('.'))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    })
}

/// The audit entry of an operation, if it is audited. Every request of the
/// three services asks, audited or not: one hash lookup, not a scan.
pub fn audited(name: &str) -> Option<&'static Audited> {
    static BY_NAME: std::sync::LazyLock<std::collections::HashMap<&'static str, &'static Audited>> =
        std::sync::LazyLock::new(|| AUDITED.iter().map(|a| (a.name, a)).collect());
    BY_NAME.get(name).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::operations::TABLE;

    /// POSTs that only read (lists, queries, lookups), and so are not audited.
    const READ_ONLY_POSTS: &[&str] = &[
        "ListKeyDetail",
        "ListKeys",
        "ListKmsByTags",
        "ShowKeyRotationStatus",
        "ListGrants",
        "ListRetirableGrants",
        "CreateRandom",
        "ShowPublicKey",
        "ListResourceInstances",
        "KeystoneCreateUserTokenByPassword",
    ];

    #[test]
    fn every_mutating_route_is_audited_and_names_are_real() {
        for &(service, method, path, name) in TABLE {
            if method != "GET" && !READ_ONLY_POSTS.contains(&name) {
                assert!(
                    audited(name).is_some(),
                    "{service} {method} {path} ({name}) changes state and is not audited"
                );
            }
        }
        for a in AUDITED {
            let served = TABLE.iter().any(|row| row.3 == a.name) || a.name == "BatchImportSecrets";
            assert!(served, "{} is not an operation dewstack serves", a.name);
        }
    }

    #[test]
    fn no_secret_bearing_field_is_ever_listed() {
        let secret_fields = [
            "plain_text",
            "cipher_text",
            "secret_string",
            "secret_binary",
            "secret_blob",
            "message",
            "signature",
            "mac",
            "encrypted_key_material",
            "encrypted_privatekey",
            "import_token",
            "pin",
            "password",
            "old_password",
            "public_key",
            "additional_authenticated_data",
            "datakey_capsule",
            "private_key",
            "datakey_plain_text",
            "random_password",
            "secret_key",
        ];
        for a in AUDITED {
            for f in secret_fields {
                assert!(!a.request.contains(&f), "{} lists {f}", a.name);
            }
        }
        // VPCEP's error envelope says `message`; no response carries a
        // message that was signed or MACed.
        for f in secret_fields.iter().filter(|f| **f != "message") {
            assert!(!RESPONSE.contains(f), "responses list {f}");
        }
    }
}
