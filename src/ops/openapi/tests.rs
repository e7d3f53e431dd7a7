use super::document;
use crate::ops::operations::TABLE;
use serde_json::Value;

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            out.push((path.clone(), method.to_ascii_uppercase(), op));
        }
    }
    out
}

#[test]
fn document_covers_every_route_and_nothing_else() {
    let doc = document();
    let ops = operations(&doc);
    let served: Vec<_> = TABLE.iter().chain(document::SHARED).collect();
    for &&(service, method, route, name) in &served {
        let found = ops.iter().any(|(_, m, op)| {
            m == method && op["x-dewstack-route"] == route && op["x-dewstack-operation"] == name
        });
        assert!(
            found,
            "{service} {method} {route} ({name}) is served but not in the document"
        );
    }
    for (path, method, op) in &ops {
        let listed = served.iter().any(|&&(_, m, route, name)| {
            m == method && op["x-dewstack-route"] == route && op["x-dewstack-operation"] == name
        });
        assert!(listed, "{method} {path} is in the document but not served");
    }
    assert_eq!(ops.len(), served.len());
}

#[test]
fn a_route_nobody_describes_is_an_error_not_a_gap() {
    let catalogs = super::catalog::load().expect("catalog");
    let doc = document::build(&catalogs).expect("built");
    assert_eq!(doc["openapi"], "3.1.0");
    // Without the KMS catalog, every KMS row is reported.
    let without_kms: Vec<_> = catalogs.into_iter().filter(|(s, _)| *s != "kms").collect();
    let missing = document::build(&without_kms).expect_err("KMS rows undescribed");
    assert!(
        missing.iter().any(|m| m.contains("CreateKey")),
        "{missing:?}"
    );
}

/// Every `$ref` names a component that exists.
#[test]
fn every_reference_resolves() {
    let doc = document();
    let schemas = doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .clone();
    let mut stack = vec![&doc];
    let mut seen = 0;
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let name = r.strip_prefix("#/components/schemas/").expect("local ref");
                    assert!(schemas.contains_key(name), "dangling {r}");
                    seen += 1;
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    assert!(seen > 100, "{seen}");
}

#[test]
fn operations_carry_wire_names_required_fields_statuses_and_envelopes() {
    let doc = document();
    let create = &doc["paths"]["/v1.0/{project_id}/kms/create-key"]["post"];
    assert_eq!(create["operationId"], "kms.CreateKey");
    let body = &doc["components"]["schemas"]["kms.CreateKeyRequestBody"];
    assert_eq!(body["required"], serde_json::json!(["key_alias"]));
    assert_eq!(body["properties"]["key_spec"]["type"], "string");
    // Response side: types, no required fields, null allowed.
    let info = &doc["components"]["schemas"]["kms.out.KeyDetails"];
    assert!(info.get("required").is_none());
    assert_eq!(info["properties"]["key_id"]["anyOf"][0]["type"], "string");
    assert!(create["responses"]["200"]["content"]["application/json"].is_object());
    assert_eq!(
        create["responses"]["404"]["content"]["application/json"]["schema"]["anyOf"][0]["$ref"],
        "#/components/schemas/DewError"
    );
    let delete = &doc["paths"]["/v1/{project_id}/vpc-endpoints/{vpc_endpoint_id}"]["delete"];
    assert!(delete["responses"]["204"].is_object());
    assert_eq!(
        delete["responses"]["400"]["content"]["application/json"]["schema"]["anyOf"][0]["$ref"],
        "#/components/schemas/VpcepError"
    );
    // CSMS's restore is documented at its own path, not the shared route.
    let restore = &doc["paths"]["/v1/{project_id}/secrets/restore"]["post"];
    assert_eq!(restore["x-dewstack-operation"], "UploadSecretBlob");
    assert_eq!(
        restore["x-dewstack-route"],
        "/v1/{project_id}/secrets/{secret_name}"
    );
    let token = &doc["paths"]["/v3/auth/tokens"]["post"];
    assert_eq!(token["security"], serde_json::json!([]));
    assert!(token["responses"]["201"]["headers"]["X-Subject-Token"].is_object());
    assert!(doc["paths"]["/console/{path}"]["get"].is_object());
}

#[test]
fn every_path_parameter_is_declared() {
    let doc = document();
    for (path, _, op) in operations(&doc) {
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            let declared = op["parameters"]
                .as_array()
                .expect("parameters")
                .iter()
                .any(|p| p["in"] == "path" && p["name"] == name && p["required"] == true);
            assert!(declared, "{path}: {name}");
        }
    }
}

/// A row naming the wrong catalog operation would document another call.
#[test]
fn each_row_names_a_catalog_operation_of_its_method() {
    let catalogs = super::catalog::load().expect("catalog");
    for &(service, method, route, name) in TABLE.iter().chain(document::SHARED) {
        let Some((_, catalog)) = catalogs.iter().find(|(s, _)| *s == service) else {
            continue;
        };
        let op = catalog.operation(name);
        let op =
            op.unwrap_or_else(|| panic!("{service} {name} ({route}) is not in api/{service}.json"));
        assert_eq!(op.method, method, "{service} {name}");
    }
}

/// Found by schemathesis: CTS refuses in its own flat envelope.
#[test]
fn each_service_refuses_in_its_own_envelope() {
    let doc = document();
    let traces = &doc["paths"]["/v3/{project_id}/traces"]["get"];
    assert_eq!(
        traces["responses"]["400"]["content"]["application/json"]["schema"]["anyOf"][0]["$ref"],
        "#/components/schemas/CtsError"
    );
    let token = &doc["paths"]["/v3/auth/tokens"]["post"];
    assert_eq!(
        token["responses"]["401"]["content"]["application/json"]["schema"]["anyOf"][0]["$ref"],
        "#/components/schemas/KeystoneError"
    );
}

/// The other direction of `document_covers_every_route_and_nothing_else`:
/// the document is built from `TABLE`, so a route served but missing from
/// it would be missing from the document too (and labelled `unlisted` in
/// the metrics). Every SDK operation is sent to the router; each one it
/// routes must carry a listed operation's label. Unauthenticated calls
/// suffice: the label is set before authentication refuses them.
#[tokio::test]
async fn every_routed_sdk_operation_is_in_the_table() {
    use crate::ops::operations::{Operation, UNLISTED};
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    let (state, _dir) = crate::testing::embedded_state().expect("state");
    let mut routed = 0;
    for (service, catalog) in super::catalog::load().expect("catalog") {
        for op in &catalog.operations {
            let path: String = op
                .path
                .split('/')
                .map(|seg| if seg.starts_with('{') { "x1" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            let req = Request::builder()
                .method(op.method.as_str())
                .uri(&path)
                .body(Body::from("{}"))
                .expect("request");
            let resp = crate::app(state.clone())
                .oneshot(req)
                .await
                .expect("answer");
            let label = resp.extensions().get::<Operation>().copied();
            let status = resp.status().as_u16();
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
                .await
                .expect("body");
            let unrouted = status == 405
                || (status == 404 && String::from_utf8_lossy(&bytes).contains("APIGW.0101"));
            if unrouted {
                continue;
            }
            routed += 1;
            assert!(
                label.is_some_and(|l| l != UNLISTED),
                "{service} {} {} ({}) is routed but not in operations::TABLE: {label:?}",
                op.method,
                op.path,
                op.name
            );
        }
    }
    // Most of the catalog is served; a router that answered nothing would
    // pass the loop above vacuously.
    assert!(routed > 150, "only {routed} SDK operations routed");
}
