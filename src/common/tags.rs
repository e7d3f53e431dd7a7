//! Resource tags, one implementation for every service (KMS keys, CSMS
//! secrets, VPCEP endpoint services and endpoints).
//!
//! - `rules`: what a valid key, value and tag set is, and how a batch applies;
//! - `dialect`: what a service answers for each refusal, and its limits;
//! - `batch`: create/delete batches as the SDKs send them;
//! - `query`: the `resource_instances` filter/count query and its paging;
//! - `store`: the `TagStore` trait: where a service keeps its tags;
//! - `ops`: the operations themselves over a service's `TagStore`.
//!
//! A service supplies only a `TagStore` (where its tags live) and a
//! `TagDialect` (its error codes and limits); its handlers parse the path,
//! call one function of `ops` and map the result to its wire types.

pub mod batch;
pub mod dialect;
pub mod ops;
pub mod query;
pub mod rules;
pub mod store;
