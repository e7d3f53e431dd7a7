//! Property tests through the real router: every operation of KMS, CSMS, VPCEP
//! and IAM, called with a correctly signed request whose JSON body, path ids
//! and query are hostile (arbitrary JSON, or a valid example with its fields
//! mutated: other types, huge numbers, long and multi-byte strings), never
//! answers 5xx or panics, and every 4xx is the service's own error envelope.
//!
//! The bounded run keeps to a few seconds; `PROPTEST_CASES=20000` runs longer
//! (see `docs/fuzzing.md`).

mod common;

use axum::body::Body;
use axum::http::Request;
use common::{signed, TestServer, PROJECT};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};
use tower::ServiceExt;

/// Cases per property when `PROPTEST_CASES` is not set.
const DEFAULT_CASES: u32 = 160;

fn config() -> Config {
    let mut c = Config {
        failure_persistence: None,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = DEFAULT_CASES;
    }
    c
}

/// One operation: method, path template, and a body the cloud accepts.
struct Op {
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
}

fn op(method: &'static str, path: &'static str, body: Option<Value>) -> Op {
    Op { method, path, body }
}

const K: &str = "/v1.0/{p}/kms";

/// Every routed operation with an example body (placeholders in `{}` are
/// filled from the fixture, `{key}` with a real key id and so on).
fn operations() -> Vec<Op> {
    let key = json!({"key_id": "{key}"});
    let mut ops = vec![
        op(
            "POST",
            "kms/create-key",
            Some(
                json!({"key_alias": "a1", "key_spec": "AES_256", "key_usage": "ENCRYPT_DECRYPT", "key_description": "d", "origin": "kms", "enterprise_project_id": "0", "sequence": "919c82d4-8046-4722-9094-35c3c6524cff"}),
            ),
        ),
        op("POST", "kms/describe-key", Some(key.clone())),
        op(
            "POST",
            "kms/list-keys",
            Some(
                json!({"limit": "10", "marker": "0", "key_state": "2", "key_spec": "AES_256", "enterprise_project_id": "0"}),
            ),
        ),
        op("POST", "kms/enable-key", Some(key.clone())),
        op("POST", "kms/disable-key", Some(key.clone())),
        op(
            "POST",
            "kms/schedule-key-deletion",
            Some(json!({"key_id": "{key}", "pending_days": "7"})),
        ),
        op("POST", "kms/cancel-key-deletion", Some(key.clone())),
        op(
            "POST",
            "kms/update-key-description",
            Some(json!({"key_id": "{key}", "key_description": "x"})),
        ),
        op(
            "POST",
            "kms/update-key-alias",
            Some(json!({"key_id": "{key}", "key_alias": "b2"})),
        ),
        op(
            "POST",
            "kms/{key}/tags/action",
            Some(json!({"action": "create", "tags": [{"key": "k", "value": "v"}]})),
        ),
        op(
            "POST",
            "kms/{key}/tags",
            Some(json!({"tag": {"key": "k", "value": "v"}})),
        ),
        op("GET", "kms/{key}/tags", None),
        op("DELETE", "kms/{key}/tags/{tagkey}", None),
        op("GET", "kms/tags", None),
        op(
            "POST",
            "kms/resource_instances/action",
            Some(
                json!({"action": "filter", "limit": "10", "offset": "0", "tags": [{"key": "k", "values": ["v"]}], "matches": [{"key": "resource_name", "value": "a"}]}),
            ),
        ),
        op(
            "POST",
            "kms/encrypt-data",
            Some(
                json!({"key_id": "{key}", "plain_text": "hello", "encryption_algorithm": "SYMMETRIC_DEFAULT", "additional_authenticated_data": "aad"}),
            ),
        ),
        op(
            "POST",
            "kms/decrypt-data",
            Some(
                json!({"key_id": "{key}", "cipher_text": "{cipher}", "additional_authenticated_data": "aad"}),
            ),
        ),
        op("GET", "kms/user-instances", None),
        op("GET", "kms/user-quotas", None),
        op("POST", "kms/enable-key-rotation", Some(key.clone())),
        op("POST", "kms/disable-key-rotation", Some(key.clone())),
        op(
            "POST",
            "kms/update-key-rotation-interval",
            Some(json!({"key_id": "{key}", "rotation_interval": 30})),
        ),
        op("POST", "kms/get-key-rotation-status", Some(key.clone())),
        op("POST", "kms/rotate-on-demand", Some(key.clone())),
        op(
            "POST",
            "kms/get-parameters-for-import",
            Some(json!({"key_id": "{key}", "wrapping_algorithm": "RSAES_OAEP_SHA_256"})),
        ),
        op(
            "POST",
            "kms/import-key-material",
            Some(
                json!({"key_id": "{key}", "import_token": "AAAA", "encrypted_key_material": "AAAA", "expiration_time": "2000000000"}),
            ),
        ),
        op(
            "POST",
            "kms/delete-imported-key-material",
            Some(key.clone()),
        ),
        op(
            "POST",
            "kms/create-grant",
            Some(
                json!({"key_id": "{key}", "grantee_principal": "0123456789abcdef0123456789abcdef", "operations": ["describe-key"], "name": "g", "grantee_principal_type": "user"}),
            ),
        ),
        op(
            "POST",
            "kms/list-grants",
            Some(json!({"key_id": "{key}", "limit": "10", "marker": "0"})),
        ),
        op(
            "POST",
            "kms/list-retirable-grants",
            Some(json!({"limit": "10", "marker": "0"})),
        ),
        op(
            "POST",
            "kms/revoke-grant",
            Some(json!({"key_id": "{key}", "grant_id": "{grant}"})),
        ),
        op(
            "POST",
            "kms/retire-grant",
            Some(json!({"key_id": "{key}", "grant_id": "{grant}"})),
        ),
        op(
            "POST",
            "kms/aliases",
            Some(json!({"key_id": "{key}", "alias": "alias/x"})),
        ),
        op("GET", "kms/aliases", None),
        op(
            "DELETE",
            "kms/aliases",
            Some(json!({"key_id": "{key}", "aliases": ["alias/x"]})),
        ),
        op(
            "POST",
            "kms/alias/associate",
            Some(json!({"alias": "alias/x", "target_key_id": "{key}"})),
        ),
        op(
            "POST",
            "kms/create-datakey",
            Some(
                json!({"key_id": "{key}", "key_spec": "AES_256", "datakey_length": "256", "additional_authenticated_data": "a"}),
            ),
        ),
        op(
            "POST",
            "kms/create-datakey-without-plaintext",
            Some(json!({"key_id": "{key}", "datakey_length": "512"})),
        ),
        op(
            "POST",
            "kms/encrypt-datakey",
            Some(
                json!({"key_id": "{key}", "plain_text": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "datakey_plain_length": "32"}),
            ),
        ),
        op(
            "POST",
            "kms/decrypt-datakey",
            Some(
                json!({"key_id": "{key}", "cipher_text": "{dkcipher}", "datakey_cipher_length": "32"}),
            ),
        ),
        op(
            "POST",
            "kms/create-ec-datakey-pair",
            Some(json!({"key_id": "{key}", "key_spec": "ECC_NIST_P256", "with_plain_text": true})),
        ),
        op(
            "POST",
            "kms/re-encrypt",
            Some(
                json!({"source_key_id": "{key}", "destination_key_id": "{key}", "cipher_text": "{cipher}", "source_additional_authenticated_data": "aad"}),
            ),
        ),
        op(
            "POST",
            "kms/gen-random",
            Some(json!({"random_data_length": "256"})),
        ),
        op(
            "POST",
            "kms/sign",
            Some(
                json!({"key_id": "{key}", "message": "aGVsbG8=", "signing_algorithm": "RSASSA_PSS_SHA_256", "message_type": "RAW"}),
            ),
        ),
        op(
            "POST",
            "kms/verify",
            Some(
                json!({"key_id": "{key}", "message": "aGVsbG8=", "signature": "AAAA", "signing_algorithm": "RSASSA_PSS_SHA_256"}),
            ),
        ),
        op("POST", "kms/get-publickey", Some(key.clone())),
        op(
            "POST",
            "kms/generate-mac",
            Some(
                json!({"key_id": "{key}", "mac_algorithm": "HMAC_SHA_256", "message": "aGVsbG8="}),
            ),
        ),
        op(
            "POST",
            "kms/verify-mac",
            Some(
                json!({"key_id": "{key}", "mac_algorithm": "HMAC_SHA_256", "message": "aGVsbG8=", "mac": "AAAA"}),
            ),
        ),
        op(
            "POST",
            "kms/derive-shared-secret",
            Some(
                json!({"key_id": "{key}", "key_agreement_algorithm": "ECDH", "public_key": "AAAA"}),
            ),
        ),
        op(
            "POST",
            "kms/datakey-capsule/create",
            Some(json!({"key_id": "{key}", "datakey_length": "256", "public_key": "AAAA"})),
        ),
        op(
            "POST",
            "kms/datakey-capsule/decrypt",
            Some(json!({"key_id": "{key}", "public_key": "AAAA", "datakey_capsule": "AAAA"})),
        ),
        op(
            "POST",
            "kms/create-pin",
            Some(json!({"pin_type": "PlainText"})),
        ),
        op("GET", "/v2/{p}/kms/regions", None),
        op(
            "POST",
            "/v2/{p}/kms/keys/{key}/replicate",
            Some(json!({"replica_region": "cn-north-4"})),
        ),
        op(
            "PUT",
            "/v2/{p}/kms/keys/{key}/update-primary-region",
            Some(json!({"primary_region": "cn-north-4"})),
        ),
    ];
    ops.extend(csms_operations());
    ops.extend(vpcep_operations());
    ops.extend(iam_operations());
    ops
}

