//! The embedded engine's write side: the one read-write connection, the
//! generation every commit moves and the group commit that makes commits
//! durable. The engine and its writer thread (`batch.rs`) share it, and it
//! holds nothing of theirs: neither the file lock nor the thread's queue,
//! so the thread can never keep the engine alive (see `SqliteEngine`).

use super::batch;
use super::engine::{Job, StoreError, Tx};
use super::group_commit::GroupCommit;
use super::range::{within_prefix, ScanRange};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Where every engine in this process draws its generations from, so that no
/// two engines (tests open several, and reopen files) ever share a value.
static GENERATIONS: AtomicU64 = AtomicU64::new(0);

fn next_generation() -> u64 {
    GENERATIONS.fetch_add(1, Ordering::SeqCst) + 1
}

pub(super) struct WriteSide {
    // SQLite allows one writer at a time anyway; one connection behind a mutex
    // keeps the transaction model trivially serializable.
    conn: Mutex<Connection>,
    /// Moves after every commit that wrote something. This process is the
    /// file's only writer (the engine's lock), so an unchanged value means
    /// the database is unchanged: what `Tx::generation` promises.
    pub(super) generation: AtomicU64,
    pub(super) durability: GroupCommit,
}

impl WriteSide {
    pub(super) fn new(conn: Connection, durability: GroupCommit) -> Self {
        Self {
            conn: Mutex::new(conn),
            generation: AtomicU64::new(next_generation()),
            durability,
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn
            .lock()
            .map_err(|_| StoreError::Backend("sqlite connection poisoned".into()))
    }

    /// One transaction on the caller's thread (`Engine::run`).
    pub(super) fn run(
        &self,
        body: &mut dyn FnMut(&mut dyn Tx) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
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
        let wait = self.commit(tx, wrote)?;
        // The next writer may commit while this one waits for the disk.
        drop(conn);
        self.wait_durable(wait)
    }

    /// Commits `tx` (still under the writer lock) and says which commit the
    /// caller must see durable before it answers: its own, or, if it wrote
    /// nothing, one it may have read that is still waiting for its sync.
    fn commit(
        &self,
        tx: rusqlite::Transaction<'_>,
        wrote: bool,
    ) -> Result<Option<u64>, StoreError> {
        if !wrote {
            tx.commit().map_err(backend)?;
            return Ok(self.durability.unsynced());
        }
        let seq = self.durability.begin();
        let committed = tx.commit().map_err(backend);
        self.durability.finish(seq);
        committed?;
        // After the commit and before anyone is told of it; still under the
        // writer lock, so generations only move forward.
        self.generation.store(next_generation(), Ordering::SeqCst);
        Ok(Some(seq))
    }

    fn wait_durable(&self, wait: Option<u64>) -> Result<(), StoreError> {
        wait.map_or(Ok(()), |seq| self.durability.durable(seq))
    }
}

impl batch::Runner for WriteSide {
    fn try_batch(&self, jobs: &mut [Box<dyn Job>]) -> Result<Result<(), StoreError>, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let run = |sql: &str| run_cached(&tx, sql);
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
        // A COMMIT that fails is the shared transaction failing (its bodies
        // rerun alone); a failed sync is every body's answer.
        let wait = self.commit(tx, wrote)?;
        drop(conn);
        Ok(self.wait_durable(wait))
    }

    fn run_alone(&self, job: &mut dyn Job) -> Result<(), StoreError> {
        self.run(&mut |tx| batch::run_guarded(job, tx))
    }
}

/// A statement without parameters or rows (BEGIN, SAVEPOINT, ...) as a
/// cached statement: rusqlite's own transaction helpers parse them afresh
/// each time, a measurable share of a point read.
pub(super) fn run_cached(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut st| st.execute([]))
        .map(|_| ())
        .map_err(backend)
}

pub(super) fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Statements on a connection inside an open transaction.
pub(super) struct SqliteTx<'a> {
    pub(super) tx: &'a Connection,
    /// Set on a read snapshot: the engine's generation, read before the
    /// snapshot began, so everything this transaction reads is at least as
    /// new as it.
    pub(super) generation: Option<u64>,
    pub(super) wrote: bool,
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
