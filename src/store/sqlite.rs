//! The embedded engine: one SQLite file in WAL mode. Commits are made durable
//! by group commit (`group_commit.rs`: one fsync of the WAL for every commit
//! finished before it), so an acknowledged commit survives kill -9 and power
//! loss while concurrent writers share the cost of the fsync.

use super::batch;
use super::engine::{Engine, Job, StoreError, Tx};
use super::group_commit::GroupCommit;
use super::range::{within_prefix, ScanRange};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Where every engine in this process draws its generations from, so that no
/// two engines (tests open several, and reopen files) ever share a value.
static GENERATIONS: AtomicU64 = AtomicU64::new(0);

fn next_generation() -> u64 {
    GENERATIONS.fetch_add(1, Ordering::SeqCst) + 1
}

/// Idle read-only connections kept for reuse; more may be open at a peak.
const IDLE_READERS: usize = 16;

const MIGRATIONS: &[(&str, &str)] = &[(
    "0001_kv",
    "CREATE TABLE kv (tbl TEXT NOT NULL, k TEXT NOT NULL, v BLOB NOT NULL, PRIMARY KEY (tbl, k)) WITHOUT ROWID;",
)];

pub struct SqliteEngine {
    // SQLite allows one writer at a time anyway; one connection behind a mutex
    // keeps the transaction model trivially serializable.
    conn: Mutex<Connection>,
    // Read-only connections: in WAL mode they read a snapshot without
    // waiting for the writer, so reads never queue behind a commit's fsync.
    readers: Mutex<Vec<Connection>>,
    path: PathBuf,
    /// Moves after every commit that wrote something. This process is the
    /// file's only writer (see `_owner`), so an unchanged value means the
    /// database is unchanged: what `Tx::generation` promises.
    generation: AtomicU64,
    /// An exclusive `flock` on `<db>.lock` for the engine's lifetime: a second
    /// process on the same file would make `generation` lie, and several
    /// nodes belong on PostgreSQL anyway.
    _owner: std::fs::File,
    durability: GroupCommit,
    /// The writer thread's queue, once `start_writer` ran (`Db` starts it;
    /// an engine opened bare runs every transaction on its caller's thread).
    writer: OnceLock<batch::Queue>,
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
            conn: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            path: path.to_owned(),
            generation: AtomicU64::new(next_generation()),
            _owner: owner,
            durability: GroupCommit::new(wal),
            writer: OnceLock::new(),
        })
    }

    /// Starts the group-commit writer (`batch.rs`) that `submit` feeds.
    pub fn start_writer(self: &Arc<Self>) -> std::io::Result<()> {
        let queue = batch::start(Arc::downgrade(self))?;
        let _ = self.writer.set(queue);
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

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Statements on a connection inside an open transaction.
struct SqliteTx<'a> {
    tx: &'a Connection,
    /// Set on a read snapshot: the engine's generation, read before the
    /// snapshot began, so everything this transaction reads is at least as
    /// new as it.
    generation: Option<u64>,
    wrote: bool,
}

impl Tx for SqliteTx<'_> {
    fn get(&mut self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.tx
            .prepare_cached("SELECT v FROM kv WHERE tbl = ?1 AND k = ?2")
            .and_then(|mut st| st.query_row(params![table, key], |r| r.get(0)).optional())
            .map_err(backend)
    }

    fn put(&mut self, table: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.wrote = true;
        self.tx
            .prepare_cached("INSERT INTO kv (tbl, k, v) VALUES (?1, ?2, ?3) ON CONFLICT (tbl, k) DO UPDATE SET v = excluded.v")
            .and_then(|mut st| st.execute(params![table, key, value]))
            .map(|_| ())
            .map_err(backend)
    }

    fn delete(&mut self, table: &str, key: &str) -> Result<bool, StoreError> {
        self.wrote = true;
        self.tx
            .prepare_cached("DELETE FROM kv WHERE tbl = ?1 AND k = ?2")
            .and_then(|mut st| st.execute(params![table, key]))
            .map(|n| n > 0)
            .map_err(backend)
    }

    fn generation(&self) -> Option<u64> {
        self.generation
    }

    fn scan(
        &mut self,
        table: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let range = ScanRange::new(prefix, after);
        let sql = range.sql(["?1", "?2", "?3"]);
        let mut st = self.tx.prepare_cached(&sql).map_err(backend)?;
        let rows = st
            .query_map(params![table, range.start, limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(backend)?;
        within_prefix(prefix, rows.map(|row| row.map_err(backend)))
    }
}

impl batch::Runner for SqliteEngine {
    fn try_batch(&self, jobs: &mut [Box<dyn Job>]) -> Result<(), StoreError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::Backend("sqlite connection poisoned".into()))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let run = |sql: &str| {
            tx.prepare_cached(sql)
                .and_then(|mut st| st.execute([]))
                .map_err(backend)
        };
        let mut wrote = false;
        for job in jobs.iter_mut() {
            run("SAVEPOINT job")?;
            let mut stmts = SqliteTx {
                tx: &tx,
                generation: None,
                wrote: false,
            };
            if matches!(batch::run_guarded(job.as_mut(), &mut stmts), Ok(true)) {
                wrote |= stmts.wrote;
            } else {
                run("ROLLBACK TO job")?;
            }
            run("RELEASE job")?;
        }
        if !wrote {
            tx.commit().map_err(backend)?;
            drop(conn);
            return self
                .durability
                .unsynced()
                .map_or(Ok(()), |seq| self.durability.durable(seq));
        }
        let seq = self.durability.begin();
        let committed = tx.commit().map_err(backend);
        self.durability.finish(seq);
        committed?;
        self.generation.store(next_generation(), Ordering::SeqCst);
        drop(conn);
        self.durability.durable(seq)
    }

    fn run_alone(&self, job: &mut dyn Job) -> Result<(), StoreError> {
        self.run(&mut |tx| batch::run_guarded(job, tx))
    }
}

