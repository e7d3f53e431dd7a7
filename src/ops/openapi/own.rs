//! What the SDK catalog does not say: the status each operation answers
//! with, the error envelopes and statuses, who must authenticate, and
//! dewstack's own endpoints (health, metrics, dev clock, console, this
//! document), which are in no SDK.

use serde_json::{json, Value};

/// Operations that answer with something other than 200, as the handlers
/// do (the SDK states no success code; these follow the cloud's API
/// reference, and schemathesis checks every one against the server).
const SUCCESS: &[(&str, &str, u16)] = &[
    ("iam", "KeystoneCreateUserTokenByPassword", 201),
    ("kms", "BatchCreateKmsTags", 204),
    ("kms", "CreateKmsTag", 204),
    ("kms", "DeleteTag", 204),
    ("kms", "DeleteAlias", 204),
    ("csms", "DeleteSecret", 204),
    ("csms", "DeleteSecretStage", 204),
    ("csms", "DeleteSecretEvent", 204),
    ("csms", "BatchCreateOrDeleteTags", 204),
    ("csms", "CreateSecretTag", 204),
    ("csms", "DeleteSecretTag", 204),
    ("vpcep", "DeleteEndpointService", 204),
    ("vpcep", "DeleteEndpoint", 204),
    ("vpcep", "BatchAddOrRemoveResourceInstance", 204),
];

pub fn success_status(service: &str, name: &str) -> u16 {
    SUCCESS
        .iter()
        .find(|(s, n, _)| *s == service && *n == name)
        .map_or(200, |row| row.2)
}

/// Every status a service's refusals use: bad input, authentication
/// (401, 403 foreign project, 408 stalled body, 413 body limit), missing
/// resources, throttling, and storage trouble (500, 503).
pub const ERROR_STATUSES: &[u16] = &[400, 401, 403, 404, 408, 413, 429, 500, 503];

/// The error body a service's refusals carry: its own envelope, or the
/// gateway's flat one for credential problems (`auth/error.rs`).
pub fn error_schema(service: &str) -> Value {
    let envelopes: &[&str] = match service {
        "vpcep" => &["VpcepError", "GatewayError"],
        "iam" => &["KeystoneError"],
        "cts" => &["CtsError", "GatewayError"],
        _ => &["DewError", "GatewayError"],
    };
    let refs: Vec<Value> = envelopes
        .iter()
        .map(|e| json!({"$ref": format!("#/components/schemas/{e}")}))
        .collect();
    json!({"anyOf": refs})
}

/// The envelopes of `common/envelope.rs`, and CTS's flat one (`audit/query.rs`).
pub fn envelope_components() -> Value {
    let text = json!({"type": "string"});
    json!({
        "DewError": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["error_code", "error_msg"],
            "properties": {"error_code": text, "error_msg": text}}}},
        "VpcepError": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": text, "message": text}}}},
        "KeystoneError": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "title", "message"],
            "properties": {"code": {"type": "integer"}, "title": text, "message": text}}}},
        "CtsError": {"type": "object", "required": ["error_code", "error_msg"],
            "properties": {"error_code": text, "error_msg": text}},
        "GatewayError": {"type": "object", "required": ["error_code", "error_msg", "request_id"],
            "properties": {"error_code": text, "error_msg": text, "request_id": text}},
    })
}

pub fn security_schemes() -> Value {
    json!({
        "aksk": {"type": "apiKey", "in": "header", "name": "Authorization",
                 "description": "SDK-HMAC-SHA256 AK/SK signature with X-Sdk-Date (docs/auth.md)"},
        "token": {"type": "apiKey", "in": "header", "name": "X-Auth-Token",
                  "description": "an IAM token from POST /v3/auth/tokens"},
    })
}

/// Who must authenticate to call an operation.
pub fn security(service: &str, name: &str) -> Value {
    match (service, name) {
        // The password is in the body; this call is how a token is had.
        ("iam", "KeystoneCreateUserTokenByPassword") => json!([]),
        ("iam", _) => json!([{"token": []}]),
        // Version discovery is public (server/versions.rs).
        ("kms", "ShowVersions" | "ShowVersion") => json!([]),
        _ => json!([{"aksk": []}, {"token": []}]),
    }
}

fn json_body(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn clock_schema() -> Value {
    let count = json!({"type": "integer", "minimum": 0});
    json!({"type": "object", "required": ["now", "offset_seconds"], "properties": {
        "now": {"type": "string"}, "offset_seconds": {"type": "integer"},
        "ran": {"type": "object", "properties": {
            "kms_keys_deleted": count, "kms_keys_rotated": count, "kms_materials_expired": count,
            "csms_secrets_deleted": count, "csms_versions_expired": count}}}})
}

/// dewstack's own endpoints (`ops/`, `console/`), by TABLE name and route.
pub fn operation(name: &str, route: &str) -> Option<Value> {
    let status = json!({"type": "object", "required": ["status"],
                        "properties": {"status": {"type": "string"}, "storage": {"type": "string"},
                                       "reason": {"type": "string"}}});
    // /metrics refuses in the Dew envelope; the clock's caller is
    // authenticated like a KMS call, so it refuses like KMS.
    let refused = |statuses: &[u16], schema: Value| -> Value {
        let mut out = serde_json::Map::new();
        for s in statuses {
            out.insert(s.to_string(), json_body("refused", schema.clone()));
        }
        Value::Object(out)
    };
    let dew = json!({"$ref": "#/components/schemas/DewError"});
    let op = match (name, route) {
        ("Health", _) => json!({"security": [], "summary": "liveness",
            "responses": {"200": json_body("serving", status)}}),
        ("Ready", _) => json!({"security": [], "summary": "readiness: storage answers",
            "responses": {"200": json_body("ready", status.clone()),
                          "503": json_body("storage unreachable", status)}}),
        ("Metrics", _) => {
            let mut responses = refused(&[401, 403, 404], dew);
            responses["200"] = json!({"description": "Prometheus/OpenMetrics text",
                "content": {"application/openmetrics-text": {"schema": {"type": "string"}}}});
            json!({"security": [], "summary": "metrics (loopback, token or own listener: docs/operations.md)",
                   "responses": responses})
        }
        ("ShowClock", _) => {
            let mut responses = refused(&[401, 403, 408, 413], error_schema("kms"));
            responses["200"] = json_body("dewstack's time", clock_schema());
            json!({"summary": "the dev clock (--dev-clock)", "responses": responses})
        }
        ("AdvanceClock", _) => {
            let mut responses = refused(&[400, 401, 403, 408, 413, 500], error_schema("kms"));
            responses["200"] = json_body("moved; the due work ran", clock_schema());
            json!({"summary": "move the dev clock ahead (--dev-clock)",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["advance"], "additionalProperties": false,
                    "properties": {"advance": {"type": "string", "examples": ["8d"]}}}}}},
                "responses": responses})
        }
        ("Console", "/console") => json!({"security": [], "responses": {
            "308": {"description": "to /console/"}}}),
        ("Console", _) => json!({"security": [], "responses": {
            "200": {"description": "the console page",
                    "content": {"text/html": {"schema": {"type": "string"}}}}}}),
        ("ConsoleAsset", _) => json!({"security": [], "responses": {
            "200": {"description": "a console asset", "content": {"*/*": {"schema": {}}}},
            "404": {"description": "no such asset",
                    "content": {"text/plain": {"schema": {"type": "string"}}}}}}),
        ("OpenApi", _) => json!({"security": [], "summary": "this document",
            "responses": {"200": json_body("OpenAPI 3.1", json!({"type": "object"}))}}),
        _ => return None,
    };
    Some(op)
}