fn csms_operations() -> Vec<Op> {
    vec![
        op(
            "POST",
            "/v1/{p}/secrets",
            Some(
                json!({"name": "s2", "kms_key_id": "{key}", "description": "d", "secret_string": "v", "secret_type": "COMMON", "auto_rotation": false, "rotation_period": "30d", "event_subscriptions": ["{event}"], "enterprise_project_id": "0"}),
            ),
        ),
        op("GET", "/v1/{p}/secrets", None),
        op("GET", "/v1/{p}/secrets/{secret}", None),
        op(
            "PUT",
            "/v1/{p}/secrets/{secret}",
            Some(
                json!({"kms_key_id": "{key}", "description": "d", "auto_rotation": true, "rotation_period": "6h", "event_subscriptions": []}),
            ),
        ),
        op("DELETE", "/v1/{p}/secrets/{secret}", None),
        op(
            "POST",
            "/v1/{p}/secrets/restore",
            Some(json!({"secret_blob": "AAAA"})),
        ),
        op(
            "POST",
            "/v1/{p}/secrets/batch-import",
            Some(json!({"secrets": [{"name": "imported", "secret_string": "v"}]})),
        ),
        op(
            "POST",
            "/v1/{p}/secrets/{secret}/scheduled-deleted-tasks/create",
            Some(json!({"recovery_window_in_days": 7})),
        ),
        op(
            "POST",
            "/v1/{p}/secrets/{secret}/scheduled-deleted-tasks/cancel",
            None,
        ),
        op(
            "POST",
            "/v1/{p}/secrets/{secret}/versions",
            Some(
                json!({"secret_string": "v2", "version_stages": ["SYSCURRENT", "x"], "expire_time": 2000000000000i64}),
            ),
        ),
        op("GET", "/v1/{p}/secrets/{secret}/versions", None),
        op("GET", "/v1/{p}/secrets/{secret}/versions/{version}", None),
        op(
            "PUT",
            "/v1/{p}/secrets/{secret}/versions/{version}",
            Some(json!({"expire_time": 2000000000000i64})),
        ),
        op("GET", "/v1/{p}/secrets/{secret}/stages/{stage}", None),
        op(
            "PUT",
            "/v1/{p}/secrets/{secret}/stages/{stage}",
            Some(json!({"version_id": "{version}"})),
        ),
        op("DELETE", "/v1/{p}/secrets/{secret}/stages/{stage}", None),
        op(
            "POST",
            "/v1/{p}/csms/events",
            Some(
                json!({"name": "e2", "event_types": ["SECRET_VERSION_CREATED"], "state": "ENABLED", "notification": {"target_type": "SMN", "target_id": "urn:smn:cn-north-4:0123:t", "target_name": "t"}}),
            ),
        ),
        op("GET", "/v1/{p}/csms/events", None),
        op("GET", "/v1/{p}/csms/events/{event}", None),
        op(
            "PUT",
            "/v1/{p}/csms/events/{event}",
            Some(
                json!({"state": "DISABLED", "event_types": ["SECRET_DELETED"], "notification": {"target_type": "SMN", "target_id": "urn:smn:cn-north-4:0123:t", "target_name": "t"}}),
            ),
        ),
        op("DELETE", "/v1/{p}/csms/events/{event}", None),
        op("GET", "/v1/{p}/csms/notification-records", None),
        op("POST", "/v1/{p}/secrets/{secret}/backup", None),
        op("POST", "/v1/{p}/secrets/{secret}/rotate", None),
        op(
            "POST",
            "/v1/{p}/csms/generate-password",
            Some(
                json!({"length": 32, "exclude_characters": "abc", "exclude_lowercase": false, "exclude_uppercase": false, "exclude_numbers": false, "exclude_punctuation": false, "include_space": false, "require_each_included_type": true}),
            ),
        ),
        op("GET", "/v1/{p}/csms/tasks", None),
        op(
            "POST",
            "/v1/{p}/csms/{secret_id}/tags/action",
            Some(json!({"action": "create", "tags": [{"key": "k", "value": "v"}]})),
        ),
        op(
            "POST",
            "/v1/{p}/csms/{secret_id}/tags",
            Some(json!({"tag": {"key": "k", "value": "v"}})),
        ),
        op("GET", "/v1/{p}/csms/{secret_id}/tags", None),
        op("DELETE", "/v1/{p}/csms/{secret_id}/tags/{tagkey}", None),
        op("GET", "/v1/{p}/csms/tags", None),
        op(
            "POST",
            "/v1/{p}/csms/resource_instances/action",
            Some(
                json!({"action": "filter", "limit": "10", "offset": "0", "tags": [{"key": "k", "values": ["v"]}], "matches": [{"key": "resource_name", "value": "s"}]}),
            ),
        ),
    ]
}

