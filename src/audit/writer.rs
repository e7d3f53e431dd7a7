//! The one writer of the trail: a thread fed by a bounded channel, so a
//! request pays for a send, not for the disk. It appends JSON lines to the
//! trail file (rotated by size into `trail.jsonl.1` … `.keep`) and/or
//! stdout, flushes after each batch and then acknowledges it.

use crate::config::audit::AuditConfig;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::sync::{mpsc, oneshot};

/// Records waiting for the writer; a full queue makes requests wait
/// (back-pressure) rather than drop records.
pub const QUEUE: usize = 4096;
/// Records written between two flushes, at most.
const BATCH: usize = 256;
/// After a batch nobody waits for, the writer sleeps this long before it
/// takes the next: records meanwhile only queue, so under load a request
/// costs a queue push instead of waking this thread (a context switch on a
/// busy core), and a write of many records replaces one write per record.
/// Best-effort records reach the file this much later at most; `required`
/// calls and `Trail::settle` (ListTraces) are acknowledged without it.
const LINGER: std::time::Duration = std::time::Duration::from_millis(2);

pub struct Job {
    /// One JSON record; empty for a probe (see [`RotatingFile::probe`]) or
    /// a barrier.
    pub line: String,
    /// Writes nothing: acknowledged once every record queued before it is
    /// flushed.
    pub barrier: bool,
    /// Told whether the line reached every sink (flushed to the OS).
    pub ack: Option<oneshot::Sender<bool>>,
}

/// Starts the writer thread; it stops when every sender is dropped.
pub fn spawn(config: &AuditConfig) -> anyhow::Result<mpsc::Sender<Job>> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let mut sinks = Sinks {
        file: if config.sink.file() {
            Some(RotatingFile::open(
                config.path.clone(),
                config.max_bytes,
                config.keep,
            )?)
        } else {
            None
        },
        stdout: config.sink.stdout(),
    };
    std::thread::Builder::new()
        .name("dewstack-audit".into())
        .spawn(move || sinks.run(rx))?;
    Ok(tx)
}

struct Sinks {
    file: Option<RotatingFile>,
    stdout: bool,
}

impl Sinks {
    fn run(&mut self, mut rx: mpsc::Receiver<Job>) {
        while let Some(first) = rx.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let mut ok = vec![true; batch.len()];
            for (job, ok) in batch.iter().zip(ok.iter_mut()) {
                if !job.barrier {
                    *ok = self.write(&job.line);
                }
            }
            let flushed = self.flush();
            let awaited = batch.iter().any(|job| job.ack.is_some());
            for (job, ok) in batch.into_iter().zip(ok) {
                let written = ok && flushed;
                if !written {
                    crate::ops::metrics::metrics().storage_error("audit");
                }
                if let Some(ack) = job.ack {
                    let _ = ack.send(written);
                }
            }
            if !awaited {
                std::thread::sleep(LINGER);
            }
        }
    }

    fn write(&mut self, line: &str) -> bool {
        if line.is_empty() {
            // A probe after a failure: can the file be opened again?
            return self.file.as_mut().is_none_or(|f| f.probe().is_ok());
        }
        let mut ok = true;
        if let Some(file) = &mut self.file {
            if let Err(e) = file.append(line) {
                tracing::error!(error = %e, "cannot write the audit trail");
                ok = false;
            }
        }
        if self.stdout {
            let mut out = std::io::stdout().lock();
            ok &= writeln!(out, "{line}").is_ok();
        }
        ok
    }

    fn flush(&mut self) -> bool {
        let mut ok = true;
        if let Some(file) = &mut self.file {
            ok &= file.flush().is_ok();
        }
        if self.stdout {
            ok &= std::io::stdout().flush().is_ok();
        }
        ok
    }
}

/// The trail file and its rotated predecessors.
pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
    file: Option<std::io::BufWriter<File>>,
    size: u64,
}

impl RotatingFile {
    pub fn open(path: PathBuf, max_bytes: u64, keep: u32) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::common::crypto::create_private_dir(dir)?;
        }
        let mut me = Self {
            path,
            max_bytes,
            keep,
            file: None,
            size: 0,
        };
        me.reopen()?;
        Ok(me)
    }

    fn reopen(&mut self) -> std::io::Result<()> {
        let file = open_private(&self.path)?;
        self.size = file.metadata()?.len();
        // 64 KiB: a batch of records (up to 256) is then one `write`, not one per 8 KiB.
        self.file = Some(std::io::BufWriter::with_capacity(64 * 1024, file));
        Ok(())
    }

    pub fn append(&mut self, line: &str) -> std::io::Result<()> {
        let len = line.len() as u64 + 1;
        if self.size > 0 && self.size + len > self.max_bytes {
            self.rotate()?;
        }
        if self.file.is_none() {
            self.reopen()?;
        }
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the trail file is not open"))?;
        file.write_all(line.as_bytes())?;
        file.write_all(b"\n")?;
        self.size += len;
        Ok(())
    }

    /// Drops the open file (and whatever it could not write) and opens the
    /// path again.
    pub fn probe(&mut self) -> std::io::Result<()> {
        if let Some(mut f) = self.file.take() {
            let _ = f.flush();
        }
        self.reopen()
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Err(std::io::Error::other("the trail file is not open")),
        }
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush()?;
        }
        let _ = std::fs::remove_file(rotated(&self.path, self.keep));
        for n in (1..self.keep).rev() {
            let from = rotated(&self.path, n);
            if from.exists() {
                std::fs::rename(&from, rotated(&self.path, n + 1))?;
            }
        }
        std::fs::rename(&self.path, rotated(&self.path, 1))?;
        self.reopen()
    }
}

/// `trail.jsonl.n`: the n-th newest rotated file.
pub fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn open_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_a_bounded_count_of_bounded_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a").join("trail.jsonl");
        let mut f = RotatingFile::open(path.clone(), 100, 2).unwrap();
        for i in 0..40 {
            f.append(&format!("{{\"n\":{i:04}}}")).unwrap();
        }
        f.flush().unwrap();
        let mut names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["trail.jsonl", "trail.jsonl.1", "trail.jsonl.2"]);
        for name in &names {
            let len = std::fs::metadata(dir.path().join("a").join(name))
                .unwrap()
                .len();
            assert!(len <= 100, "{name}: {len}");
        }
        let newest = std::fs::read_to_string(&path).unwrap();
        assert!(newest.ends_with("{\"n\":0039}\n"), "{newest}");
    }
}
