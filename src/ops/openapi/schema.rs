//! JSON Schema (OpenAPI 3.1's dialect) for catalog types and models.
//! Components are named `<service>.<Model>`: KMS, CSMS and VPCEP each have
//! a `Tag`, and they are not the same.

use super::catalog::{Catalog, Model};
use serde_json::{json, Map, Value};

pub fn component_name(service: &str, model: &str) -> String {
    format!("{service}.{model}")
}

pub fn reference(service: &str, model: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{}", component_name(service, model))})
}

/// The schema of a catalog type: `str`, `int`, `bool`, `float`, `object`,
/// `date`/`datetime`, `list[T]`, `dict(str, T)` or a model name.
pub fn of_type(service: &str, ty: &str) -> Value {
    if let Some(inner) = ty.strip_prefix("list[").and_then(|t| t.strip_suffix(']')) {
        return json!({"type": "array", "items": of_type(service, inner)});
    }
    if let Some(inner) = ty
        .strip_prefix("dict(str, ")
        .and_then(|t| t.strip_suffix(')'))
    {
        return json!({"type": "object", "additionalProperties": of_type(service, inner)});
    }
    match ty {
        "str" => json!({"type": "string"}),
        "int" => json!({"type": "integer"}),
        "float" => json!({"type": "number"}),
        "bool" => json!({"type": "boolean"}),
        // The SDK types dates as text on the wire; it states no format.
        "date" | "datetime" => json!({"type": "string"}),
        // `object` is the SDK's "any JSON value".
        "object" => json!({}),
        model => reference(service, model),
    }
}

/// An object schema of a model's fields, leaving out `skip` (fields the
/// SDK reads from headers).
pub fn of_model(service: &str, model: &Model, skip: &[String]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in model.fields.iter().filter(|f| !skip.contains(&f.name)) {
        properties.insert(field.name.clone(), of_type(service, &field.ty));
        if field.required {
            required.push(Value::from(field.name.clone()));
        }
    }
    let mut schema = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    schema
}

/// Every model of a catalog, as components.
pub fn components(service: &str, catalog: &Catalog, out: &mut Map<String, Value>) {
    for (name, model) in &catalog.models {
        out.insert(component_name(service, name), of_model(service, model, &[]));
    }
}
