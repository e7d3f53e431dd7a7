//! JSON Schema (OpenAPI 3.1's dialect) for catalog types and models.
//! Components are named `<service>.<Model>`: KMS, CSMS and VPCEP each have
//! a `Tag`, and they are not the same.
//!
//! Every model is described twice. Request side (`kms.Tag`): the fields the
//! SDK requires are required. Response side (`kms.out.Tag`): no field is
//! required and any may be null, because the SDK, the client of record,
//! reads a missing or null response field as unset, and its `required`
//! marks do not match what the cloud sends (Keystone's item `links` carry
//! only `self`; collection `links` have `"next": null`). Types still hold.

use super::catalog::{Catalog, Model};
use serde_json::{json, Map, Value};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Request,
    Response,
}

pub fn component_name(service: &str, model: &str, side: Side) -> String {
    match side {
        Side::Request => format!("{service}.{model}"),
        Side::Response => format!("{service}.out.{model}"),
    }
}

pub fn reference(service: &str, model: &str, side: Side) -> Value {
    let name = component_name(service, model, side);
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The schema of a catalog type: `str`, `int`, `bool`, `float`, `object`,
/// `date`/`datetime`, `list[T]`, `dict(str, T)` or a model name.
pub fn of_type(service: &str, ty: &str, side: Side) -> Value {
    let schema = if let Some(inner) = ty.strip_prefix("list[").and_then(|t| t.strip_suffix(']')) {
        json!({"type": "array", "items": of_type(service, inner, side)})
    } else if let Some(inner) = ty
        .strip_prefix("dict(str, ")
        .and_then(|t| t.strip_suffix(')'))
    {
        json!({"type": "object", "additionalProperties": of_type(service, inner, side)})
    } else {
        match ty {
            "str" => json!({"type": "string"}),
            "int" => json!({"type": "integer"}),
            "float" => json!({"type": "number"}),
            "bool" => json!({"type": "boolean"}),
            // The SDK types dates as text on the wire; it states no format.
            "date" | "datetime" => json!({"type": "string"}),
            // `object` is the SDK's "any JSON value".
            "object" => return json!({}),
            model => reference(service, model, side),
        }
    };
    match side {
        Side::Request => schema,
        Side::Response => json!({"anyOf": [schema, {"type": "null"}]}),
    }
}

/// An object schema of a model's fields, leaving out `skip` (fields the
/// SDK reads from headers).
pub fn of_model(service: &str, model: &Model, skip: &[String], side: Side) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in model.fields.iter().filter(|f| !skip.contains(&f.name)) {
        properties.insert(field.name.clone(), of_type(service, &field.ty, side));
        if field.required && side == Side::Request {
            required.push(Value::from(field.name.clone()));
        }
    }
    let mut schema = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    schema
}

/// Every model of a catalog, as components of both sides.
pub fn components(service: &str, catalog: &Catalog, out: &mut Map<String, Value>) {
    for (name, model) in &catalog.models {
        for side in [Side::Request, Side::Response] {
            out.insert(
                component_name(service, name, side),
                of_model(service, model, &[], side),
            );
        }
    }
}
