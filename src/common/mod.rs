//! Pieces shared by every service: error envelopes, request bodies, tags,
//! paging and cryptography.

pub mod b64;
pub mod body;
pub mod crypto;
pub mod decimal;
pub mod envelope;
pub mod error;
pub mod json;
pub mod paging;
pub mod query;
pub mod tags;