fn vpcep_operations() -> Vec<Op> {
    let port = json!([{"client_port": 8080, "server_port": 80, "protocol": "TCP"}]);
    vec![
        op(
            "POST",
            "/v1/{p}/vpc-endpoint-services",
            Some(
                json!({"port_id": "{uuid}", "vpc_id": "{uuid}", "server_type": "VM", "service_type": "interface", "approval_enabled": false, "ports": port, "tcp_proxy": "close", "tags": [{"key": "k", "value": "v"}], "description": "d", "service_name": "svc", "ip_version": "ipv4"}),
            ),
        ),
        op("GET", "/v1/{p}/vpc-endpoint-services", None),
        op("GET", "/v1/{p}/vpc-endpoint-services/describe", None),
        op("GET", "/v1/{p}/vpc-endpoint-services/public", None),
        op("GET", "/v1/{p}/vpc-endpoint-services/{svc}", None),
        op(
            "PUT",
            "/v1/{p}/vpc-endpoint-services/{svc}",
            Some(
                json!({"approval_enabled": true, "service_name": "n", "ports": port, "port_id": "{uuid}", "tcp_proxy": "toa_open", "description": "x", "ip": "10.0.0.1"}),
            ),
        ),
        op("DELETE", "/v1/{p}/vpc-endpoint-services/{svc}", None),
        op(
            "PUT",
            "/v1/{p}/vpc-endpoint-services/{svc}/name",
            Some(json!({"endpoint_service_name": "n2"})),
        ),
        op("POST", "/v2/{p}/vpc-endpoint-services/{svc}/upgrade", None),
        op(
            "POST",
            "/v2/{p}/vpc-endpoint-services/{svc}/add-server-resources",
            Some(
                json!({"server_resources": [{"resource_id": "{uuid}", "availability_zone_id": "az1"}]}),
            ),
        ),
        op(
            "GET",
            "/v1/{p}/vpc-endpoint-services/{svc}/connections",
            None,
        ),
        op(
            "POST",
            "/v1/{p}/vpc-endpoint-services/{svc}/connections/action",
            Some(json!({"action": "receive", "endpoints": ["{ep}"]})),
        ),
        op(
            "PUT",
            "/v1/{p}/vpc-endpoint-services/{svc}/connections/description",
            Some(json!({"connections": [{"id": "{ep}", "description": "d"}]})),
        ),
        op(
            "GET",
            "/v1/{p}/vpc-endpoint-services/{svc}/permissions",
            None,
        ),
        op(
            "POST",
            "/v1/{p}/vpc-endpoint-services/{svc}/permissions/action",
            Some(
                json!({"permissions": ["iam:domain::abc"], "permission_type": "domainId", "action": "add"}),
            ),
        ),
        op(
            "POST",
            "/v1/{p}/vpc-endpoint-services/{svc}/permissions/batch-create",
            Some(
                json!({"permissions": [{"permission": "iam:domain::abc", "description": "d"}], "permission_type": "domainId"}),
            ),
        ),
        op(
            "POST",
            "/v1/{p}/vpc-endpoint-services/{svc}/permissions/batch-delete",
            Some(json!({"permissions": [{"id": "{uuid}"}]})),
        ),
        op(
            "PUT",
            "/v1/{p}/vpc-endpoint-services/{svc}/permissions/{uuid}",
            Some(json!({"permission": {"description": "d"}})),
        ),
        op(
            "POST",
            "/v1/{p}/vpc-endpoints",
            Some(
                json!({"endpoint_service_id": "{svc}", "vpc_id": "{uuid}", "subnet_id": "{uuid}", "enable_dns": false, "tags": [{"key": "k", "value": "v"}], "routetables": ["{uuid}"], "port_ip": "10.0.0.9", "whitelist": ["10.0.0.0/8"], "enable_whitelist": true, "description": "d", "policy_statement": [{"Effect": "Allow", "Action": ["obs:*"], "Resource": ["*"]}], "ip_version": "ipv4"}),
            ),
        ),
        op("GET", "/v1/{p}/vpc-endpoints", None),
        op("GET", "/v1/{p}/vpc-endpoints/{ep}", None),
        op(
            "PUT",
            "/v1/{p}/vpc-endpoints/{ep}",
            Some(json!({"whitelist": ["192.168.0.1"], "enable_whitelist": true})),
        ),
        op("DELETE", "/v1/{p}/vpc-endpoints/{ep}", None),
        op(
            "PUT",
            "/v1/{p}/vpc-endpoints/{ep}/routetables",
            Some(json!({"routetables": ["{uuid}"]})),
        ),
        op(
            "PUT",
            "/v1/{p}/vpc-endpoints/{ep}/policy",
            Some(json!({"policy_statement": [{"Effect": "Deny"}], "policy_document": {"a": 1}})),
        ),
        op("DELETE", "/v1/{p}/vpc-endpoints/{ep}/policy", None),
        op(
            "POST",
            "/v2/{p}/vpc-endpoints/{ep}/upgrade",
            Some(json!({"action": "upgrade"})),
        ),
        op("GET", "/v1/{p}/quotas", None),
        op(
            "POST",
            "/v1/{p}/endpoint_service/{svc}/tags/action",
            Some(json!({"action": "create", "tags": [{"key": "k", "value": "v"}]})),
        ),
        op("GET", "/v1/{p}/endpoint/tags", None),
        op(
            "POST",
            "/v1/{p}/endpoint/resource_instances/action",
            Some(
                json!({"action": "filter", "limit": "10", "offset": "0", "tags": [{"key": "k", "values": ["v"]}], "matches": [{"key": "resource_name", "value": "a"}], "without_any_tag": false}),
            ),
        ),
    ]
}

