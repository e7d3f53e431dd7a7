//! The embedded engine: one SQLite file in WAL mode. Commits are made durable
//! by group commit (`group_commit.rs`: one fsync of the WAL for every commit
//! finished before it), so an acknowledged commit survives kill -9 and power
//! loss while concurrent writers share the cost of the fsync.

use super::batch;
use super::engine::{Engine, Job, StoreError, Tx};
use super::group_commit::GroupCommit;
use super::sqlite_write::{backend, run_cached, SqliteTx, WriteSide};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// Idle read-only connections kept for reuse; more may be open at a peak.
const IDLE_READERS: usize = 16;

const MIGRATIONS: &[(&str, &str)] = &[(
    "0001_kv",
    "CREATE TABLE kv (tbl TEXT NOT NULL, k TEXT NOT NULL, v BLOB NOT NULL, PRIMARY KEY (tbl, k)) WITHOUT ROWID;",
)];

/// Fields drop in this order, and the order matters: `writer` first (its
/// drop stops and joins the thread, so no batch is left in flight and the
/// thread's handle on `write` is gone), then the connections, and the file
/// lock `_owner` last, once nothing of this engine touches the file.
pub struct SqliteEngine {
    /// The group-commit writer (`batch.rs`), once `start_writer` ran (`Db`
    /// starts it; an engine opened bare runs every transaction on its
    /// caller's thread).
    writer: Option<batch::Writer>,
    /// The read-write connection, generation and group commit, shared with
    /// the writer thread (which holds only this, never the engine).
    write: Arc<WriteSide>,
    // Read-only connections: in WAL mode they read a snapshot without
    // waiting for the writer, so reads never queue behind a commit's fsync.
    readers: Mutex<Vec<Connection>>,
    path: PathBuf,
    /// An exclusive `flock` on `<db>.lock` for the engine's lifetime: a second
    /// process on the same file would make `generation` lie, and several
    /// nodes belong on PostgreSQL anyway.
    _owner: std::fs::File,
}

impl SqliteEngine {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            crate::common::crypto::create_private_dir(dir)?;
        }
        let owner = lock_owner(path)?;
        // Created 0600 before SQLite opens it: SQLite gives the -wal and -shm
        // files the database file's mode.
        private_file(path)?;
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            let side = PathBuf::from(side);
            if side.exists() {
                private_file(&side)?;
            }
        }
        // NORMAL: COMMIT writes the WAL without an fsync; `GroupCommit`
        // syncs it before any writer returns. Checkpoints still sync the WAL
        // before and the database file after copying.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        migrate(&conn)?;
        // The migration's read made SQLite open (and create) the WAL, 0600
        // like the database; it stays while this connection is open.
        let mut wal_path = path.as_os_str().to_owned();
        wal_path.push("-wal");
        private_file(Path::new(&wal_path))?;
        let wal = std::fs::OpenOptions::new().write(true).open(&wal_path)?;
        // What the migrations wrote is durable before anything is served.
        wal.sync_data()?;
        Ok(Self {
            writer: None,
            write: Arc::new(WriteSide::new(conn, GroupCommit::new(wal))),
            readers: Mutex::new(Vec::new()),
            path: path.to_owned(),
            _owner: owner,
        })
    }

    /// Starts the group-commit writer (`batch.rs`) that `submit` feeds.
    pub fn start_writer(&mut self) -> std::io::Result<()> {
        if self.writer.is_none() {
            self.writer = Some(batch::Writer::start(self.write.clone())?);
        }
        Ok(())
    }

    fn reader(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = self.readers.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(backend)?;
        Ok(conn)
    }
}

/// Creates `path` if missing and sets mode 0600, whatever the umask (an
/// existing database made by an older version is tightened too).
fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

fn lock_owner(db: &Path) -> anyhow::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    let mut lock_path = db.as_os_str().to_owned();
    lock_path.push(".lock");
    private_file(Path::new(&lock_path))?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)?;
    // SAFETY: flock on a descriptor we own; it touches no memory.
    let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if !taken {
        anyhow::bail!(
            "the embedded database {} is in use by another dewstack process; \
             stop that one, use another --data-dir, or share a PostgreSQL database between nodes",
            db.display()
        );
    }
    Ok(file)
}

