//! The interface between the key–value layer and an engine: one transaction
//! (`Tx`), running transactions (`Engine`), and what can go wrong (`StoreError`).

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Backend(String),
    #[error("corrupt record in {table}: {detail}")]
    Corrupt { table: String, detail: String },
}

/// One transaction. Keys are text; values are opaque bytes.
pub trait Tx {
    fn get(&mut self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn put(&mut self, table: &str, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Returns whether the key existed.
    fn delete(&mut self, table: &str, key: &str) -> Result<bool, StoreError>;
    /// Keys starting with `prefix`, in byte order, strictly after `after` if given.
    fn scan(
        &mut self,
        table: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// Takes the cluster-wide lock `name` until this transaction ends, if no
    /// other transaction (on any node) holds it; returns whether it was taken.
    /// SQLite: the transaction already holds the only write lock of the
    /// database file, so this is always granted.
    fn try_lock(&mut self, _name: &str) -> Result<bool, StoreError> {
        Ok(true)
    }
    /// In a read snapshot of an engine that sees every write (the embedded
    /// one): a number that changes whenever anything is committed, so a value
    /// read while it was `g` is still current while it is `g`. `None` when
    /// the engine cannot know (PostgreSQL: other nodes write) or inside a
    /// read-write transaction.
    fn generation(&self) -> Option<u64> {
        None
    }
}

/// One transaction body handed to an engine's writer (`batch.rs`), and
/// the caller waiting for it.
pub trait Job: Send {
    /// Runs the body; `Ok(true)` keeps its writes, `Ok(false)` rolls them back.
    /// May run twice (alone again after a failed batch).
    fn run(&mut self, tx: &mut dyn Tx) -> Result<bool, StoreError>;
    /// How its transaction ended: `Ok` once what it kept is durable.
    fn finish(self: Box<Self>, outcome: Result<(), StoreError>);
}

/// An engine's commit counters, for tests that prove commits are shared.
#[cfg(test)]
#[derive(Clone, Copy, Debug)]
pub struct CommitCounts {
    /// COMMITs that wrote something, numbered from 1 in the order they began.
    pub commits: u64,
    /// Every commit numbered up to this is on disk.
    pub synced: u64,
    /// `fdatasync` calls of the WAL.
    pub syncs: u64,
}

/// What an engine implements: run `body` in one transaction, commit if it
/// returns `Ok(true)`, roll back on `Ok(false)`. Engines may call `body` more than
/// once when the database reports a serialization conflict.
pub trait Engine: Send + Sync {
    fn run(
        &self,
        body: &mut dyn FnMut(&mut dyn Tx) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError>;
    fn name(&self) -> &'static str;

    /// Whether `run_read` answers from local memory and disk without waiting
    /// on the network or on writers, so it may run on an async worker thread.
    fn reads_inline(&self) -> bool {
        false
    }

    /// After a read that ran inline: the newest commit it may have seen that
    /// is not durable yet (group commit), which the caller must wait for with
    /// `wait_durable` (on a blocking thread) before it answers.
    fn unsynced_commit(&self) -> Option<u64> {
        None
    }

    fn wait_durable(&self, _seq: u64) -> Result<(), StoreError> {
        Ok(())
    }

    /// Hands a transaction body to the engine's own writer (group commit,
    /// `batch.rs`), which finishes it later; gives it back when the engine
    /// has none, or its queue is full, for the caller to `run` itself.
    fn submit(&self, job: Box<dyn Job>) -> Result<(), Box<dyn Job>> {
        Err(job)
    }

    /// What the engine counted of its commits, where it counts them.
    #[cfg(test)]
    fn commit_counts(&self) -> Option<CommitCounts> {
        None
    }

    /// Like `run`, for a body that only reads; it never commits anything.
    /// Engines may serve it from a read-only snapshot.
    fn run_read(
        &self,
        body: &mut dyn FnMut(&mut dyn Tx) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        self.run(body)
    }
}
