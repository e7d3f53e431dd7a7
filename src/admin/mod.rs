//! The maintenance commands: `backup`, `restore`, `migrate` and `check`
//! (docs/operations.md). `backup.rs`: the backup file format, writing and
//! reading it; `migrate.rs`: embedded → PostgreSQL with verification;
//! `check.rs`: config validation with line numbers.

pub mod backup;
pub mod check;
pub mod migrate;

use crate::config::{Config, RootOverrides, ServeArgs, StorageArgs};

/// The configuration `serve` would run with, for a command's storage flags.
pub fn config_for(storage: &StorageArgs) -> anyhow::Result<Config> {
    let args = ServeArgs {
        config: storage.config.clone(),
        data_dir: storage.data_dir.clone(),
        database_url: storage.database_url.clone(),
        ..ServeArgs::default()
    };
    Config::load(args, RootOverrides::from_env())
}

/// Runs a maintenance command; a failure (or, for `check`, a problem)
/// exits non-zero.
pub async fn run(command: crate::config::Command) -> anyhow::Result<std::process::ExitCode> {
    use crate::config::Command;
    use crate::store::snapshot::Source;
    match command {
        Command::Serve(_) => anyhow::bail!("serve is not a maintenance command"),
        Command::Backup(args) => {
            let config = config_for(&args.storage)?;
            let source = Source::of(&config.data_dir, config.database_url.as_deref());
            let out = args.out.clone();
            let rows = tokio::task::spawn_blocking(move || backup::backup(&source, &out)).await??;
            println!("backup: {rows} rows written to {}", args.out.display());
            println!("not in the backup: the root key ({}/root.key or DEWSTACK_ROOT_KEY) and the root identity (identity.json); keep them apart", config.data_dir.display());
        }
        Command::Restore(args) => {
            let config = config_for(&args.storage)?;
            let target = Source::of(&config.data_dir, config.database_url.as_deref());
            let (dir, url) = (config.data_dir.clone(), config.database_url.clone());
            let (input, force) = (args.input.clone(), args.force);
            let rows = tokio::task::spawn_blocking(move || {
                crate::common::crypto::create_private_dir(&dir)?;
                let db = crate::store::Db::open(&dir, url.as_deref())?;
                backup::restore(&db, &target, &input, force)
            })
            .await??;
            println!("restore: {rows} rows loaded from {}", args.input.display());
        }
        Command::Migrate(args) => {
            let config = config_for(&args.storage)?;
            let report = migrate::migrate(&config, &args.to).await?;
            println!(
                "migrate: {} rows in {} tables copied and counted; {} keys decrypted on the copy",
                report.rows, report.tables, report.decrypted
            );
        }
        Command::Check(args) => {
            let problems = check::check_file(&args.config)?;
            for p in &problems {
                eprintln!("{}: {p}", args.config.display());
            }
            if !problems.is_empty() {
                eprintln!("{} problem(s)", problems.len());
                return Ok(std::process::ExitCode::FAILURE);
            }
            println!("{}: ok", args.config.display());
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