fn iam_operations() -> Vec<Op> {
    vec![
        op(
            "POST",
            "/v3/auth/tokens",
            Some(
                json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "password": "admin-password", "domain": {"name": "admin"}}}}, "scope": {"project": {"name": "cn-north-4"}}}}),
            ),
        ),
        op("GET", "/v3/auth/tokens", None),
        op("GET", "/v3/projects", None),
        op("GET", "/v3/auth/projects", None),
        op("GET", "/v3/auth/domains", None),
    ]
}

/// Query keys the list operations read, plus a few that none does.
const QUERY_KEYS: &[&str] = &[
    "limit",
    "offset",
    "marker",
    "marker_id",
    "event_name",
    "key_id",
    "id",
    "status",
    "sort_key",
    "sort_dir",
    "endpoint_service_name",
    "vpc_id",
    "permission",
    "public_border_group",
    "net_type",
    "kind",
    "name",
    "secret_name",
    "task_status",
    "other",
];

/// Field names of the wire request types, so that arbitrary objects hit them.
const FIELDS: &[&str] = &[
    "key_id",
    "key_alias",
    "key_spec",
    "key_usage",
    "key_description",
    "origin",
    "sequence",
    "pending_days",
    "limit",
    "marker",
    "offset",
    "key_state",
    "tags",
    "tag",
    "key",
    "value",
    "values",
    "action",
    "matches",
    "plain_text",
    "cipher_text",
    "encryption_algorithm",
    "additional_authenticated_data",
    "rotation_interval",
    "wrapping_algorithm",
    "import_token",
    "encrypted_key_material",
    "expiration_time",
    "grantee_principal",
    "operations",
    "name",
    "grant_id",
    "alias",
    "aliases",
    "target_key_id",
    "datakey_length",
    "datakey_plain_length",
    "datakey_cipher_length",
    "random_data_length",
    "message",
    "signature",
    "signing_algorithm",
    "message_type",
    "mac_algorithm",
    "mac",
    "public_key",
    "datakey_capsule",
    "pin",
    "pin_type",
    "secret_string",
    "secret_binary",
    "rotation_period",
    "recovery_window_in_days",
    "version_stages",
    "expire_time",
    "version_id",
    "event_types",
    "state",
    "notification",
    "length",
    "ports",
    "client_port",
    "server_port",
    "port_id",
    "vpc_id",
    "subnet_id",
    "endpoint_service_id",
    "whitelist",
    "policy_statement",
    "policy_document",
    "permissions",
    "permission_type",
    "routetables",
    "endpoints",
    "connections",
    "auth",
    "identity",
    "methods",
    "password",
    "user",
    "domain",
    "scope",
    "project",
];

