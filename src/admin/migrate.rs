//! `dewstack migrate --to postgres://…`: copies the embedded database of a
//! stopped dewstack (its lock is taken, so nothing writes during the copy)
//! into an empty PostgreSQL database, then checks that every table has
//! the same row count and that a sample of keys encrypts on the source
//! and decrypts on the copy (the material unseals under the root key there).

use crate::common::crypto::RootKey;
use crate::config::Config;
use crate::iam::directory::{Directory, RootIdentity};
use crate::rng::Rng;
use crate::server::state::AppState;
use crate::store::snapshot::{self, Loader, Source};
use crate::store::Db;
use std::sync::Arc;

/// Keys tried for the decryption check, at most.
const SAMPLE: usize = 5;

pub struct Report {
    pub rows: u64,
    pub tables: usize,
    /// Keys that encrypted on the source and decrypted on the copy.
    pub decrypted: usize,
}

pub async fn migrate(config: &Config, to: &str) -> anyhow::Result<Report> {
    if config.database_url.is_some() {
        anyhow::bail!(
            "migrate copies the embedded database; this configuration already uses PostgreSQL"
        );
    }
    let source = Source::Sqlite(config.data_dir.join("dewstack.db"));
    if !config.data_dir.join("dewstack.db").exists() {
        anyhow::bail!("no embedded database in {}", config.data_dir.display());
    }
    let target = Source::Postgres(to.to_owned());
    let (dir, url) = (config.data_dir.clone(), to.to_owned());
    let (from_db, to_db) = tokio::task::spawn_blocking(move || {
        // Opening the source takes its lock: a running dewstack refuses it.
        let from_db = Db::open(&dir, None)?;
        let to_db = Db::open(&dir, Some(&url))?;
        Ok::<_, anyhow::Error>((from_db, to_db))
    })
    .await??;
    let (src, dst) = (source.clone(), target.clone());
    let copy_db = to_db.clone();
    let rows = tokio::task::spawn_blocking(move || {
        let present: u64 = snapshot::counts(&dst)?.values().sum();
        if present > 0 {
            anyhow::bail!("the target database already holds {present} dewstack rows: migrate into an empty database");
        }
        let mut loader = Loader::new(&copy_db);
        snapshot::dump(&src, &mut |row| loader.push(row))?;
        let rows = loader.finish()?;
        let (a, b) = (snapshot::counts(&src)?, snapshot::counts(&dst)?);
        if a != b {
            anyhow::bail!("row counts differ after the copy: source {a:?}, target {b:?}");
        }
        Ok((rows, a.len()))
    })
    .await??;
    let decrypted = sample_decryptions(config, from_db, to_db).await?;
    Ok(Report {
        rows: rows.0,
        tables: rows.1,
        decrypted,
    })
}

async fn sample_decryptions(config: &Config, from: Db, to: Db) -> anyhow::Result<usize> {
    let rng = Rng::system();
    let root = RootKey::load_or_create(&config.data_dir, config.root.root_key.as_deref(), &rng)?;
    let identity = RootIdentity::load_or_create(config, &rng)?;
    let directory = || {
        Directory::build(&identity, &config.region, &config.domains)?.with_regions(&config.regions)
    };
    let clock: Arc<dyn crate::clock::Clock> = Arc::new(crate::clock::SystemClock);
    let source = AppState::new(
        from,
        clock.clone(),
        rng.clone(),
        directory()?,
        &root,
        &config.region,
    );
    let target = AppState::new(to, clock, rng, directory()?, &root, &config.region);
    let keys = source
        .db
        .read(|tx| tx.scan("kms_keys", "", None, 1000))
        .await?;
    let mut decrypted = 0;
    for (name, _) in keys {
        if decrypted == SAMPLE {
            break;
        }
        let Some((project, key_id)) = name.split_once('/') else {
            continue;
        };
        let probe = b"dewstack migrate check";
        // Disabled, pending or asymmetric keys do not encrypt: not sampled.
        let Ok(blob) = crate::kms::encrypt_for(&source, project, key_id, probe, b"").await else {
            continue;
        };
        let (_, plain) = crate::kms::decrypt_for(&target, project, &blob, b"")
            .await
            .map_err(|e| anyhow::anyhow!("key {key_id} does not decrypt on the copy: {e}"))?;
        if plain.as_slice() != probe {
            anyhow::bail!("key {key_id} decrypts to something else on the copy");
        }
        decrypted += 1;
    }
    Ok(decrypted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{fresh_postgres_database, DOMAIN_ID, PROJECT_ID};

    fn config(dir: &std::path::Path) -> Config {
        let args = crate::config::ServeArgs {
            data_dir: Some(dir.to_owned()),
            ..Default::default()
        };
        Config::load(args, crate::config::RootOverrides::default()).unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn copies_into_an_empty_postgres_and_verifies_then_refuses_a_second_time() {
        let Some(url) = tokio::task::spawn_blocking(|| fresh_postgres_database("migrate_copies"))
            .await
            .unwrap()
        else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        // The test states' root key, where migrate looks for it.
        std::fs::write(
            dir.path().join(crate::common::crypto::ROOT_KEY_FILE),
            [7u8; 32],
        )
        .unwrap();
        {
            let db = Db::open(dir.path(), None).unwrap();
            let clock = Arc::new(crate::clock::FixedClock::new(crate::testing::fixed_time()));
            let app = crate::testing::state(db, clock);
            for service in ["kms", "csms", "evs"] {
                crate::kms::ensure_default_key(&app, DOMAIN_ID, PROJECT_ID, service)
                    .await
                    .unwrap();
            }
        }
        let config = config(dir.path());
        let report = migrate(&config, &url).await.unwrap();
        assert!(report.rows >= 3 && report.tables >= 1, "{}", report.rows);
        assert_eq!(report.decrypted, 3);
        let again = migrate(&config, &url).await.err().unwrap();
        assert!(again.to_string().contains("empty database"), "{again}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_missing_embedded_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = migrate(&config(dir.path()), "postgres://x@127.0.0.1:1/x")
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("no embedded database"), "{err}");
    }
}
