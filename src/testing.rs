//! What tests, benchmarks and examples share: one way to build an `AppState`
//! around a fixed identity, a pinned root key and seeded randomness. The
//! server itself never calls into this module.

use crate::clock::Clock;
use crate::common::crypto::RootKey;
use crate::config::Config;
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

/// [`state`] over a fresh embedded database in a temporary directory, its
/// clock at [`fixed_time`]; the directory lives as long as the returned guard.
pub fn embedded_state() -> anyhow::Result<(AppState, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let db = Db::open(dir.path(), None)?;
    let clock = Arc::new(crate::clock::FixedClock::new(fixed_time()));
    Ok((state(db, clock), dir))
}

/// An `AppState` for a loaded `config`: its root identity (overrides, else
/// `identity.json`, else generated from the seeded RNG) and extra domains,
/// the root key `[7; 32]`, the SQLite store in its data dir.
pub fn state_from_config(
    config: &Config,
    clock: Arc<dyn Clock>,
    seed: u64,
) -> anyhow::Result<AppState> {
    let rng = Rng::seeded(seed);
    let identity = RootIdentity::load_or_create(config, &rng)?;
    let directory =
        Directory::build(&identity, &config.region, &config.domains)?.with_lockout(config.lockout);
    let directory = directory.with_regions(&config.regions)?;
    let db = Db::open(&config.data_dir, None)?;
    Ok(AppState::new(
        db,
        clock,
        rng,
        directory,
        &RootKey::from_bytes([7; 32]),
        &config.region,
    ))
}

/// The time every test clock starts at (2023-11-14T22:13:20Z).
pub fn fixed_time() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
}

// The fixed identity above is valid, so building its directory cannot fail.
#[allow(clippy::panic)]
fn unreachable_directory(e: anyhow::Error) -> Directory {
    panic!("the test identity is invalid: {e}")
}

/// Set by `scripts/with-postgres.sh`: the run promised PostgreSQL, so a test
/// that needs it fails instead of skipping when it is missing.
pub const REQUIRE_POSTGRES: &str = "DEWSTACK_TEST_REQUIRE_POSTGRES";

/// The value of `var`, which `test` needs; when it is unset the test is
/// skipped (`None`, said on stderr) in a plain `cargo test`, and fails
/// under `scripts/with-postgres.sh` (`DEWSTACK_TEST_REQUIRE_POSTGRES=1`).
#[allow(clippy::panic)]
pub fn postgres_env(test: &str, var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if std::env::var(REQUIRE_POSTGRES).is_ok_and(|v| v == "1") => {
            panic!("{test}: {var} is not set, but {REQUIRE_POSTGRES}=1 promised PostgreSQL")
        }
        _ => {
            eprintln!("SKIPPED {test}: {var} is not set (run it under scripts/with-postgres.sh)");
            None
        }
    }
}

/// The PostgreSQL server of this test run (`DEWSTACK_TEST_DATABASE_URL`).
pub fn postgres_url(test: &str) -> Option<String> {
    postgres_env(test, "DEWSTACK_TEST_DATABASE_URL")
}

/// A URL to a new, empty database of its own on the test server, or `None`
/// (test skipped, see [`postgres_env`]). Blocking. The name comes from the
/// system RNG on purpose: test processes share one server and must not collide.
pub fn fresh_postgres_database(test: &str) -> Option<String> {
    let base = postgres_url(test)?;
    Some(create_database(&base))
}

/// Creates a database with a fresh name on the server of `base`; its URL.
#[allow(clippy::unwrap_used)]
pub fn create_database(base: &str) -> String {
    let name = format!("t_{}", Rng::system().uuid().simple());
    let mut client = postgres::Client::connect(base, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    with_database(base, &name)
}

/// `base` with its database name replaced by `name`.
pub fn with_database(base: &str, name: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let scheme_end = head.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match head[scheme_end..].find('/') {
        Some(i) => &head[..scheme_end + i],
        None => head,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

/// Set by `scripts/test.sh`, which installs SoftHSM2: a test that needs it
/// fails instead of skipping when it is missing.
pub const REQUIRE_SOFTHSM: &str = "DEWSTACK_TEST_REQUIRE_SOFTHSM";

/// The HSM cluster ids of [`softhsm`]'s tokens.
pub const SOFTHSM_CLUSTERS: [&str; 2] = ["hsm-test-1", "hsm-test-2"];

/// Where Debian's SoftHSM2 puts its PKCS#11 module (or
/// `DEWSTACK_TEST_SOFTHSM_MODULE`).
pub fn softhsm_module() -> std::path::PathBuf {
    std::env::var_os("DEWSTACK_TEST_SOFTHSM_MODULE")
        .map(Into::into)
        .unwrap_or_else(|| "/usr/lib/softhsm/libsofthsm2.so".into())
}

/// SoftHSM2 tokens for tests, one set per test process (a PKCS#11 module
/// is initialized once per process): fresh tokens in a temporary directory
/// (`SOFTHSM2_CONF` points there), PIN `1234`, opened as `[[hsm_clusters]]`
/// [`SOFTHSM_CLUSTERS`]. `None` (said on stderr) when SoftHSM2 is not
/// installed, unless `DEWSTACK_TEST_REQUIRE_SOFTHSM=1` promised it: then the
/// test fails.
#[allow(clippy::panic)]
pub fn softhsm(test: &str) -> Option<Arc<crate::kms::HsmTokens>> {
    static TOKENS: std::sync::OnceLock<Result<Arc<crate::kms::HsmTokens>, String>> =
        std::sync::OnceLock::new();
    match TOKENS.get_or_init(init_softhsm) {
        Ok(tokens) => Some(tokens.clone()),
        Err(why) if std::env::var(REQUIRE_SOFTHSM).is_ok_and(|v| v == "1") => {
            panic!("{test}: {why}, but {REQUIRE_SOFTHSM}=1 promised SoftHSM2")
        }
        Err(why) => {
            eprintln!("SKIPPED {test}: {why} (install softhsm2)");
            None
        }
    }
}

fn init_softhsm() -> Result<Arc<crate::kms::HsmTokens>, String> {
    use crate::config::hsm::{HsmCluster, TokenRef};
    let module = softhsm_module();
    if !module.exists() {
        return Err(format!("{} does not exist", module.display()));
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?.keep();
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).map_err(|e| e.to_string())?;
    let conf = dir.join("softhsm2.conf");
    let text = format!(
        "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
        tokens.display()
    );
    std::fs::write(&conf, text).map_err(|e| e.to_string())?;
    // Read by the module when it is initialized, below; no other test uses it.
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let mut clusters = Vec::new();
    for id in SOFTHSM_CLUSTERS {
        let out = std::process::Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", id])
            .args(["--pin", "1234", "--so-pin", "5678"])
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .map_err(|e| format!("cannot run softhsm2-util: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "softhsm2-util --init-token failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        clusters.push(HsmCluster {
            hsm_cluster_id: id.into(),
            module: module.clone(),
            token: TokenRef::Label(id.into()),
            pin: zeroize::Zeroizing::new("1234".into()),
            domain_id: None,
            max_sessions: 2,
        });
    }
    crate::kms::HsmTokens::open(&clusters)
        .map(Arc::new)
        .map_err(|e| format!("cannot open the SoftHSM2 tokens: {e}"))
}