fn hostile_string() -> BoxedStrategy<String> {
    prop_oneof![
        4 => ".{0,24}",
        2 => "[0-9dhms天é😀 .+-]{0,10}",
        1 => Just("6天".to_owned()),
        1 => Just("9".repeat(40)),
        1 => Just(i64::MAX.to_string()),
        1 => Just("-9223372036854775808".to_owned()),
        1 => Just("1e308".to_owned()),
        1 => Just("😀".repeat(3000)),
        1 => Just("a".repeat(40_000)),
        1 => Just("0123abcd-0123-0123-0123-0123456789ab".to_owned()),
        1 => "[A-Za-z0-9+/=]{0,64}",
    ]
    .boxed()
}

fn leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![
            Just(-1i64),
            Just(0),
            Just(1),
            Just(7),
            Just(i64::MAX),
            Just(i64::MIN)
        ]
        .prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN", |f| f.is_finite())
            .prop_map(Value::from),
        hostile_string().prop_map(Value::String),
    ]
    .boxed()
}

fn key() -> BoxedStrategy<String> {
    prop_oneof![3 => prop::sample::select(FIELDS).prop_map(str::to_owned), 1 => ".{0,8}"].boxed()
}

fn json_value() -> BoxedStrategy<Value> {
    leaf()
        .prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(key(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
}

/// A change to a valid body: `(which spot, what to do, the new value)`.
type Mutation = (usize, u8, Value, String);

/// Every spot in `v` where a value sits, as a path of keys and indexes.
fn spots(v: &Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| {
            let mut p = at.clone();
            p.push(k.clone());
            spots(c, p, out)
        }),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| {
            let mut p = at.clone();
            p.push(i.to_string());
            spots(c, p, out)
        }),
        _ => {}
    }
}