fn migrate(conn: &Connection) -> anyhow::Result<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL);")?;
    for (id, sql) in MIGRATIONS {
        let done: Option<String> = conn
            .query_row(
                "SELECT id FROM schema_migrations WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        if done.is_none() {
            conn.execute_batch(&format!(
                "BEGIN; {sql} INSERT INTO schema_migrations (id, applied_at) VALUES ('{id}', datetime('now')); COMMIT;"
            ))?;
        }
    }
    Ok(())
}

impl Engine for SqliteEngine {
    fn run(
        &self,
        body: &mut dyn FnMut(&mut dyn Tx) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        self.write.run(body)
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn reads_inline(&self) -> bool {
        true
    }

    #[cfg(test)]
    fn commit_counts(&self) -> Option<super::engine::CommitCounts> {
        let d = &self.write.durability;
        Some(super::engine::CommitCounts {
            commits: d.newest_begun(),
            synced: d.synced(),
            syncs: d.syncs(),
        })
    }

    fn submit(&self, job: Box<dyn Job>) -> Result<(), Box<dyn Job>> {
        match &self.writer {
            Some(writer) => writer.submit(job),
            None => Err(job),
        }
    }

    fn unsynced_commit(&self) -> Option<u64> {
        self.write.durability.unsynced()
    }

    fn wait_durable(&self, seq: u64) -> Result<(), StoreError> {
        self.write.durability.durable(seq)
    }

    fn run_read(
        &self,
        body: &mut dyn FnMut(&mut dyn Tx) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut snapshot = Snapshot {
            engine: self,
            conn: None,
            generation: self.write.generation.load(Ordering::SeqCst),
        };
        let result = body(&mut snapshot);
        // On failure the connection may still be inside a transaction: the
        // early return drops it instead of handing it back to the idle readers.
        snapshot.end()?;
        result.map(|_| ())
    }
}

/// A read snapshot that begins at its first statement: a body answered
/// wholly from the decode caches (`DecodeCache`: a key lookup on the hot
/// crypto paths) takes no connection and runs no SQL at all.
struct Snapshot<'e> {
    engine: &'e SqliteEngine,
    conn: Option<Connection>,
    /// Read before the snapshot began, so everything it reads is at least
    /// as new as this generation.
    generation: u64,
}

impl Snapshot<'_> {
    fn tx(&mut self) -> Result<SqliteTx<'_>, StoreError> {
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => {
                let conn = self.engine.reader()?;
                // DEFERRED: the snapshot starts at the first read and holds
                // no lock that a writer would wait for.
                run_cached(&conn, "BEGIN DEFERRED")?;
                conn
            }
        };
        let conn = self.conn.insert(conn);
        Ok(SqliteTx {
            tx: conn,
            generation: Some(self.generation),
            wrote: false,
        })
    }

    fn end(self) -> Result<(), StoreError> {
        let Some(conn) = self.conn else {
            return Ok(());
        };
        run_cached(&conn, "ROLLBACK")?;
        if let Ok(mut idle) = self.engine.readers.lock() {
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
        }
        Ok(())
    }
}

impl Tx for Snapshot<'_> {
    fn get(&mut self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.tx()?.get(table, key)
    }
    fn put(&mut self, table: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        // The read-only connection refuses it, as it always did.
        self.tx()?.put(table, key, value)
    }
    fn delete(&mut self, table: &str, key: &str) -> Result<bool, StoreError> {
        self.tx()?.delete(table, key)
    }
    fn scan(
        &mut self,
        table: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.tx()?.scan(table, prefix, after, limit)
    }
    fn generation(&self) -> Option<u64> {
        Some(self.generation)
    }
}

#[cfg(test)]
mod tests {
    /// `t/k` as a read snapshot sees it.
    fn read_one(engine: &dyn super::Engine) -> Option<Vec<u8>> {
        let mut seen = None;
        engine
            .run_read(&mut |tx| {
                seen = tx.get("t", "k")?;
                Ok(true)
            })
            .unwrap();
        seen
    }

