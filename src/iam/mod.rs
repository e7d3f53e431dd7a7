//! IAM slice: the Keystone v3 calls that KMS/CSMS/VPCEP clients need.
//!
//! - `POST /v3/auth/tokens` (password method, project scope) → token in `X-Subject-Token`
//! - `GET  /v3/auth/tokens` → validate the `X-Subject-Token` given
//! - `GET  /v3/projects?name=` and `GET /v3/auth/projects` → the caller's projects
//! - `GET  /v3/auth/domains` → the caller's domain

mod accounts;
pub mod directory;
pub mod keys;
pub mod lockout;
pub mod passwords;
mod routes;
mod wire;

pub use accounts::{
    change_password, forget_access_keys, install_access_key, is_locked, key_owner, new_access_key,
    password_changed_ms, password_matches, PasswordChangeError,
};
pub use directory::{Domain, User};
pub use keys::{NewKey, RotationRefused};

use crate::auth;
use crate::server::state::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn routes(state: AppState) -> Router<AppState> {
    let authenticated = Router::new()
        .route("/v3/projects", get(routes::list_projects))
        .route("/v3/auth/projects", get(routes::list_auth_projects))
        .route("/v3/auth/domains", get(routes::list_auth_domains))
        .route("/v3/auth/tokens", get(routes::validate_token))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::require::<{ auth::IAM }>,
        ));
    Router::new()
        .route("/v3/auth/tokens", post(routes::create_token))
        .merge(authenticated)
}
