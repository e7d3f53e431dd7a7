//! Seeds a data directory for `bench/scale`: `PROJECTS` projects with
//! `KEYS` key records and `SECRETS` secrets (one version each) apiece,
//! written through the stores' own insert functions (so every index and
//! kept count a real create writes is written), one transaction per
//! project. The start-up migrations and counts are run first on the empty
//! store, so their done marks exist and a later start reads none of this.
//!
//! The seeded keys and secret values only make the store large: their
//! sealed bytes are random filler that opens under no key, and the
//! benchmarked requests never name them.
//!
//! Usage: bench_seed DATA_DIR PROJECTS KEYS_PER_PROJECT SECRETS_PER_PROJECT [FIRST]
//! (FIRST: the number of the first project, to grow a seeded store further).

use dewstack::csms::store as csms_store;
use dewstack::kms::store as kms_store;
use dewstack::rng::Rng;
use dewstack::store::Db;
use serde_json::json;
use std::time::Instant;

type AnyResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn filler(rng: &Rng, n: usize) -> String {
    use base64::Engine as _;
    let mut bytes = vec![0u8; n];
    rng.fill(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn key(rng: &Rng, project: &str, i: usize, now: i64) -> AnyResult<kms_store::KeyRecord> {
    let id = rng.uuid().to_string();
    Ok(serde_json::from_value(json!({
        "key_id": id, "project_id": project, "domain_id": format!("d{project}"),
        "key_alias": format!("seed-{i}"), "key_description": "seeded for bench/scale",
        "key_spec": "Aes256", "key_usage": "EncryptDecrypt", "origin": "Kms",
        "key_state": "Enabled", "default_key": false, "creation_ms": now + i as i64,
        "scheduled_deletion_ms": null, "expiration_ms": null,
        "enterprise_project_id": "0", "keystore_id": "0",
        "tags": {"team": format!("t{}", i % 7)},
        // AES-GCM: 12-byte nonce, 32-byte key, 16-byte tag.
        "current": {"created_ms": now, "sealed": filler(rng, 60)},
        "version_count": 1,
    }))?)
}

fn secret(
    rng: &Rng,
    project: &str,
    i: usize,
    key_id: &str,
    now: i64,
) -> AnyResult<csms_store::SecretRecord> {
    Ok(serde_json::from_value(json!({
        "id": rng.uuid().to_string(), "name": format!("seed-{i:05}"), "project_id": project,
        "domain_id": format!("d{project}"), "state": "ENABLED", "kms_key_id": key_id,
        "description": "seeded for bench/scale", "secret_type": "COMMON",
        "auto_rotation": false, "rotation_period": null, "rotation_config": null,
        "rotation_func_urn": null, "rotation_ms": null, "next_rotation_ms": null,
        "event_subscriptions": [], "enterprise_project_id": "0",
        "create_ms": now, "update_ms": now, "scheduled_delete_ms": null,
        "tags": {}, "last_version": 1,
        "stages": {"SYSCURRENT": {"version_id": "v1", "update_ms": now}},
    }))?)
}

fn main() -> AnyResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let (dir, projects, keys, secrets, first) = match args.as_slice() {
        [_, d, p, k, s] => (d, p, k, s, "0"),
        [_, d, p, k, s, f] => (d, p, k, s, f.as_str()),
        _ => return Err("usage: bench_seed DATA_DIR PROJECTS KEYS SECRETS [FIRST]".into()),
    };
    let first: usize = first.parse()?;
    let (projects, keys, secrets): (usize, usize, usize) =
        (projects.parse()?, keys.parse()?, secrets.parse()?);
    std::fs::create_dir_all(dir)?;
    let db = Db::open(std::path::Path::new(dir), None)?;
    db.tx_blocking(|tx| {
        kms_store::count_existing(tx)?;
        kms_store::index_existing(tx)?;
        kms_store::upgrade_records(tx, None, 100)?;
        Ok::<_, dewstack::kms::KmsError>(())
    })?;
    db.tx_blocking(|tx| {
        csms_store::count_existing(tx)?;
        csms_store::count_pending_existing(tx)?;
        Ok::<_, dewstack::csms::error::CsmsError>(())
    })?;
    let rng = Rng::system();
    let now = 1_764_547_200_000; // 2025-12-01, a fixed creation time
    let started = Instant::now();
    for p in first..first + projects {
        // Far from the bench project's id (b000…0001), which stays as it was.
        let project = format!("5eed{p:028x}");
        let records: Vec<kms_store::KeyRecord> = (0..keys)
            .map(|i| key(&rng, &project, i, now))
            .collect::<AnyResult<_>>()?;
        let key_id = records
            .first()
            .map(|k| k.key_id.clone())
            .unwrap_or_default();
        let stored: Vec<(csms_store::SecretRecord, csms_store::VersionRecord)> = (0..secrets)
            .map(|i| {
                let s = secret(&rng, &project, i, &key_id, now)?;
                let v: csms_store::VersionRecord = serde_json::from_value(json!({
                    "number": 1, "create_ms": now, "expire_ms": null, "kms_key_id": key_id,
                    "value_id": rng.uuid().to_string(), "binary": false, "sealed": filler(&rng, 120),
                }))?;
                Ok((s, v))
            })
            .collect::<AnyResult<_>>()?;
        db.tx_blocking(|tx| {
            for k in &records {
                kms_store::insert(tx, k)?;
            }
            Ok::<_, dewstack::kms::KmsError>(())
        })?;
        db.tx_blocking(|tx| {
            for (s, v) in &stored {
                csms_store::insert_secret(tx, s)?;
                csms_store::put_version(tx, &s.project_id, &s.name, v)?;
            }
            Ok::<_, dewstack::csms::error::CsmsError>(())
        })?;
        if (p + 1 - first).is_multiple_of(500) {
            eprintln!(
                "seeded {} projects in {:.0?}",
                p + 1 - first,
                started.elapsed()
            );
        }
    }
    println!(
        "SEEDED projects={projects} keys={} secrets={} seconds={:.1}",
        projects * keys,
        projects * secrets,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
