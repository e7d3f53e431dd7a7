//! Files and directories dewstack creates are private whatever the umask.
//! Its own test binary: the umask is process-wide.

use std::os::unix::fs::PermissionsExt;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn data_dir_database_and_key_files_are_private_under_a_permissive_umask() {
    // SAFETY: umask only sets the process's file mode mask.
    unsafe { libc::umask(0o000) };
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("data").join("nested");
    dewstack::common::crypto::create_private_dir(&data).unwrap();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&base.path().join("data")), 0o700);

    dewstack::common::crypto::write_private_file(&data.join("identity.json"), b"{}").unwrap();
    assert_eq!(mode(&data.join("identity.json")), 0o600);
    let fresh = base.path().join("fresh");
    dewstack::common::crypto::RootKey::load_or_create(&fresh, None, &dewstack::rng::Rng::seeded(1))
        .unwrap();
    assert_eq!(mode(&fresh), 0o700);
    assert_eq!(mode(&fresh.join("root.key")), 0o600);

    let db_dir = base.path().join("db");
    let db = dewstack::store::Db::open(&db_dir, None).unwrap();
    assert_eq!(mode(&db_dir), 0o700);
    let mut seen = 0;
    for name in [
        "dewstack.db",
        "dewstack.db-wal",
        "dewstack.db-shm",
        "dewstack.db.lock",
    ] {
        let p = db_dir.join(name);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{name}");
            seen += 1;
        }
    }
    assert!(seen >= 3, "database files missing");
    drop(db);
    // Nothing world-readable was left anywhere.
    for entry in walk(base.path()) {
        let m = mode(&entry);
        assert_eq!(m & 0o077, 0, "{} has mode {m:o}", entry.display());
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}