    #[test]
    fn conformance_suite_passes_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let engine = super::SqliteEngine::open(&dir.path().join("t.db")).unwrap();
        super::super::conformance::run_all(&engine);
    }

    /// A read body that runs no statement (every record from a decode
    /// cache) takes no connection; the first statement takes one, which
    /// goes back to the idle readers, and a put in a read still fails.
    #[test]
    fn a_snapshot_begins_at_its_first_statement() {
        use super::super::engine::Engine as _;
        let dir = tempfile::tempdir().unwrap();
        let engine = super::SqliteEngine::open(&dir.path().join("t.db")).unwrap();
        super::super::conformance::put_one(&engine, "t", "k", b"v");
        let idle = || engine.readers.lock().unwrap().len();
        let mut generation = None;
        engine
            .run_read(&mut |tx| {
                generation = tx.generation();
                Ok(true)
            })
            .unwrap();
        assert!(generation.is_some());
        assert_eq!(idle(), 0, "a read with no statement opened a connection");
        assert_eq!(read_one(&engine).as_deref(), Some(&b"v"[..]));
        assert_eq!(idle(), 1);
        let put = engine.run_read(&mut |tx| tx.put("t", "k", b"w").map(|()| true));
        assert!(put.is_err());
        assert_eq!(read_one(&engine).as_deref(), Some(&b"v"[..]));
    }

    #[test]
    fn reads_do_not_wait_for_an_open_write() {
        use super::super::engine::Engine as _;
        use std::sync::mpsc;
        let dir = tempfile::tempdir().unwrap();
        let engine =
            std::sync::Arc::new(super::SqliteEngine::open(&dir.path().join("t.db")).unwrap());
        super::super::conformance::put_one(engine.as_ref(), "t", "k", b"old");
        let (held, wait_held) = mpsc::channel();
        let (release, wait_release) = mpsc::channel::<()>();
        let writer = {
            let engine = engine.clone();
            std::thread::spawn(move || {
                engine
                    .run(&mut |tx| {
                        tx.put("t", "k", b"new")?;
                        held.send(()).unwrap();
                        wait_release.recv().unwrap();
                        Ok(true)
                    })
                    .unwrap();
            })
        };
        wait_held.recv().unwrap();
        // The writer holds the write lock with an uncommitted change: a read
        // answers at once from the last committed state.
        let mut seen = read_one(engine.as_ref());
        assert_eq!(seen.as_deref(), Some(&b"old"[..]));
        release.send(()).unwrap();
        writer.join().unwrap();
        seen = read_one(engine.as_ref());
        assert_eq!(seen.as_deref(), Some(&b"new"[..]));
    }

    #[test]
    fn every_returned_commit_is_synced_and_concurrent_commits_share_syncs() {
        use super::super::engine::Engine as _;
        let dir = tempfile::tempdir().unwrap();
        let engine =
            std::sync::Arc::new(super::SqliteEngine::open(&dir.path().join("t.db")).unwrap());
        // One writer: every commit is on disk when `run` returns.
        for i in 0..5u8 {
            engine
                .run(&mut |tx| tx.put("t", "k", &[i]).map(|_| true))
                .unwrap();
            let d = &engine.write.durability;
            assert_eq!(
                d.synced(),
                d.newest_begun(),
                "commit {i} returned before its sync"
            );
            assert_eq!(d.unsynced(), None, "a read now would wait for nothing");
        }
        assert_eq!(engine.write.durability.syncs(), 5);
        // A rollback and a read-only transaction need no sync.
        engine
            .run(&mut |tx| tx.put("t", "x", b"v").map(|_| false))
            .unwrap();
        engine
            .run(&mut |tx| tx.get("t", "k").map(|_| true))
            .unwrap();
        assert_eq!(engine.write.durability.syncs(), 5);
        // Many writers at once: each sees its own commit synced, and they
        // need fewer fsyncs than commits.
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let engine = engine.clone();
                std::thread::spawn(move || {
                    for i in 0..50u32 {
                        let key = format!("{t}/{i}");
                        engine
                            .run(&mut |tx| tx.put("t", &key, b"v").map(|_| true))
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let d = &engine.write.durability;
        assert_eq!(d.newest_begun(), 405);
        assert_eq!(d.synced(), 405);
        assert!(d.syncs() < 5 + 400, "no fsync was shared: {}", d.syncs());
        drop(engine);
        let engine = super::SqliteEngine::open(&dir.path().join("t.db")).unwrap();
        let mut n = 0;
        engine
            .run_read(&mut |tx| {
                n = tx.scan("t", "", None, 1000)?.len();
                Ok(true)
            })
            .unwrap();
        assert_eq!(n, 401);
    }

    #[test]
    fn data_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let engine = super::SqliteEngine::open(&path).unwrap();
            super::super::conformance::put_one(&engine, "t", "k", b"v");
        }
        let engine = super::SqliteEngine::open(&path).unwrap();
        assert_eq!(
            super::super::conformance::get_one(&engine, "t", "k"),
            Some(b"v".to_vec())
        );
    }
}
