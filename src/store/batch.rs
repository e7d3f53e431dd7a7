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
use std::sync::Arc;

/// Bodies taken into one transaction at most: a bound on how long the
/// first of them waits for the last (dewstack's choice).
pub const MAX_BATCH: usize = 128;

/// Bodies queued for the writer at most; beyond it a body runs alone on a
/// blocking thread, as every body did before the writer (tokio's bounded
/// blocking pool), so the queue never grows without bound (dewstack's choice).
pub const QUEUE: usize = 1024;

/// What the writer thread needs of its engine.
pub trait Runner: Send + Sync + 'static {
    /// The jobs in one transaction, each in a savepoint. Outer `Err`: the
    /// shared transaction failed and nothing of it was committed. Inner:
    /// it committed, and whether it then became durable (a failed fsync must
    /// not rerun bodies whose writes are already committed).
    fn try_batch(&self, jobs: &mut [Box<dyn Job>]) -> Result<Result<(), StoreError>, StoreError>;
    /// One job in a transaction of its own.
    fn run_alone(&self, job: &mut dyn Job) -> Result<(), StoreError>;
}

/// Runs the jobs in one transaction and finishes each of them.
fn run_batch<R: Runner>(engine: &R, mut jobs: Vec<Box<dyn Job>>) {
    match engine.try_batch(&mut jobs) {
        Ok(synced) => {
            for job in jobs {
                let outcome = match &synced {
                    Ok(()) => Ok(()),
                    Err(e) => Err(StoreError::Backend(e.to_string())),
                };
                job.finish(outcome);
            }
        }
        Err(shared) => {
            tracing::warn!(error = %shared, jobs = jobs.len(), "a group commit failed; its transactions run again one by one");
            for mut job in jobs {
                let alone = engine.run_alone(job.as_mut());
                job.finish(alone);
            }
        }
    }
}

/// The writer thread and its queue, owned by the engine. Dropping it stops
/// the thread and waits for it: closing the queue is the stop signal, the
/// thread finishes the batch in hand and every body still queued (each was
/// promised an answer), and `drop` returns once the thread has ended. So
/// when the engine's last handle goes, everything the thread held (the
/// write connection, through `Runner`) is gone before the engine's file lock
/// is released, and the data dir can be opened again at once.
pub struct Writer {
    queue: Option<mpsc::SyncSender<Box<dyn Job>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer over `runner`, which is all the thread holds: it
    /// must not hold the engine that owns this `Writer`, or the engine
    /// could never be dropped.
    pub fn start<R: Runner>(runner: Arc<R>) -> std::io::Result<Self> {
        let (queue, jobs) = mpsc::sync_channel::<Box<dyn Job>>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("dewstack-writer".into())
            .spawn(move || {
                // Ends once the queue is closed and empty.
                while let Ok(first) = jobs.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match jobs.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    run_batch(runner.as_ref(), batch);
                }
            })?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Queues `job`; gives it back when the queue is full or the thread is
    /// gone, for the caller to run it itself.
    pub fn submit(&self, job: Box<dyn Job>) -> Result<(), Box<dyn Job>> {
        let Some(queue) = &self.queue else {
            return Err(job);
        };
        queue.try_send(job).map_err(|e| match e {
            mpsc::TrySendError::Full(job) | mpsc::TrySendError::Disconnected(job) => job,
        })
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.queue = None;
        let Some(thread) = self.thread.take() else {
            return;
        };
        // The last handle can be dropped on the writer thread itself, by a
        // body that held one: joining would wait for this very call. The
        // queue is closed, so the thread ends as soon as this batch is done.
        if thread.thread().id() == std::thread::current().id() {
            return;
        }
        if thread.join().is_err() {
            tracing::error!("the store's writer thread panicked");
        }
    }
}

/// Runs a job's body, a panic counting as a failure of that body alone.
pub fn run_guarded(job: &mut dyn Job, tx: &mut dyn Tx) -> Result<bool, StoreError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(tx)))
        .unwrap_or_else(|_| Err(StoreError::Backend("transaction body panicked".into())))
}