impl Engine for SqliteEngine {
    fn run(
        &self,
        body: &mut dyn FnMut(&mut dyn Tx) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::Backend("sqlite connection poisoned".into()))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let mut stmts = SqliteTx {
            tx: &tx,
            generation: None,
            wrote: false,
        };
        let commit = body(&mut stmts)?;
        let wrote = stmts.wrote;
        if !commit {
            return tx.rollback().map_err(backend);
        }
        if !wrote {
            tx.commit().map_err(backend)?;
            drop(conn);
            // It may have read a commit still waiting for its sync.
            return self
                .durability
                .unsynced()
                .map_or(Ok(()), |seq| self.durability.durable(seq));
        }
        let seq = self.durability.begin();
        let committed = tx.commit().map_err(backend);
        self.durability.finish(seq);
        committed?;
        // After the commit and before anyone is told of it; still under the
        // writer lock, so generations only move forward.
        self.generation.store(next_generation(), Ordering::SeqCst);
        // The next writer may commit while this one waits for the disk.
        drop(conn);
        self.durability.durable(seq)
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn reads_inline(&self) -> bool {
        true
    }

    #[cfg(test)]
    fn syncs(&self) -> Option<u64> {
        Some(self.durability.syncs())
    }

    fn submit(&self, job: Box<dyn Job>) -> Result<(), Box<dyn Job>> {
        let Some(queue) = self.writer.get() else {
            return Err(job);
        };
        queue.try_send(job).map_err(|e| match e {
            std::sync::mpsc::TrySendError::Full(job)
            | std::sync::mpsc::TrySendError::Disconnected(job) => job,
        })
    }

    fn unsynced_commit(&self) -> Option<u64> {
        self.durability.unsynced()
    }

    fn wait_durable(&self, seq: u64) -> Result<(), StoreError> {
        self.durability.durable(seq)
    }

    fn run_read(
        &self,
        body: &mut dyn FnMut(&mut dyn Tx) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let conn = self.reader()?;
        // BEGIN/ROLLBACK as cached statements: rusqlite's Transaction parses
        // them afresh each time, a measurable share of a point read.
        // DEFERRED: the snapshot starts at the first read and holds no lock
        // that a writer would wait for.
        let run = |sql: &str| {
            conn.prepare_cached(sql)
                .and_then(|mut st| st.execute([]))
                .map_err(backend)
        };
        let generation = self.generation.load(Ordering::SeqCst);
        run("BEGIN DEFERRED")?;
        let result = body(&mut SqliteTx {
            tx: &conn,
            generation: Some(generation),
            wrote: false,
        });
        // On failure the connection may still be inside a transaction: the
        // early return drops it instead of handing it back to the idle readers.
        run("ROLLBACK")?;
        let outcome = result.map(|_| ());
        if let Ok(mut idle) = self.readers.lock() {
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn conformance_suite_passes_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let engine = super::SqliteEngine::open(&dir.path().join("t.db")).unwrap();
        super::super::conformance::run_all(&engine);
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
        let mut seen = None;
        engine
            .run_read(&mut |tx| {
                seen = tx.get("t", "k")?;
                Ok(true)
            })
            .unwrap();
        assert_eq!(seen.as_deref(), Some(&b"old"[..]));
        release.send(()).unwrap();
        writer.join().unwrap();
        engine
            .run_read(&mut |tx| {
                seen = tx.get("t", "k")?;
                Ok(true)
            })
            .unwrap();
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
            let d = &engine.durability;
            assert_eq!(
                d.synced(),
                d.newest_begun(),
                "commit {i} returned before its sync"
            );
            assert_eq!(d.unsynced(), None, "a read now would wait for nothing");
        }
        assert_eq!(engine.durability.syncs(), 5);
        // A rollback and a read-only transaction need no sync.
        engine
            .run(&mut |tx| tx.put("t", "x", b"v").map(|_| false))
            .unwrap();
        engine
            .run(&mut |tx| tx.get("t", "k").map(|_| true))
            .unwrap();
        assert_eq!(engine.durability.syncs(), 5);
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
        let d = &engine.durability;
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
