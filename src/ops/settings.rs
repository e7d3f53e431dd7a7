//! What dewstack's own endpoints need from the configuration; a leaf, so
//! that `AppState` can hold it.

use crate::clock::OffsetClock;
use std::sync::Arc;
use zeroize::Zeroizing;

/// What these endpoints need from the configuration, held by `AppState`.
pub struct Settings {
    /// `Authorization: Bearer` value every scrape must carry, when set.
    pub metrics_token: Option<Zeroizing<String>>,
    /// false when `/metrics` has a listener of its own (`[metrics] listen`).
    pub metrics_on_api: bool,
    /// dewstack's clock when `--dev-clock` is on (also `AppState::clock`).
    pub dev_clock: Option<Arc<OffsetClock>>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            metrics_token: None,
            metrics_on_api: true,
            dev_clock: None,
        }
    }
}
