//! What every handler can reach; cheap to clone.
//!
//! axum clones the state for every extractor and middleware layer a request
//! passes (about ten per request), so `AppState` is one `Arc` around its
//! parts rather than a struct of a dozen `Arc`s: one reference count per
//! clone instead of fourteen, which a profile of the hot paths showed as
//! several percent of the server's CPU.

use crate::auth::token::TokenSealer;
use crate::clock::Clock;
use crate::common::crypto::{RootKey, Sealer};
use crate::iam::directory::Directory;
use crate::rng::Rng;
use crate::store::Db;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Parts>);

impl Deref for AppState {
    type Target = Parts;
    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// Setting a part (at start-up, or in a test) copies the parts first when
/// another clone shares them, so a clone never sees a change made through
/// another: the value semantics a plain struct would have.
impl DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut Parts {
        Arc::make_mut(&mut self.0)
    }
}

#[derive(Clone)]
pub struct Parts {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    /// Every random byte (key material, nonces, ids) comes from here.
    pub rng: Rng,
    pub directory: Arc<Directory>,
    pub tokens: Arc<TokenSealer>,
    /// Seals key material at rest; associated data is always the owning key's id.
    pub keyring: Arc<Sealer>,
    /// Access keys made or retired by rotation (`iam/keys.rs`).
    pub iam_keys: Arc<crate::iam::keys::KeyRing>,
    pub region: Arc<str>,
    /// Seals CSMS secret backups (DownloadSecretBlob); a purpose-bound subkey
    /// of the root key, so any dewstack with the same root key can restore them.
    pub backup: Arc<Sealer>,
    /// Listeners of VPC endpoints that forward to loopback backends.
    pub vpcep_proxy: Arc<crate::vpcep::proxy::Forwarders>,
    /// Request and forwarding limits (`[limits]` in the config file).
    pub limits: crate::config::Limits,
    /// Metrics access and the dev clock (docs/operations.md).
    pub ops: Arc<crate::ops::settings::Settings>,
    /// CSMS rotation functions (`[rotation_functions]` in the config file).
    pub rotation_functions: Arc<crate::config::RotationFunctions>,
    /// The audit trail (`[audit]`); off unless started.
    pub audit: Arc<crate::audit::trail::Trail>,
    /// The PKCS#11 tokens behind key stores (`[[hsm_clusters]]`).
    pub hsm: Arc<crate::kms::hsm::Tokens>,
}

impl AppState {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        rng: Rng,
        directory: Directory,
        root: &RootKey,
        region: &str,
    ) -> Self {
        Self(Arc::new(Parts {
            db,
            clock,
            directory: Arc::new(directory),
            tokens: Arc::new(TokenSealer::new(root, rng.clone())),
            keyring: Arc::new(Sealer::new(
                &root.derive("dewstack/key-material/v1"),
                rng.clone(),
            )),
            iam_keys: Arc::new(crate::iam::keys::KeyRing::new(root, rng.clone())),
            region: Arc::from(region),
            backup: Arc::new(Sealer::new(
                &root.derive("dewstack/csms-backup/v1"),
                rng.clone(),
            )),
            rng,
            vpcep_proxy: Arc::default(),
            limits: crate::config::Limits::default(),
            ops: Arc::default(),
            rotation_functions: Arc::default(),
            audit: Arc::default(),
            hsm: Arc::default(),
        }))
    }
}
