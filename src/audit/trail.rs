//! The handle requests use to reach the writer thread.

use crate::config::audit::{AuditConfig, Mode};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The handle requests use to append to the trail.
pub struct Trail {
    tx: Option<mpsc::Sender<super::writer::Job>>,
    required: bool,
    /// False once a write failed, true again after one succeeds.
    healthy: Arc<AtomicBool>,
    /// The file ListTraces reads, and how many rotated files it has.
    file: Option<(PathBuf, u32)>,
}

impl Default for Trail {
    /// Off: records nothing (tests and embedded states unless they ask).
    fn default() -> Self {
        Self {
            tx: None,
            required: false,
            healthy: Arc::new(AtomicBool::new(true)),
            file: None,
        }
    }
}

impl Trail {
    pub fn start(config: &AuditConfig) -> anyhow::Result<Self> {
        if !config.sink.file() && !config.sink.stdout() {
            return Ok(Self::default());
        }
        Ok(Self {
            tx: Some(super::writer::spawn(config)?),
            required: config.mode == Mode::Required,
            healthy: Arc::new(AtomicBool::new(true)),
            file: config
                .sink
                .file()
                .then(|| (config.path.clone(), config.keep)),
        })
    }

    pub fn is_on(&self) -> bool {
        self.tx.is_some()
    }

    /// In `required` mode: whether a call may run. After a failed write
    /// the writer is asked to reopen the file first.
    pub(super) async fn may_run(&self) -> bool {
        if !self.required || self.healthy.load(Ordering::Relaxed) {
            return true;
        }
        self.append(None).await
    }

    /// Queues a line; in `required` mode waits until it is written and
    /// says whether it was. A probe (`None`) only reopens the sinks.
    pub(super) async fn append(&self, line: Option<String>) -> bool {
        let Some(tx) = &self.tx else {
            return true;
        };
        if !self.required {
            if let Some(line) = line {
                if tx
                    .send(super::writer::Job {
                        line,
                        barrier: false,
                        ack: None,
                    })
                    .await
                    .is_err()
                {
                    crate::ops::metrics::metrics().storage_error("audit");
                }
            }
            return true;
        }
        let (ack, done) = oneshot::channel();
        let sent = tx
            .send(super::writer::Job {
                line: line.unwrap_or_default(),
                barrier: false,
                ack: Some(ack),
            })
            .await;
        let written = sent.is_ok() && done.await.unwrap_or(false);
        self.healthy.store(written, Ordering::Relaxed);
        written
    }
}

impl Trail {
    /// Returns once every record queued before the call is in the files, so
    /// that a ListTraces sees every call answered before it.
    pub async fn settle(&self) {
        let Some(tx) = &self.tx else {
            return;
        };
        let (ack, done) = oneshot::channel();
        let barrier = super::writer::Job {
            line: String::new(),
            barrier: true,
            ack: Some(ack),
        };
        if tx.send(barrier).await.is_ok() {
            let _ = done.await;
        }
    }

    /// The trail files, newest first.
    pub fn files(&self) -> Vec<PathBuf> {
        match &self.file {
            Some((path, keep)) => std::iter::once(path.clone())
                .chain((1..=*keep).map(|n| super::writer::rotated(path, n)))
                .collect(),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::audit::Sink;

    /// Best-effort records are written late (the writer lingers), but never
    /// later than a `settle` that follows them: ListTraces sees every call
    /// answered before it.
    #[tokio::test]
    async fn settle_waits_for_every_record_queued_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = AuditConfig {
            sink: Sink::File,
            path: dir.path().join("trail.jsonl"),
            ..AuditConfig::off()
        };
        let trail = Trail::start(&config).unwrap();
        for round in 0..20 {
            for i in 0..50 {
                assert!(trail.append(Some(format!("{{\"n\":{round}{i:02}}}"))).await);
            }
            trail.settle().await;
            let text = std::fs::read_to_string(&config.path).unwrap();
            assert_eq!(text.lines().count(), (round + 1) * 50, "round {round}");
        }
    }
}
