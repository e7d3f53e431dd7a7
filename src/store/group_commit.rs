//! Group commit for the embedded engine: many commits, one fsync.
//!
//! SQLite runs with `synchronous=NORMAL`, so a COMMIT only `write`s its WAL
//! frames; making them durable is this file's job. Every commit takes a
//! sequence number; before a writer returns (before anyone is told of its
//! commit) it calls [`GroupCommit::durable`], which returns at once when an
//! `fdatasync` of the WAL that began after this commit finished has already
//! run, and otherwise runs one that covers every commit finished so far. With
//! many writers in flight they queue on one lock while one of them syncs, and
//! the next one finds its commit already covered: the fsyncs are shared, and
//! every acknowledged write is still on disk. A checkpoint under NORMAL syncs
//! the WAL before copying it and the database file after, so frames never
//! leave the WAL before they are durable.
//!
//! Readers may see a commit whose writer is still waiting for its sync; a
//! read that may have seen one waits for that sync too (`unsynced`, then
//! `durable` on a blocking thread, see `Db::read`), so no answer ever rests
//! on a write that could still be lost.

use super::engine::StoreError;
use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

pub struct GroupCommit {
    /// The `-wal` file; `fdatasync` on any descriptor flushes the file.
    wal: File,
    /// The newest commit that has begun (set under the writer lock before
    /// COMMIT, so a snapshot can never see a commit newer than this).
    begun: AtomicU64,
    /// The newest commit whose COMMIT has returned, successfully or not.
    finished: AtomicU64,
    /// Every commit numbered up to this is on disk.
    synced: Mutex<u64>,
    /// The same number, readable without the lock (it only grows).
    synced_hint: AtomicU64,
    /// How many `fdatasync` calls ran (tests and metrics).
    syncs: AtomicU64,
}

impl GroupCommit {
    pub fn new(wal: File) -> Self {
        Self {
            wal,
            begun: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            synced: Mutex::new(0),
            synced_hint: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
        }
    }

    /// Called under the writer lock right before COMMIT: this commit's number.
    pub fn begin(&self) -> u64 {
        self.begun.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Called under the writer lock once COMMIT has returned, whatever it returned.
    pub fn finish(&self, seq: u64) {
        self.finished.store(seq, Ordering::SeqCst);
    }

    #[cfg(test)]
    pub fn newest_begun(&self) -> u64 {
        self.begun.load(Ordering::SeqCst)
    }

    /// Returns once commit `seq` (and every one before it) is on disk.
    pub fn durable(&self, seq: u64) -> Result<(), StoreError> {
        if seq == 0 {
            return Ok(());
        }
        // A commit that has begun but not returned is microseconds from
        // writing its frames (its COMMIT does no fsync): wait for it, so the
        // sync below covers it.
        let mut spins = 0u32;
        while self.finished.load(Ordering::SeqCst) < seq {
            // Longer only when that COMMIT runs an automatic checkpoint.
            if spins < 100 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
            spins += 1;
        }
        let mut synced = self
            .synced
            .lock()
            .map_err(|_| StoreError::Backend("group commit lock poisoned".into()))?;
        if *synced >= seq {
            return Ok(());
        }
        let upto = self.finished.load(Ordering::SeqCst);
        self.wal
            .sync_data()
            .map_err(|e| StoreError::Backend(format!("fsync of the WAL failed: {e}")))?;
        self.syncs.fetch_add(1, Ordering::Relaxed);
        *synced = upto;
        self.synced_hint.store(upto, Ordering::SeqCst);
        Ok(())
    }

    /// For a read that has finished: the newest commit it could have seen,
    /// if that one is not on disk yet. Two atomic loads, no lock.
    pub fn unsynced(&self) -> Option<u64> {
        let begun = self.begun.load(Ordering::SeqCst);
        (self.synced_hint.load(Ordering::SeqCst) < begun).then_some(begun)
    }

    #[cfg(test)]
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    pub fn synced(&self) -> u64 {
        self.synced.lock().map(|s| *s).unwrap_or(0)
    }
}
