//! Operability settings: `[metrics]` in the config file, the dev clock
//! (`--dev-clock`, `DEWSTACK_DEV_CLOCK`, `dev_clock = true`) and the metrics
//! bearer token (`DEWSTACK_METRICS_TOKEN` or `[metrics] bearer_token`).

use super::redact::redact;
use serde::Deserialize;
use zeroize::Zeroizing;

/// `[metrics]`; every field optional.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct MetricsFileConfig {
    /// A separate address serving only `/metrics`, `/health` and `/ready`
    /// (e.g. "0.0.0.0:9464"); the API listener then has no `/metrics`.
    pub listen: Option<String>,
    /// When set, every scrape must send `Authorization: Bearer <token>`;
    /// otherwise only loopback peers (or anyone on `listen`) may scrape.
    pub bearer_token: Option<String>,
    /// Seconds between samples of the per-project resource gauges [default: 60].
    pub inventory_interval_secs: Option<u64>,
}

impl std::fmt::Debug for MetricsFileConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsFileConfig")
            .field("listen", &self.listen)
            .field("bearer_token", &redact(&self.bearer_token))
            .field("inventory_interval_secs", &self.inventory_interval_secs)
            .finish()
    }
}

/// The settings in force.
#[derive(Clone, Default)]
pub struct OpsConfig {
    /// default: none (`/metrics` on the API listener)
    pub metrics_listen: Option<String>,
    /// default: none (loopback scrapes only)
    pub metrics_token: Option<Zeroizing<String>>,
    /// default 60 s
    pub inventory_interval: std::time::Duration,
    /// default false: `/_dewstack/clock` refuses every call
    pub dev_clock: bool,
}

impl std::fmt::Debug for OpsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsConfig")
            .field("metrics_listen", &self.metrics_listen)
            .field("metrics_token", &redact(&self.metrics_token))
            .field("inventory_interval", &self.inventory_interval)
            .field("dev_clock", &self.dev_clock)
            .finish()
    }
}

/// Inventory samples at most this often, whatever the file says.
const MIN_INVENTORY_SECS: u64 = 1;

impl OpsConfig {
    /// `token_env`: `DEWSTACK_METRICS_TOKEN`, which wins over the file.
    pub fn resolve(
        file: &MetricsFileConfig,
        dev_clock: bool,
        token_env: Option<String>,
    ) -> anyhow::Result<Self> {
        let token = token_env.or_else(|| file.bearer_token.clone());
        if token.as_deref().is_some_and(|t| t.trim().is_empty()) {
            anyhow::bail!("the metrics bearer token is empty");
        }
        Ok(Self {
            metrics_listen: file.listen.clone(),
            metrics_token: token.map(Zeroizing::new),
            inventory_interval: std::time::Duration::from_secs(
                file.inventory_interval_secs
                    .unwrap_or(60)
                    .max(MIN_INVENTORY_SECS),
            ),
            dev_clock,
        })
    }
}
