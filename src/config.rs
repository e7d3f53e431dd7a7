//! Configuration: command-line flags and `DEWSTACK_*` variables win over the
//! optional TOML file, which wins over the defaults written next to each field.

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub mod audit;
pub mod ops;
mod redact;

#[derive(Parser, Debug)]
#[command(
    name = "dewstack",
    version,
    about = "Self-hosted, wire-compatible Huawei Cloud KMS, CSMS and VPCEP",
    long_about = "dewstack serves Huawei Cloud's KMS, CSMS and VPCEP APIs (and the IAM token \
and project calls they need) so that the official Huawei Cloud SDKs work against it by only \
changing the endpoint.\n\nRoot identity comes from DEWSTACK_ACCESS_KEY, DEWSTACK_SECRET_KEY, \
DEWSTACK_DOMAIN_ID, DEWSTACK_PROJECT_ID, DEWSTACK_USER and DEWSTACK_PASSWORD; whatever is not \
given is generated on first start and kept in the data directory. DEWSTACK_ROOT_KEY (base64, \
32 bytes) supplies the root key that encrypts all key material at rest; otherwise one is \
generated into the data directory."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Write a consistent snapshot of the whole state to a file (while serving).
    Backup(BackupArgs),
    /// Load a backup into an empty data dir or database.
    Restore(RestoreArgs),
    /// Copy the embedded database into an empty PostgreSQL database.
    Migrate(MigrateArgs),
    /// Validate a config file; print every problem with its line.
    Check(CheckArgs),
}

#[derive(Args, Default)]
pub struct ServeArgs {
    /// TOML configuration file (listen address, data dir, extra domains/projects/users/keys).
    #[arg(long, env = "DEWSTACK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8100]; port 0 picks a free port.
    #[arg(long, env = "DEWSTACK_LISTEN")]
    pub listen: Option<String>,
    /// Directory for the database, the root key and the generated identity [default: ./dewstack-data].
    #[arg(long, env = "DEWSTACK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://user:pass@host/db); without it the embedded database is used.
    #[arg(long, env = "DEWSTACK_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Region name served [default: cn-north-4].
    #[arg(long, env = "DEWSTACK_REGION")]
    pub region: Option<String>,
    /// Time travel for tests: POST /_dewstack/clock may move dewstack's clock ahead (docs/operations.md).
    #[arg(long, env = "DEWSTACK_DEV_CLOCK", value_parser = clap::builder::BoolishValueParser::new())]
    pub dev_clock: bool,
    #[command(flatten)]
    pub tls: tls::TlsArgs,
}

use redact::redact;
pub use redact::REDACTED;

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("config", &self.config)
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact(&self.database_url))
            .field("region", &self.region)
            .field("dev_clock", &self.dev_clock)
            .field("tls", &self.tls)
            .finish()
    }
}

/// The file format; every field is optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub region: Option<String>,
    /// Further regions served besides `region` (see [`regions`]).
    #[serde(default)]
    pub regions: Vec<String>,
    /// Seconds between sweeps for due background work (scheduled deletions).
    pub sweep_interval_secs: Option<u64>,
    /// URL prefixes CSMS may POST event notifications to, e.g.
    /// `["https://hooks.example.com/csms/"]`. An event whose notification
    /// `target_id` is an http(s) URL starting with one of these gets each
    /// notification POSTed (JSON, up to 5 attempts with backoff); other targets
    /// are only recorded. Empty (the default): nothing is ever sent.
    #[serde(default)]
    pub notification_urls: Vec<String>,
    /// `[rotation_functions]`: see [`RotationFunctions`].
    #[serde(default)]
    pub rotation_functions: RotationFunctions,
    /// Account lockout after failed password logins (`POST /v3/auth/tokens`).
    #[serde(default)]
    pub login_lockout: LockoutFileConfig,
    #[serde(default)]
    pub domains: Vec<DomainConfig>,
    /// Connection, request and forwarding limits (`[limits]`); see [`Limits`].
    #[serde(default)]
    pub limits: Limits,
    /// `[metrics]`: see [`ops::MetricsFileConfig`].
    #[serde(default)]
    pub metrics: ops::MetricsFileConfig,
    /// `[audit]`: see [`audit::AuditFileConfig`].
    #[serde(default)]
    pub audit: audit::AuditFileConfig,
    /// Time travel for tests (`--dev-clock`); default false.
    pub dev_clock: Option<bool>,
    #[serde(default)]
    pub tls: tls::TlsFileConfig,
    /// `[[hsm_clusters]]`: PKCS#11 tokens behind key stores; see [`hsm::HsmClusterFile`].
    #[serde(default)]
    pub hsm_clusters: Vec<hsm::HsmClusterFile>,
}

impl std::fmt::Debug for FileConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileConfig")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact(&self.database_url))
            .field("region", &self.region)
            .field("regions", &self.regions)
            .field("sweep_interval_secs", &self.sweep_interval_secs)
            .field("notification_urls", &self.notification_urls)
            .field("rotation_functions", &self.rotation_functions)
            .field("login_lockout", &self.login_lockout)
            .field("domains", &self.domains)
            .field("metrics", &self.metrics)
            .field("audit", &self.audit)
            .field("dev_clock", &self.dev_clock)
            .field("tls", &self.tls)
            .field("hsm_clusters", &self.hsm_clusters)
            .finish()
    }
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct DomainConfig {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub projects: Vec<ProjectConfig>,
    #[serde(default)]
    pub users: Vec<UserConfig>,
    #[serde(default)]
    pub access_keys: Vec<AccessKeyConfig>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    pub id: String,
    /// Project name: the region it lives in, e.g. "cn-north-4", as in the cloud.
    pub name: String,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    pub password: String,
    pub id: Option<String>,
}

