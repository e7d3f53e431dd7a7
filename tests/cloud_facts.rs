//! Facts recorded from the real cloud (`tests/fixtures/cloud_facts.json`,
//! extracts of Cloud Custodian's `kms_query` flight): dewstack answers the
//! same requests with the same fields, JSON types and envelopes.

mod common;
use axum::body::Body;
use axum::http::Request;
use common::*;
use serde_json::{json, Value};
use tower::ServiceExt;

fn facts() -> Value {
    serde_json::from_str(include_str!("fixtures/cloud_facts.json")).unwrap()
}

/// A JSON value reduced to its field names and types.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => json!("null"),
    }
}

/// Every field the cloud sent is there, with the same JSON type; `path`
/// names the place in a failure message.
fn assert_covers(recorded: &Value, ours: &Value, path: &str) {
    match (recorded, ours) {
        (Value::Object(r), Value::Object(o)) => {
            for (k, v) in r {
                let Some(mine) = o.get(k) else {
                    panic!("{path}.{k} missing: {ours}");
                };
                assert_covers(v, mine, &format!("{path}.{k}"));
            }
        }
        (Value::Array(r), Value::Array(o)) => {
            if let (Some(r), Some(o)) = (r.first(), o.first()) {
                assert_covers(r, o, &format!("{path}[0]"));
            }
        }
        (r, o) => assert_eq!(shape(r), shape(o), "{path}: {o}"),
    }
}

fn key_names(v: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    names.sort_unstable();
    names
}

#[tokio::test]
async fn list_keys_key_details_match_the_cloud() {
    let facts = &facts()["list_keys"];
    let server = TestServer::start().await;
    let (status, _) = server
        .kms("create-key", json!({"key_alias": "fact-key"}))
        .await;
    assert_eq!(status, 200);
    let (status, body) = server.kms("list-keys", facts["request"].clone()).await;
    assert_eq!(status, 200, "{body}");
    let recorded = &facts["response"];
    assert_covers(recorded, &body, "list-keys");
    assert_eq!(key_names(&body), key_names(recorded));
    let mine = body["key_details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key_alias"] == "fact-key")
        .unwrap();
    let theirs = &recorded["key_details"][0];
    // Exactly the cloud's fields, no more.
    assert_eq!(key_names(mine), key_names(theirs));
    for field in [
        "pending_days",
        "keystore_type",
        "multi_region_key_type",
        "keystore_id",
        "key_type",
    ] {
        assert_eq!(mine[field], theirs[field], "{field}");
    }
}

#[tokio::test]
async fn resource_instances_rows_carry_key_details_and_tags() {
    let facts = &facts()["resource_instances"];
    let server = TestServer::start().await;
    let (status, _) = server
        .kms("create-key", json!({"key_alias": "fact-key"}))
        .await;
    assert_eq!(status, 200);
    // The request as Custodian sent it, limit and offset as strings.
    let (status, body) = server
        .kms("resource_instances/action", facts["request"].clone())
        .await;
    assert_eq!(status, 200, "{body}");
    assert_covers(&facts["response"], &body, "resource_instances");
    let row = &body["resources"][0];
    assert!(row.get("resource_detail").is_none(), "{row}");
    assert_eq!(
        key_names(&row["key_details"]),
        key_names(&facts["response"]["resources"][0]["key_details"])
    );
    assert_eq!(row["key_details"]["key_alias"], "fact-key");
    assert_eq!(row["resource_id"], row["key_details"]["key_id"]);
}

#[tokio::test]
async fn authentication_failures_are_the_gateways_flat_body() {
    let facts = &facts()["auth_failure"];
    let server = TestServer::start().await;
    let paths = [
        format!("/v1.0/{PROJECT}/kms/list-keys"),
        format!("/v1/{PROJECT}/secrets"),
        format!("/v1/{PROJECT}/vpc-endpoint-services"),
    ];
    for path in paths {
        let req = signed(&server.clock, "POST", &path, "{}", AK, "wrong-secret");
        let resp = dewstack::app(server.state.clone())
            .oneshot(req)
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), facts["status"], "{path}");
        let header = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(shape(&body), shape(&facts["response"]), "{path}: {body}");
        assert_eq!(body["error_code"], facts["response"]["error_code"]);
        assert!(body["error_msg"]
            .as_str()
            .unwrap()
            .starts_with("Incorrect IAM authentication information: "));
        assert_eq!(body["request_id"], header.as_str(), "{path}");
    }
    // No credentials at all: the same body.
    let req = Request::post(format!("/v1.0/{PROJECT}/kms/list-keys"))
        .body(Body::from("{}"))
        .unwrap();
    let (status, body) = server.send(req).await;
    assert_eq!(status, 401);
    assert_eq!(shape(&body), shape(&facts["response"]), "{body}");
}

#[tokio::test]
async fn the_simple_uuid_form_of_sequence_is_accepted() {
    let server = TestServer::start().await;
    // What Cloud Custodian sends: `uuid4().hex`.
    let seq = "919c82d480464722909435c3c6524cff";
    let (status, body) = server
        .kms(
            "create-key",
            json!({"key_alias": "seq-key", "sequence": seq}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .kms(
            "create-key",
            json!({"key_alias": "seq-key2", "sequence": "x"}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "KMS.0206"));
}
