//! What tests, benchmarks and examples share: one way to build an `AppState`
//! around a fixed identity, a pinned root key and seeded randomness. The
//! server itself never calls into this module.

use crate::clock::Clock;
use crate::common::crypto::RootKey;
use crate::iam::directory::{Directory, RootIdentity};
use crate::rng::Rng;
use crate::server::state::AppState;
use crate::store::Db;
use std::sync::Arc;

pub const DOMAIN_ID: &str = "d0000000000000000000000000000000";
pub const PROJECT_ID: &str = "p0000000000000000000000000000000";
pub const ACCESS_KEY: &str = "AKAKAKAKAKAKAKAKAKAK";
pub const SECRET_KEY: &str = "test-secret-key-0123456789abcdefghijklmn";
pub const REGION: &str = "cn-north-4";

/// The root identity every test state is built around.
pub fn identity() -> RootIdentity {
    RootIdentity {
        domain_id: DOMAIN_ID.into(),
        domain_name: "dewstack".into(),
        project_id: PROJECT_ID.into(),
        user_name: "admin".into(),
        user_id: "u0000000000000000000000000000000".into(),
        password: "admin-password".into(),
        access_key: ACCESS_KEY.into(),
        secret_key: SECRET_KEY.into(),
    }
}

/// An `AppState` on `db` with the test identity, root key `[7; 32]` and an
/// RNG seeded with `seed`.
pub fn state_with_seed(db: Db, clock: Arc<dyn Clock>, seed: u64) -> AppState {
    let directory = match Directory::build(&identity(), REGION, &[]) {
        Ok(directory) => directory,
        Err(e) => unreachable_directory(e),
    };
    AppState::new(
        db,
        clock,
        Rng::seeded(seed),
        directory,
        &RootKey::from_bytes([7; 32]),
        REGION,
    )
}

pub fn state(db: Db, clock: Arc<dyn Clock>) -> AppState {
    state_with_seed(db, clock, 0)
}

// The fixed identity above is valid, so building its directory cannot fail.
#[allow(clippy::panic)]
fn unreachable_directory(e: anyhow::Error) -> Directory {
    panic!("the test identity is invalid: {e}")
}
