//! The document: one operation per row of `operations::TABLE` (plus the
//! operations that share a row's route), described from the SDK catalog
//! of its service or, for dewstack's own rows, from `own.rs`. A row with
//! neither is an error, so a route cannot be served undocumented.

use super::catalog::{Catalog, CatalogOp};
use super::own;
use super::schema::{self, Side};
use crate::ops::operations::TABLE;
use serde_json::{json, Map, Value};

/// Operations served on a route whose TABLE row names another
/// (`operations.rs`: one handler, several operations), as
/// (service, method, route, operation).
pub const SHARED: &[(&str, &str, &str, &str)] = &[(
    "csms",
    "POST",
    "/v1/{project_id}/secrets/{secret_name}",
    "BatchImportSecrets",
)];

/// The document, or the TABLE rows no source describes.
pub fn build(catalogs: &[(&str, Catalog)]) -> Result<Value, Vec<String>> {
    let mut paths = Map::new();
    let mut missing = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for &(service, method, route, name) in TABLE.iter().chain(SHARED) {
        let catalog = catalogs.iter().find(|(s, _)| *s == service).map(|(_, c)| c);
        let described = match catalog.and_then(|c| c.operation(name).map(|op| (c, op))) {
            Some((catalog, op)) => Some(from_catalog(service, catalog, op, route)),
            None => own::operation(name, route).map(|op| (template(route), op)),
        };
        let Some((path, mut op)) = described else {
            missing.push(format!("{service} {method} {route} {name}"));
            continue;
        };
        let mut id = format!("{service}.{name}");
        while !ids.insert(id.clone()) {
            id.push('_');
        }
        op["operationId"] = id.into();
        op["tags"] = json!([service]);
        op["x-dewstack-operation"] = name.into();
        op["x-dewstack-route"] = route.into();
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        op["parameters"] = Value::Array(with_path_params(&path, params));
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[method.to_ascii_lowercase()] = op;
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut schemas = Map::new();
    for (service, catalog) in catalogs {
        schema::components(service, catalog, &mut schemas);
    }
    if let Value::Object(envelopes) = own::envelope_components() {
        schemas.extend(envelopes);
    }
    Ok(json!({
        "openapi": "3.1.0",
        "info": {"title": "dewstack", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Huawei Cloud KMS, CSMS, VPCEP and the IAM token slice, as dewstack serves them (docs/openapi.md)."},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": own::security_schemes()},
    }))
}

/// An axum route as an OpenAPI path (`{*rest}` captures become `{rest}`).
fn template(route: &str) -> String {
    route.replace("{*", "{")
}

/// The catalog's path where it is an instance of the served route (CSMS's
/// `/secrets/restore` on `/secrets/{secret_name}`), else the route.
fn document_path(route: &str, catalog_path: &str) -> String {
    let served: Vec<&str> = route.split('/').collect();
    let cataloged: Vec<&str> = catalog_path.split('/').collect();
    let placeholder = |s: &str| s.starts_with('{') && s.ends_with('}');
    let fits = served.len() == cataloged.len()
        && served
            .iter()
            .zip(&cataloged)
            .all(|(s, c)| s == c || placeholder(s));
    if fits {
        catalog_path.to_string()
    } else {
        template(route)
    }
}

/// Path parameters for every `{name}` of `path`, keeping the types given
/// in `params` and adding plain strings for the rest.
fn with_path_params(path: &str, mut params: Vec<Value>) -> Vec<Value> {
    for segment in path.split('/') {
        let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            continue;
        };
        let known = params
            .iter()
            .any(|p| p["in"] == "path" && p["name"] == name);
        if !known {
            params.push(json!({"name": name, "in": "path", "required": true,
                               "schema": {"type": "string"}}));
        }
    }
    params
}

fn from_catalog(service: &str, catalog: &Catalog, op: &CatalogOp, route: &str) -> (String, Value) {
    let path = document_path(route, &op.path);
    let mut parameters = Vec::new();
    let placed = [
        ("path", &op.path_params),
        ("query", &op.query_params),
        ("header", &op.header_params),
    ];
    for (place, params) in placed {
        for p in params.iter() {
            if place == "path" && !path.contains(&format!("{{{}}}", p.name)) {
                continue;
            }
            parameters.push(json!({"name": p.name, "in": place,
                "required": place == "path" || p.required,
                "schema": schema::of_type(service, &p.ty, Side::Request)}));
        }
    }
    let mut out = json!({
        "parameters": parameters,
        "security": own::security(service, &op.name),
        "responses": responses(service, catalog, op),
    });
    if let Some(body) = &op.request_body_model {
        let required = op.request_body_required
            || catalog
                .models
                .get(body)
                .is_some_and(|m| m.fields.iter().any(|f| f.required));
        out["requestBody"] = json!({"required": required, "content": {
            "application/json": {"schema": schema::reference(service, body, Side::Request)}}});
    }
    (path, out)
}

fn responses(service: &str, catalog: &Catalog, op: &CatalogOp) -> Value {
    let mut success = json!({"description": "success"});
    let model = catalog.models.get(&op.response_model);
    let body = match op.response_body.as_str() {
        "empty" => None,
        "object" => {
            model.map(|m| schema::of_model(service, m, &op.response_headers, Side::Response))
        }
        whole => Some(schema::of_type(service, whole, Side::Response)),
    };
    if let Some(body) = body {
        success["content"] = json!({"application/json": {"schema": body}});
    }
    if !op.response_headers.is_empty() {
        let headers: Map<String, Value> = op
            .response_headers
            .iter()
            .map(|h| {
                (
                    h.clone(),
                    json!({"required": true, "schema": {"type": "string"}}),
                )
            })
            .collect();
        success["headers"] = Value::Object(headers);
    }
    let mut out = Map::new();
    out.insert(own::success_status(service, &op.name).to_string(), success);
    for status in own::ERROR_STATUSES {
        out.insert(
            status.to_string(),
            json!({"description": "refused",
            "content": {"application/json": {"schema": own::error_schema(service)}}}),
        );
    }
    Value::Object(out)
}
