//! dewstack: Huawei Cloud KMS, CSMS and VPCEP, self-hosted and wire-compatible.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod admin;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod common;
pub mod config;
pub mod console;
pub mod csms;
pub mod iam;
pub mod kms;
pub mod ops;
pub mod rng;
pub mod server;
pub mod store;
pub mod testing;
pub mod vpcep;

pub use server::router::app;
pub use server::state::AppState;