impl std::fmt::Debug for UserConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserConfig")
            .field("name", &self.name)
            .field("password", &REDACTED)
            .field("id", &self.id)
            .finish()
    }
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct AccessKeyConfig {
    pub access_key: String,
    pub secret_key: String,
    pub user: String,
}

impl std::fmt::Debug for AccessKeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeyConfig")
            .field("access_key", &self.access_key)
            .field("secret_key", &REDACTED)
            .field("user", &self.user)
            .finish()
    }
}

/// Root identity overrides read from the environment (secrets are never flags,
/// so they do not show up in `ps`).
#[derive(Default, Clone)]
pub struct RootOverrides {
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub domain_id: Option<String>,
    pub project_id: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub root_key: Option<String>,
}

impl std::fmt::Debug for RootOverrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootOverrides")
            .field("access_key", &self.access_key)
            .field("secret_key", &redact(&self.secret_key))
            .field("domain_id", &self.domain_id)
            .field("project_id", &self.project_id)
            .field("user", &self.user)
            .field("password", &redact(&self.password))
            .field("root_key", &redact(&self.root_key))
            .finish()
    }
}

impl RootOverrides {
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            access_key: var("DEWSTACK_ACCESS_KEY"),
            secret_key: var("DEWSTACK_SECRET_KEY"),
            domain_id: var("DEWSTACK_DOMAIN_ID"),
            project_id: var("DEWSTACK_PROJECT_ID"),
            user: var("DEWSTACK_USER"),
            password: var("DEWSTACK_PASSWORD"),
            root_key: var("DEWSTACK_ROOT_KEY"),
        }
    }
}

#[derive(Clone)]
pub struct Config {
    /// default "127.0.0.1:8100"
    pub listen: String,
    /// default "./dewstack-data"
    pub data_dir: PathBuf,
    /// default: none, i.e. the embedded SQLite database in `data_dir`
    pub database_url: Option<String>,
    /// default "cn-north-4"
    pub region: String,
    /// default: `[region]`; `region` first, then the file's `regions`
    pub regions: Vec<String>,
    /// default 30 s
    pub sweep_interval: std::time::Duration,
    /// default: none (CSMS notifications are recorded, never sent)
    pub notification_urls: Vec<String>,
    /// default: none (no secret can rotate through a function)
    pub rotation_functions: RotationFunctions,
    /// default: IAM's (5 failures in 15 min lock for 15 min)
    pub lockout: LockoutPolicy,
    pub domains: Vec<DomainConfig>,
    /// defaults in [`Limits::default`]
    pub limits: Limits,
    /// metrics, dev clock: defaults in [`ops::OpsConfig`]
    pub ops: ops::OpsConfig,
    /// default: a file in the data dir, best effort; see [`audit::AuditConfig`]
    pub audit: audit::AuditConfig,
    pub root: RootOverrides,
    /// default: off; see [`tls::TlsSettings`]
    pub tls: tls::TlsSettings,
    /// default: none (only the default key store); see [`hsm::HsmCluster`]
    pub hsm_clusters: Vec<hsm::HsmCluster>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact(&self.database_url))
            .field("region", &self.region)
            .field("regions", &self.regions)
            .field("sweep_interval", &self.sweep_interval)
            .field("notification_urls", &self.notification_urls)
            .field("rotation_functions", &self.rotation_functions)
            .field("lockout", &self.lockout)
            .field("domains", &self.domains)
            .field("ops", &self.ops)
            .field("audit", &self.audit)
            .field("root", &self.root)
            .field("tls", &self.tls)
            .field("hsm_clusters", &self.hsm_clusters)
            .finish()
    }
}

impl Config {
    pub fn load(args: ServeArgs, root: RootOverrides) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let region = args
            .region
            .or(file.region)
            .unwrap_or_else(|| "cn-north-4".into());
        let data_dir = args
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./dewstack-data"));
        Ok(Self {
            audit: audit::AuditConfig::resolve(&file.audit, &data_dir)?,
            tls: tls::TlsSettings::resolve(args.tls, file.tls)?,
            hsm_clusters: hsm::resolve(&file.hsm_clusters, |v| std::env::var(v).ok())?,
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8100".into()),
            data_dir,
            database_url: args.database_url.or(file.database_url),
            regions: regions::resolve(region.clone(), &file.regions)?,
            region,
            sweep_interval: std::time::Duration::from_secs(file.sweep_interval_secs.unwrap_or(30)),
            notification_urls: file.notification_urls,
            rotation_functions: file.rotation_functions.checked()?,
            lockout: LockoutPolicy::from_file(&file.login_lockout)?,
            domains: file.domains,
            limits: file.limits,
            ops: ops::OpsConfig::resolve(
                &file.metrics,
                args.dev_clock || file.dev_clock.unwrap_or(false),
                std::env::var("DEWSTACK_METRICS_TOKEN")
                    .ok()
                    .filter(|v| !v.is_empty()),
            )?,
            root,
        })
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("bad config file {}: {e}", path.display()))
}

mod commands;
pub mod hsm;
mod limits;
mod lockout;
pub mod regions;
mod rotation;
pub mod tls;
pub use commands::{BackupArgs, CheckArgs, MigrateArgs, RestoreArgs, StorageArgs};
pub use limits::Limits;
pub use lockout::{LockoutFileConfig, LockoutPolicy};
pub use rotation::RotationFunctions;

#[cfg(test)]
mod tests;
