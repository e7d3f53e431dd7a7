//! VPCEP handlers, one file per resource: read typed input, call one domain
//! or service function, map to the wire type. The route table is in
//! `vpcep/mod.rs` (tag and quota handlers live in `vpcep/tags.rs`).

pub mod catalog;
pub mod connections;
mod endpoint_create;
pub mod endpoints;
pub mod permissions;
pub mod services;