fn mutate(mut body: Value, muts: &[Mutation]) -> Value {
    for (which, what, new, extra_key) in muts {
        let mut all = Vec::new();
        spots(&body, Vec::new(), &mut all);
        let path = &all[which % all.len()];
        let Some((last, parent_path)) = path.split_last() else {
            if what % 4 == 3 {
                body = new.clone();
            }
            continue;
        };
        let mut parent = &mut body;
        for step in parent_path {
            parent = match parent {
                Value::Object(m) => m.get_mut(step).unwrap(),
                Value::Array(a) => &mut a[step.parse::<usize>().unwrap()],
                _ => unreachable!(),
            };
        }
        match (parent, what % 3) {
            (Value::Object(m), 0) => {
                m.remove(last);
            }
            (Value::Object(m), 1) => {
                m.insert(extra_key.clone(), new.clone());
            }
            (Value::Object(m), _) => {
                m.insert(last.clone(), new.clone());
            }
            (Value::Array(a), _) => a[last.parse::<usize>().unwrap()] = new.clone(),
            _ => {}
        }
    }
    body
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec((any::<usize>(), any::<u8>(), json_value(), key()), 1..4)
}

/// What a case sends as its body.
#[derive(Debug, Clone)]
enum BodyCase {
    Example,
    Mutated(Vec<Mutation>),
    Arbitrary(Value),
    Text(String),
}

fn body_case() -> impl Strategy<Value = BodyCase> {
    prop_oneof![
        1 => Just(BodyCase::Example),
        6 => mutations().prop_map(BodyCase::Mutated),
        3 => json_value().prop_map(BodyCase::Arbitrary),
        1 => prop_oneof![".{0,30}", Just("{\"a\":".to_owned()), Just("[".repeat(300)),
                         Just("{\"key_id\":\"\\ud800\"}".to_owned())].prop_map(BodyCase::Text),
    ]
}

/// At most 300 characters: longer URIs are refused by the HTTP layer itself
/// (414 from hyper) before dewstack sees them, and `http::Uri` refuses them here.
fn short(s: &str) -> String {
    s.chars().take(300).collect()
}

/// Percent-encodes everything but unreserved characters.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn query_case() -> impl Strategy<Value = Vec<(String, String, bool)>> {
    let key =
        prop_oneof![3 => prop::sample::select(QUERY_KEYS).prop_map(str::to_owned), 1 => ".{0,6}"];
    // the bool: send the value raw (possibly bad percent-encoding) instead of
    // encoded. Keys may repeat ("offset=&offset="): that is refused, in the
    // service's envelope.
    prop::collection::vec((key, hostile_string(), prop::bool::weighted(0.1)), 0..4)
}

/// Path placeholders a case may replace with a hostile value.
const PLACEHOLDERS: &[&str] = &[
    "{key}",
    "{secret}",
    "{secret_id}",
    "{version}",
    "{stage}",
    "{event}",
    "{svc}",
    "{ep}",
    "{uuid}",
    "{tagkey}",
    "{grant}",
];

/// A path segment as sent: percent-encoded text, or bytes that do not decode
/// to UTF-8.
fn path_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => hostile_string().prop_map(|s| enc(&short(&s))),
        // "%FF" and "%C3%28" do not decode to UTF-8: see
        // `invalid_utf8_path_ids_get_the_service_envelope`.
        1 => prop_oneof![
            Just("%"),
            Just("%zz"),
            Just("%2F"),
            Just("%00"),
            Just("%FF"),
            Just("%C3%28")
        ]
        .prop_map(str::to_owned),
    ]
}

struct Fixture {
    server: TestServer,
    ids: Vec<(&'static str, String)>,
}

impl Fixture {
    async fn new() -> Self {
        let server = TestServer::start().await;
        let (_, k) = server
            .kms("create-key", json!({"key_alias": "fixture"}))
            .await;
        let key = k["key_info"]["key_id"].as_str().unwrap().to_owned();
        let (_, c) = server
            .kms("encrypt-data", json!({"key_id": key, "plain_text": "hello", "additional_authenticated_data": "aad"}))
            .await;
        let cipher = c["cipher_text"].as_str().unwrap_or("AAAA").to_owned();
        let (_, d) = server
            .kms(
                "create-datakey",
                json!({"key_id": key, "datakey_length": "256"}),
            )
            .await;
        let dkcipher = d["cipher_text"].as_str().unwrap_or("AAAA").to_owned();
        let (_, g) = server
            .kms("create-grant", json!({"key_id": key, "grantee_principal": "0123456789abcdef0123456789abcdef", "operations": ["describe-key"]}))
            .await;
        let grant = g["grant_id"].as_str().unwrap_or("x").to_owned();
        let mut fx = Self {
            server,
            ids: vec![],
        };
        let (_, s) = fx
            .call(
                "POST",
                "/v1/{p}/secrets",
                &json!({"name": "fixture", "secret_string": "v"}).to_string(),
            )
            .await;
        let secret_id = s["secret"]["id"].as_str().unwrap_or("x").to_owned();
        let svc_body = json!({"port_id": uuid(1), "vpc_id": uuid(2), "server_type": "VM", "approval_enabled": true,
            "ports": [{"client_port": 8080, "server_port": 80, "protocol": "TCP"}]});
        let (_, v) = fx
            .call(
                "POST",
                "/v1/{p}/vpc-endpoint-services",
                &svc_body.to_string(),
            )
            .await;
        let svc = v["id"].as_str().unwrap_or("x").to_owned();
        let ep_body = json!({"endpoint_service_id": svc, "vpc_id": uuid(3), "subnet_id": uuid(4)});
        let (_, e) = fx
            .call("POST", "/v1/{p}/vpc-endpoints", &ep_body.to_string())
            .await;
        let ep = e["id"].as_str().unwrap_or("x").to_owned();
        fx.ids = vec![
            ("{key}", key),
            ("{cipher}", cipher),
            ("{dkcipher}", dkcipher),
            ("{grant}", grant),
            ("{secret}", "fixture".into()),
            ("{secret_id}", secret_id),
            ("{version}", "v1".into()),
            ("{stage}", "SYSCURRENT".into()),
            ("{event}", "e1".into()),
            ("{svc}", svc),
            ("{ep}", ep),
            ("{uuid}", uuid(5)),
            ("{tagkey}", "k".into()),
        ];
        fx
    }

