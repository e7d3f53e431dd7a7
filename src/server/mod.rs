//! Startup: open storage, build the state, print how to connect, serve until
//! SIGTERM/SIGINT, finishing requests already in flight.

pub mod fd_limit;
pub mod listen;
pub mod request_id;
pub mod router;
pub mod state;
pub mod versions;

use crate::clock::SystemClock;
use crate::common::crypto::RootKey;
use crate::config::Config;
use crate::iam::directory::{Directory, RootIdentity};
use crate::rng::Rng;
use crate::store::Db;
use state::AppState;
use std::sync::Arc;

pub async fn serve(config: Config) -> anyhow::Result<()> {
    crate::common::crypto::create_private_dir(&config.data_dir)?;
    let rng = Rng::system();
    let root_key =
        RootKey::load_or_create(&config.data_dir, config.root.root_key.as_deref(), &rng)?;
    let identity = RootIdentity::load_or_create(&config, &rng)?;
    let directory =
        Directory::build(&identity, &config.region, &config.domains)?.with_lockout(config.lockout);
    let (dir, url) = (config.data_dir.clone(), config.database_url.clone());
    let db = tokio::task::spawn_blocking(move || Db::open(&dir, url.as_deref())).await??;
    let mut state = AppState::new(
        db,
        Arc::new(SystemClock),
        rng,
        directory,
        &root_key,
        &config.region,
    );
    state.limits = config.limits;
    state.rotation_functions = std::sync::Arc::new(config.rotation_functions.clone());
    crate::kms::bootstrap(&state).await?;
    if let Err(e) = crate::vpcep::bootstrap(&state).await {
        tracing::warn!(error = %e, "cannot reopen VPC endpoint forwarding");
    }

    match fd_limit::raise_nofile() {
        Some(n) => tracing::info!(open_files = n, "file descriptor limit"),
        None => tracing::warn!("cannot read the file descriptor limit"),
    }
    let listener = tokio::net::TcpListener::bind(&config.listen).await?;
    let addr = listener.local_addr()?;
    print_banner(
        &format!("http://{addr}"),
        &config,
        &identity,
        state.db.engine_name(),
    );

    let shutdown = tokio_util_shutdown();
    let jobs = crate::kms::spawn_background(state.clone(), config.sweep_interval, shutdown.clone());
    let csms_jobs = crate::csms::spawn_background(
        state.clone(),
        config.sweep_interval,
        config.notification_urls.clone(),
        shutdown.clone(),
    );
    let app = router::app(state);
    listen::run(listener, app, config.limits, shutdown.clone()).await;
    let _ = jobs.await;
    let _ = csms_jobs.await;
    tracing::info!("stopped");
    Ok(())
}

/// A watch channel flipped once on SIGTERM or SIGINT.
fn tokio_util_shutdown() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    let _ = tx.send(true);
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
        let _ = tx.send(true);
    });
    rx
}

fn print_banner(endpoint: &str, config: &Config, id: &RootIdentity, engine: &str) {
    let region = &config.region;
    let env_region = region.to_ascii_uppercase().replace('-', "_");
    // Printed to stdout on purpose: these are the operator's own credentials,
    // shown once so they can be pasted; they never go to the log.
    println!(
        r#"dewstack is ready ({engine} storage {storage})

  endpoint    {endpoint}
  region      {region}
  domain id   {domain}
  project id  {project}
  access key  {ak}
  secret key  {sk}
  user        {user} / {password}

Python SDK:
  from huaweicloudsdkcore.auth.credentials import BasicCredentials
  from huaweicloudsdkkms.v2 import KmsClient, ListKeysRequest, ListKeysRequestBody
  client = KmsClient.new_builder() \
      .with_credentials(BasicCredentials("{ak}", "{sk}", "{project}")) \
      .with_endpoints(["{endpoint}"]).build()
  print(client.list_keys(ListKeysRequest(body=ListKeysRequestBody())))

Point an unchanged application at dewstack:
export DEWSTACK_ENDPOINT={endpoint}
export HUAWEICLOUD_SDK_REGION_KMS_{env_region}={endpoint}
export HUAWEICLOUD_SDK_REGION_CSMS_{env_region}={endpoint}
export HUAWEICLOUD_SDK_REGION_VPCEP_{env_region}={endpoint}
export HUAWEICLOUD_SDK_IAM_ENDPOINT={endpoint}
export HUAWEICLOUD_SDK_AK={ak}
export HUAWEICLOUD_SDK_SK={sk}
export HUAWEICLOUD_SDK_PROJECT_ID={project}
"#,
        storage = match &config.database_url {
            // Only host/port/db: the URL's user and password stay off the screen.
            Some(url) => format!(
                "at {}, local files in {}",
                url.rsplit_once('@').map_or(url.as_str(), |(_, host)| host),
                config.data_dir.display()
            ),
            None => format!("in {}", config.data_dir.display()),
        },
        domain = id.domain_id,
        project = id.project_id,
        ak = id.access_key,
        sk = id.secret_key,
        user = id.user_name,
        password = id.password,
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
}
