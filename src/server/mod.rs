//! Startup: open storage, build the state, print how to connect, serve until
//! SIGTERM/SIGINT, finishing requests already in flight.

pub mod fd_limit;
pub mod gate;
mod header_clock;
pub mod listen;
pub mod request_id;
pub mod router;
pub mod state;
pub mod tls;
pub mod versions;

use crate::clock::{Clock, OffsetClock, SystemClock};
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
    let directory = directory.with_regions(&config.regions)?;
    let (dir, url) = (config.data_dir.clone(), config.database_url.clone());
    let db = tokio::task::spawn_blocking(move || Db::open(&dir, url.as_deref())).await??;
    let (clock, settings) = ops_settings(&config);
    let mut state = AppState::new(db, clock, rng, directory, &root_key, &config.region);
    state.limits = config.limits;
    state.ops = Arc::new(settings);
    state.audit = Arc::new(crate::audit::trail::Trail::start(&config.audit)?);
    let open_files = fd_limit::raise_nofile();
    match open_files {
        Some(n) => tracing::info!(open_files = n, "file descriptor limit"),
        None => tracing::warn!("cannot read the file descriptor limit"),
    }
    let (listeners, endpoints) = tls::bind(&config, state.clock.now()).await?;
    let addr = listeners
        .first()
        .map(|l| l.tcp.local_addr())
        .transpose()?
        .ok_or_else(|| anyhow::anyhow!("no listener"))?;
    // Forwarding is bounded by the descriptors now available and never
    // reaches the API's own address, so both are known before it reopens.
    state.vpcep_proxy = Arc::new(crate::vpcep::proxy::for_server(
        &config.limits,
        open_files,
        addr,
    ));
    state.rotation_functions = std::sync::Arc::new(config.rotation_functions.clone());
    let clusters = config.hsm_clusters.clone();
    state.hsm = Arc::new(
        tokio::task::spawn_blocking(move || crate::kms::HsmTokens::open(&clusters)).await??,
    );
    crate::kms::bootstrap(&state).await?;
    crate::csms::bootstrap(&state).await?;
    if let Err(e) = crate::vpcep::bootstrap(&state).await {
        tracing::warn!(error = %e, "cannot reopen VPC endpoint forwarding");
    }
    let metrics_listener = match &config.ops.metrics_listen {
        Some(at) => Some(tokio::net::TcpListener::bind(at).await?),
        None => None,
    };
    let metrics_url = match &metrics_listener {
        Some(l) => format!("http://{}/metrics", l.local_addr()?),
        None => format!("{}/metrics", endpoints.main),
    };
    let regions = other_regions(&state.directory, &identity.domain_id);
    print_banner(
        &endpoints,
        &config,
        &identity,
        state.db.engine_name(),
        &regions,
    );
    println!("  metrics     {metrics_url}");
    if config.ops.dev_clock {
        println!("  dev clock   ON: POST /_dewstack/clock moves time ahead (tests only)");
        tracing::warn!("dev clock on: the root identity may move dewstack's time ahead");
    }

    let shutdown = tokio_util_shutdown();
    let inventory = crate::ops::inventory::spawn(
        state.clone(),
        config.ops.inventory_interval,
        shutdown.clone(),
    );
    let metrics_server = metrics_listener.map(|l| {
        let app = crate::ops::metrics_app(state.clone());
        tokio::spawn(listen::run(l, app, config.limits, shutdown.clone()))
    });
    let jobs = crate::kms::spawn_background(state.clone(), config.sweep_interval, shutdown.clone());
    let csms_jobs = crate::csms::spawn_background(
        state.clone(),
        config.sweep_interval,
        config.notification_urls.clone(),
        shutdown.clone(),
    );
    let app = router::app(state);
    listen::run_all(listeners, app, config.limits, shutdown.clone()).await;
    let _ = jobs.await;
    let _ = csms_jobs.await;
    let _ = inventory.await;
    if let Some(m) = metrics_server {
        let _ = m.await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// The clock (offset-able under `--dev-clock`) and what `ops` needs.
fn ops_settings(config: &Config) -> (Arc<dyn Clock>, crate::ops::Settings) {
    let dev_clock = config
        .ops
        .dev_clock
        .then(|| Arc::new(OffsetClock::default()));
    let clock: Arc<dyn Clock> = match &dev_clock {
        Some(c) => c.clone(),
        None => Arc::new(SystemClock),
    };
    let settings = crate::ops::Settings {
        metrics_token: config.ops.metrics_token.clone(),
        metrics_on_api: config.ops.metrics_listen.is_none(),
        dev_clock,
    };
    (clock, settings)
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

/// The banner's line for the regions served besides the default one, with
/// the root domain's project in each: empty when only one is served.
fn other_regions(dir: &Directory, domain_id: &str) -> String {
    let others: Vec<String> = (dir.regions().iter().skip(1))
        .filter_map(|r| {
            Some(format!(
                "{r} (project {})",
                dir.project_in_region(domain_id, r)?.id
            ))
        })
        .collect();
    match others.is_empty() {
        true => String::new(),
        false => format!("  also       {}\n", others.join(", ")),
    }
}

fn print_banner(
    endpoints: &tls::Endpoints,
    config: &Config,
    id: &RootIdentity,
    engine: &str,
    other_regions: &str,
) {
    let endpoint = &endpoints.main;
    // Unchanged applications get HTTPS when it is on: the Go SDK reaches IAM
    // over HTTPS only.
    let sdk = endpoints.https.as_deref().unwrap_or(endpoint);
    let region = &config.region;
    let env_region = region.to_ascii_uppercase().replace('-', "_");
    // Printed to stdout on purpose: these are the operator's own credentials,
    // shown once so they can be pasted; they never go to the log.
    println!(
        r#"dewstack is ready ({engine} storage {storage})

  endpoint    {endpoint}
  region      {region}
{other_regions}  domain id   {domain}
  project id  {project}
  access key  {ak}
  secret key  {sk}
  user        {user} / {password}
  console     {endpoint}/console/
              sign in: domain {domain_name}, user {user}, password {password}, project {region}

Python SDK:
  from huaweicloudsdkcore.auth.credentials import BasicCredentials
  from huaweicloudsdkkms.v2 import KmsClient, ListKeysRequest, ListKeysRequestBody
  client = KmsClient.new_builder() \
      .with_credentials(BasicCredentials("{ak}", "{sk}", "{project}")) \
      .with_endpoints(["{endpoint}"]).build()
  print(client.list_keys(ListKeysRequest(body=ListKeysRequestBody())))

{tls}
Point an unchanged application at dewstack:
export DEWSTACK_ENDPOINT={endpoint}
export HUAWEICLOUD_SDK_REGION_KMS_{env_region}={sdk}
export HUAWEICLOUD_SDK_REGION_CSMS_{env_region}={sdk}
export HUAWEICLOUD_SDK_REGION_VPCEP_{env_region}={sdk}
export HUAWEICLOUD_SDK_IAM_ENDPOINT={sdk}
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
        tls = endpoints.trust_help(),
        domain = id.domain_id,
        project = id.project_id,
        ak = id.access_key,
        sk = id.secret_key,
        user = id.user_name,
        domain_name = id.domain_name,
        password = id.password,
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
}