    fn fill(&self, text: &str) -> String {
        let mut out = text.replace("{p}", PROJECT);
        for (name, value) in &self.ids {
            out = out.replace(name, value);
        }
        out
    }

    /// A signed call; the raw status and body.
    async fn raw(&self, method: &str, path_and_query: &str, body: &str) -> (u16, Vec<u8>) {
        let req = signed(
            &self.server.clock,
            method,
            path_and_query,
            body,
            common::AK,
            common::SK,
        );
        self.send(req).await
    }

    async fn send(&self, req: Request<Body>) -> (u16, Vec<u8>) {
        let resp = dewstack::app(self.server.state.clone())
            .oneshot(req)
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        (status, bytes.to_vec())
    }

    async fn call(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let (s, b) = self.raw(method, &self.fill(path), body).await;
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }
}

fn uuid(n: u8) -> String {
    format!("{n:08x}-0000-4000-8000-{n:012x}")
}

fn full_path(op: &Op) -> String {
    if op.path.starts_with('/') {
        op.path.to_owned()
    } else {
        format!("{K}/{}", op.path)
    }
}

/// The envelope a path's service answers errors in.
fn check_answer(path: &str, status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    let text = String::from_utf8_lossy(body);
    prop_assert!(status < 500, "{status} from {path}: {text}");
    if status < 400 {
        return Ok(());
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| TestCaseError::fail(format!("{status} from {path} is not JSON: {text}")))?;
    let e = &v["error"];
    let gateway = v["error_code"]
        .as_str()
        .is_some_and(|c| c.starts_with("APIGW."))
        && v["error_msg"].is_string()
        && v["request_id"].is_string();
    let ok = if gateway && !path.starts_with("/v3/") {
        true
    } else if path.starts_with("/v3/") {
        e["code"].as_u64() == Some(u64::from(status)) && e["message"].is_string()
    } else if path.contains("/vpc-endpoint")
        || path.contains("/quotas")
        || path.contains("/endpoint")
    {
        e["code"].is_string() && e["message"].is_string()
    } else {
        e["error_code"].is_string() && e["error_msg"].is_string()
    };
    prop_assert!(
        ok,
        "{status} from {path} is not the service's envelope: {text}"
    );
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn hostile_bodies_paths_and_queries_never_give_5xx_or_foreign_envelopes() {
    let rt = runtime();
    let fx = rt.block_on(Fixture::new());
    let ops = operations();
    let strategy = (
        0..ops.len(),
        body_case(),
        query_case(),
        proptest::option::weighted(0.2, (prop::sample::select(PLACEHOLDERS), path_segment())),
    );
    let mut runner = TestRunner::new(config());
    let result = runner.run(&strategy, |(i, body, query, replace)| {
        let op = &ops[i];
        let mut path = full_path(op);
        if let Some((name, value)) = &replace {
            path = path.replace(name, value);
        }
        let mut path = fx.fill(&path);
        if op.method == "GET" && !query.is_empty() {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v, raw)| {
                    let v = if *raw {
                        short(v)
                            .replace(['&', '#', ' '], "")
                            .chars()
                            .filter(|c| {
                                c.is_ascii_alphanumeric() || "%-._~!$()*+,;=:@/?".contains(*c)
                            })
                            .collect()
                    } else {
                        enc(&short(v))
                    };
                    format!("{}={v}", enc(k))
                })
                .collect();
            path = format!("{path}?{}", q.join("&"));
        }
        let example = op
            .body
            .clone()
            .map(|b| serde_json::from_str(&fx.fill(&b.to_string())).unwrap());
        let text = match (&body, example) {
            (BodyCase::Text(t), _) => t.clone(),
            (BodyCase::Arbitrary(v), _) => v.to_string(),
            (BodyCase::Mutated(m), Some(ex)) => mutate(ex, m).to_string(),
            (_, Some(ex)) => ex.to_string(),
            (_, None) => String::new(),
        };
        let (status, answer) = rt.block_on(fx.raw(op.method, &path, &text));
        check_answer(&path, status, &answer)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Hostile `Authorization` and `X-Sdk-Date` headers on a real route: a 401/400
/// in the envelope of the service the path belongs to, never a 5xx.
#[test]
fn hostile_signature_headers_never_give_5xx() {
    let rt = runtime();
    let fx = rt.block_on(Fixture::new());
    let paths = [
        format!("/v1.0/{PROJECT}/kms/list-keys"),
        format!("/v1/{PROJECT}/secrets"),
        format!("/v1/{PROJECT}/vpc-endpoints"),
        "/v3/projects".to_owned(),
    ];
    let alg = prop_oneof![
        Just("SDK-HMAC-SHA256"),
        Just("SDK-HMAC-SM3"),
        Just("V11-HMAC-SHA256"),
        Just("SDK-ECDSA-P256-SHA256"),
        Just("SDK-SM2-SM3"),
        Just("Bearer"),
    ];
    let auth = (
        alg,
        prop::collection::vec(
            ("(Access|Credential|SignedHeaders|Signature|x)", ".{0,40}"),
            0..5,
        ),
    )
        .prop_map(|(a, parts)| {
            let parts: Vec<String> = parts.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{a} {}", parts.join(", "))
        });
    let date = prop_oneof![
        Just("20231114T221320Z".to_owned()),
        "[0-9TZ]{0,18}",
        ".{0,20}"
    ];
    let strategy = (0..paths.len(), auth, date, prop::bool::ANY);
    let mut runner = TestRunner::new(config());
    let result = runner.run(&strategy, |(i, auth, date, get)| {
        let method = if get { "GET" } else { "POST" };
        let mut builder = Request::builder()
            .method(method)
            .uri(&paths[i])
            .header("host", "dewstack.test");
        for (name, value) in [("authorization", &auth), ("x-sdk-date", &date)] {
            if let Ok(v) = axum::http::HeaderValue::from_str(value) {
                builder = builder.header(name, v);
            }
        }
        let req = builder.body(Body::from("{}")).unwrap();
        let (status, answer) = rt.block_on(fx.send(req));
        check_answer(&paths[i], status, &answer)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Regression for item 1 of the hardening issue: a `rotation_period` ending in
/// a multi-byte character used to panic the connection task.
#[test]
fn rotation_period_ending_in_a_multibyte_character_is_a_csms_400() {
    let rt = runtime();
    let fx = rt.block_on(Fixture::new());
    for period in ["6天", "天", "30d😀"] {
        let create = json!({"name": "rp", "secret_string": "v", "auto_rotation": true, "rotation_period": period});
        let (status, body) = rt.block_on(fx.call("POST", "/v1/{p}/secrets", &create.to_string()));
        assert_eq!(status, 400, "{period}: {body}");
        assert_eq!(body["error"]["error_code"], "CSMS.0002", "{period}: {body}");
        let update = json!({"auto_rotation": true, "rotation_period": period});
        let (status, body) =
            rt.block_on(fx.call("PUT", "/v1/{p}/secrets/fixture", &update.to_string()));
        assert_eq!(status, 400, "{period}: {body}");
        assert_eq!(body["error"]["error_code"], "CSMS.0002", "{period}: {body}");
    }
}

/// Found by the property above: a path id that does not percent-decode to
/// UTF-8 got axum's plain-text 400 ("Invalid UTF-8 in `secret_name`"); the
/// auth layer now refuses it in the service's envelope.
#[test]
fn invalid_utf8_path_ids_get_the_service_envelope() {
    let rt = runtime();
    let fx = rt.block_on(Fixture::new());
    for path in [
        "/v1/{p}/secrets/%FF/versions/v1",
        "/v1/{p}/vpc-endpoint-services/%FF",
        "/v1/{p}/vpc-endpoints/%C3%28",
    ] {
        let path = fx.fill(path);
        let (status, body) = rt.block_on(fx.raw("GET", &path, ""));
        check_answer(&path, status, &body).unwrap();
    }
}

/// A repeated query key (found by the property above: axum's `Query`
/// answered it in plain text in CSMS, VPCEP and IAM) is a 400 in the
/// service's own envelope.
#[test]
fn repeated_query_keys_get_the_service_envelope() {
    let rt = runtime();
    let fx = rt.block_on(Fixture::new());
    for path in [
        "/v1/{p}/secrets?limit=1&limit=2",
        "/v1/{p}/csms/events?limit=1&limit=1",
        "/v1/{p}/vpc-endpoints?offset=&offset=",
        "/v1/{p}/vpc-endpoint-services?limit=1&limit=2",
        "/v1.0/{p}/kms/aliases?limit=1&limit=2",
        "/v3/projects?name=a&name=b",
    ] {
        let path = fx.fill(path);
        let (status, body) = rt.block_on(fx.raw("GET", &path, ""));
        assert_eq!(status, 400, "{path}: {}", String::from_utf8_lossy(&body));
        check_answer(&path, status, &body).unwrap();
    }
}
