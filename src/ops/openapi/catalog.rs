//! The SDK facts the document is built from: `api/*.json`, generated from
//! the official SDK by `api/refresh.py` and embedded in the binary, so the
//! document needs nothing at run time but this build.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
pub struct Catalog {
    pub operations: Vec<CatalogOp>,
    pub models: BTreeMap<String, Model>,
}

#[derive(Deserialize)]
pub struct CatalogOp {
    pub name: String,
    // Read by the tests: a TABLE row must name an operation of its method.
    #[cfg_attr(not(test), allow(dead_code))]
    pub method: String,
    pub path: String,
    pub path_params: Vec<Param>,
    pub query_params: Vec<Param>,
    pub header_params: Vec<Param>,
    pub request_body_model: Option<String>,
    pub request_body_required: bool,
    pub response_model: String,
    /// `object`, `empty`, or the type of the whole body (`list[X]`).
    pub response_body: String,
    /// Response-model fields read from headers, not the body.
    pub response_headers: Vec<String>,
}

#[derive(Deserialize)]
pub struct Param {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub required: bool,
}

#[derive(Deserialize)]
pub struct Model {
    pub fields: Vec<Field>,
}

#[derive(Deserialize)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub required: bool,
}

/// (service as in `operations::TABLE`, catalog text).
pub const SOURCES: &[(&str, &str)] = &[
    ("kms", include_str!("../../../api/kms.json")),
    ("csms", include_str!("../../../api/csms.json")),
    ("vpcep", include_str!("../../../api/vpcep.json")),
    ("iam", include_str!("../../../api/iam.json")),
    ("cts", include_str!("../../../api/cts.json")),
];

/// Every service's catalog, parsed.
pub fn load() -> Result<Vec<(&'static str, Catalog)>, serde_json::Error> {
    SOURCES
        .iter()
        .map(|&(service, text)| Ok((service, serde_json::from_str(text)?)))
        .collect()
}

impl Catalog {
    pub fn operation(&self, name: &str) -> Option<&CatalogOp> {
        self.operations.iter().find(|op| op.name == name)
    }
}
