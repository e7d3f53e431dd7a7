//! The arguments of the maintenance commands (src/admin/).

use super::redact::redact;
use clap::Args;
use std::path::PathBuf;

/// Which state a command works on: as `serve` would find it.
#[derive(Args, Clone, Default)]
pub struct StorageArgs {
    /// The config file `serve` uses (its data_dir and database_url count).
    #[arg(long, env = "DEWSTACK_CONFIG")]
    pub config: Option<PathBuf>,
    /// [default: ./dewstack-data]
    #[arg(long, env = "DEWSTACK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL; without it, the embedded database in the data dir.
    #[arg(long, env = "DEWSTACK_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Args, Debug)]
pub struct BackupArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    /// The backup file to write (mode 0600; replaced only when complete).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    /// The backup file to read.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// Replace whatever the target database holds.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    /// The PostgreSQL database to copy into (must hold no dewstack rows).
    #[arg(long)]
    pub to: String,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The config file to validate.
    #[arg(long, env = "DEWSTACK_CONFIG")]
    pub config: PathBuf,
}

// By hand: a database URL may carry a password.
impl std::fmt::Debug for StorageArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageArgs")
            .field("config", &self.config)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact(&self.database_url))
            .finish()
    }
}

impl std::fmt::Debug for MigrateArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrateArgs")
            .field("storage", &self.storage)
            .field("to", &redact(&Some(self.to.clone())))
            .finish()
    }
}
