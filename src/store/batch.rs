//! Group commit with one writer thread: `Db::tx` on the embedded engine hands
//! its body to this thread instead of a blocking thread of its own. The
//! thread takes every body waiting (up to `MAX_BATCH`), runs each in a
//! savepoint of one transaction (a body that fails rolls back only its own
//! savepoint), commits once, waits for the one fsync that commit needs
//! (`group_commit.rs`), and only then tells each body's caller how it ended.
//! Every acknowledged write is therefore on disk, as before, while a burst of
//! writers costs one COMMIT and one fsync, and no thread per writer: on two
//! cores the hops between 64 blocking threads cost more than the writes.
//!
//! If the shared transaction itself fails (BEGIN, a savepoint statement,
//! COMMIT), nothing of it was committed, and each body is run again alone
//! in a transaction of its own, so one body's failure is never another's.

use super::engine::{Job, StoreError, Tx};
use std::sync::mpsc;
use std::sync::Weak;

/// Bodies taken into one transaction at most: a bound on how long the
/// first of them waits for the last (dewstack's choice).
pub const MAX_BATCH: usize = 128;

/// Bodies queued for the writer at most; beyond it `submit` waits
/// (back-pressure, not an unbounded queue).
pub const QUEUE: usize = 1024;

/// What the writer thread needs of its engine.
pub trait Runner: Send + Sync + 'static {
    /// The jobs in one transaction, each in a savepoint; `Err` when the
    /// shared transaction failed, and nothing of it was committed.
    fn try_batch(&self, jobs: &mut [Box<dyn Job>]) -> Result<(), StoreError>;
    /// One job in a transaction of its own.
    fn run_alone(&self, job: &mut dyn Job) -> Result<(), StoreError>;
}

/// Runs the jobs in one transaction and finishes each of them.
fn run_batch<R: Runner>(engine: &R, mut jobs: Vec<Box<dyn Job>>) {
    match engine.try_batch(&mut jobs) {
        Ok(()) => jobs.into_iter().for_each(|job| job.finish(Ok(()))),
        Err(shared) => {
            tracing::warn!(error = %shared, jobs = jobs.len(), "a group commit failed; its transactions run again one by one");
            for mut job in jobs {
                let alone = engine.run_alone(job.as_mut());
                job.finish(alone);
            }
        }
    }
}

pub type Queue = mpsc::SyncSender<Box<dyn Job>>;

/// Starts the writer of `engine`. The thread holds only a weak handle, so
/// the engine (and its file lock) goes when its last user drops it; the
/// queue closes with it and the thread ends.
pub fn start<R: Runner>(engine: Weak<R>) -> std::io::Result<Queue> {
    let (queue, jobs) = mpsc::sync_channel::<Box<dyn Job>>(QUEUE);
    std::thread::Builder::new()
        .name("dewstack-writer".into())
        .spawn(move || {
            while let Ok(first) = jobs.recv() {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match jobs.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                match engine.upgrade() {
                    Some(engine) => run_batch(engine.as_ref(), batch),
                    None => {
                        for job in batch {
                            job.finish(Err(StoreError::Unavailable("the store is closed".into())));
                        }
                        return;
                    }
                }
            }
        })?;
    Ok(queue)
}

/// Runs a job's body, a panic counting as a failure of that body alone.
pub fn run_guarded(job: &mut dyn Job, tx: &mut dyn Tx) -> Result<bool, StoreError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(tx)))
        .unwrap_or_else(|_| Err(StoreError::Backend("transaction body panicked".into())))
}
