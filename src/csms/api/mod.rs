//! CSMS handlers, one file per resource: read typed input, call one domain or
//! service function, map to the wire type. The route table is in `csms/mod.rs`
//! (tags handlers live in `csms/tags.rs`, shared with the tag module).

pub mod backup;
pub mod checker;
pub mod events;
pub mod grants;
pub mod ops;
mod secret_create;
pub mod secret_import;
pub mod secrets;
mod strength;
pub mod templates;
pub mod users;
pub mod versions;
