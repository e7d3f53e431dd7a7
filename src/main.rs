use clap::Parser;
use dewstack::config::{Cli, Command, Config, RootOverrides};

/// jemalloc, not the system's malloc: see the note on the dependency in
/// Cargo.toml (measured: EncryptData 1.15-1.24x, RSS unchanged).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    let _log_lines = dewstack::ops::logs::init()?;
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let config = Config::load(args, RootOverrides::from_env())?;
            dewstack::server::serve(config).await?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        command => dewstack::admin::run(command).await,
    }
}
