//! Log output: human-readable lines by default, one JSON object per line
//! with `DEWSTACK_LOG_FORMAT=json` (for log shippers). Either way the level
//! filter is `DEWSTACK_LOG` (default `info`) and logs go to stderr; the
//! request line carries request_id, service, operation, domain_id,
//! project_id, method, path, status and latency_ms as fields. How an event
//! becomes a line is `log_line.rs`.
//!
//! Lines are written by a thread of their own. A request appends its line
//! to a shared buffer and goes on; the thread writes the whole buffer with
//! one `write`, then sleeps `LINGER` before it looks again, so under load a
//! line costs a copy under a lock instead of waking a thread (a context
//! switch on a busy core) and a syscall each. An idle thread parks, and the
//! next line wakes it. (`tracing_appender` wakes its writer per line: on
//! two cores that was a tenth of a request's CPU, measured in bench/.)
//!
//! A line reaches stderr at most `LINGER` after it was logged, and lines
//! still buffered when the process is killed (not when it exits) are lost.
//! A buffer past `MAX_PENDING` makes the logging request wait for the
//! writer rather than drop a line (dewstack's choice: a log with holes is
//! worse than a slower request under overload).

use super::log_line::{LineFormat, RequestLine, REQUEST_TARGET};
use crate::clock::SystemClock;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// How long buffered lines wait for the writer at most, under load.
const LINGER: Duration = Duration::from_millis(5);
/// Buffered bytes past which a logging request waits for the writer.
const MAX_PENDING: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl Format {
    /// `DEWSTACK_LOG_FORMAT`: unset or empty is text.
    pub fn parse(value: Option<&str>) -> anyhow::Result<Self> {
        match value.map(str::trim).unwrap_or("") {
            "" | "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            other => anyhow::bail!("DEWSTACK_LOG_FORMAT={other:?}: expected \"text\" or \"json\""),
        }
    }
}

/// Installs the process's log subscriber. Keep the guard until the process
/// ends: dropping it writes out the lines still buffered.
pub fn init() -> anyhow::Result<LogGuard> {
    let format = Format::parse(std::env::var("DEWSTACK_LOG_FORMAT").ok().as_deref())?;
    let filter = EnvFilter::try_from_env("DEWSTACK_LOG").unwrap_or_else(|_| "info".into());
    let ansi = format == Format::Text && std::io::stderr().is_terminal();
    let (writer, guard) = spawn(std::io::stderr(), MAX_PENDING, LINGER)?;
    let _ = DIRECT.set(Direct {
        lines: writer.clone(),
        json: format == Format::Json,
        ansi,
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi)
        .event_format(LineFormat {
            json: format == Format::Json,
            clock: Box::new(SystemClock),
        })
        .init();
    Ok(guard)
}

/// Where `request` writes, once `init` has installed the process's logs.
static DIRECT: std::sync::OnceLock<Direct> = std::sync::OnceLock::new();

struct Direct {
    lines: Lines,
    json: bool,
    ansi: bool,
}

/// Logs the request line straight into the buffer the subscriber writes to,
/// if the level filter lets it through. `false` when `init` did not run (tests
/// with their own subscriber): the caller logs it through `tracing` then.
pub fn request(line: &RequestLine<'_>) -> bool {
    let Some(direct) = DIRECT.get() else {
        return false;
    };
    if tracing::enabled!(target: REQUEST_TARGET, tracing::Level::INFO) {
        thread_local! {
            static TEXT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        TEXT.with(|text| {
            let mut text = text.borrow_mut();
            text.clear();
            if line
                .write(&mut *text, direct.json, direct.ansi, &SystemClock)
                .is_ok()
            {
                let _ = LineWriter(&direct.lines.0).write(text.as_bytes());
            }
        });
    }
    true
}

struct Pending {
    bytes: Vec<u8>,
    /// The writer thread waits for `wake`: the next line must notify it.
    parked: bool,
    closed: bool,
}

struct Shared {
    pending: Mutex<Pending>,
    /// Wakes a parked writer thread, or one asked to close.
    wake: Condvar,
    /// Wakes requests waiting for room in a full buffer.
    room: Condvar,
    max_pending: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic while holding this lock cannot leave the buffer half
        // written in a way that matters more than losing the log.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What the subscriber writes each formatted line to.
#[derive(Clone)]
pub struct Lines(Arc<Shared>);

pub struct LineWriter<'a>(&'a Shared);

impl<'a> MakeWriter<'a> for Lines {
    type Writer = LineWriter<'a>;
    fn make_writer(&'a self) -> LineWriter<'a> {
        LineWriter(&self.0)
    }
}

impl Write for LineWriter<'_> {
    /// The subscriber writes each event whole, with one `write_all`.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let shared = self.0;
        let mut pending = shared.lock();
        while pending.bytes.len() >= shared.max_pending && !pending.closed {
            pending.parked = false;
            shared.wake.notify_one();
            pending = shared.room.wait(pending).unwrap_or_else(|e| e.into_inner());
        }
        if pending.closed {
            // After the guard is gone (the process is ending): straight out.
            drop(pending);
            return std::io::stderr().write(buf);
        }
        pending.bytes.extend_from_slice(buf);
        if pending.parked {
            pending.parked = false;
            shared.wake.notify_one();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops the writer thread once everything buffered is written.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts a writer thread draining into `out`.
fn spawn(
    mut out: impl Write + Send + 'static,
    max_pending: usize,
    linger: Duration,
) -> std::io::Result<(Lines, LogGuard)> {
    let shared = Arc::new(Shared {
        pending: Mutex::new(Pending {
            bytes: Vec::new(),
            parked: false,
            closed: false,
        }),
        wake: Condvar::new(),
        room: Condvar::new(),
        max_pending,
    });
    let theirs = shared.clone();
    let thread = std::thread::Builder::new()
        .name("dewstack-log".into())
        .spawn(move || {
            let mut batch = Vec::new();
            loop {
                let closed = {
                    let mut pending = theirs.lock();
                    while pending.bytes.is_empty() && !pending.closed {
                        pending.parked = true;
                        pending = theirs.wake.wait(pending).unwrap_or_else(|e| e.into_inner());
                    }
                    std::mem::swap(&mut batch, &mut pending.bytes);
                    pending.closed
                };
                theirs.room.notify_all();
                // Nowhere to report a failed write of the log itself.
                let _ = out.write_all(&batch).and_then(|()| out.flush());
                batch.clear();
                if closed {
                    return;
                }
                std::thread::sleep(linger);
            }
        })?;
    Ok((
        Lines(shared.clone()),
        LogGuard {
            shared,
            thread: Some(thread),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_format_is_text_or_json() {
        assert_eq!(Format::parse(None).unwrap(), Format::Text);
        assert_eq!(Format::parse(Some("json")).unwrap(), Format::Json);
        assert_eq!(Format::parse(Some(" text ")).unwrap(), Format::Text);
        assert!(Format::parse(Some("yaml")).is_err());
    }

    /// A `Write` the test can read back, counting the writes it got.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut s = self.0.lock().unwrap();
            s.0.extend_from_slice(buf);
            s.1 += 1;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn log_lines(lines: &Lines, thread: usize, count: usize) {
        for i in 0..count {
            lines
                .make_writer()
                .write_all(format!("t{thread} {i}\n").as_bytes())
                .unwrap();
        }
    }

    /// Every line from every thread arrives whole and in its thread's order,
    /// also when the buffer is far too small for them (writers wait), and in
    /// far fewer writes than lines once the writer lingers.
    #[test]
    fn every_line_arrives_in_order_in_few_writes() {
        for max_pending in [64, 1 << 20] {
            let sink = Sink::default();
            let (lines, guard) =
                spawn(sink.clone(), max_pending, Duration::from_millis(2)).unwrap();
            std::thread::scope(|s| {
                for t in 0..4 {
                    let lines = &lines;
                    s.spawn(move || log_lines(lines, t, 5000));
                }
            });
            drop(guard);
            let (bytes, writes) = sink.0.lock().unwrap().clone();
            let text = String::from_utf8(bytes).unwrap();
            let mut next = [0usize; 4];
            for line in text.lines() {
                let (t, i) = line.split_once(' ').unwrap();
                let t: usize = t[1..].parse().unwrap();
                assert_eq!(i.parse::<usize>().unwrap(), next[t], "{line}");
                next[t] += 1;
            }
            assert_eq!(next, [5000; 4], "max_pending {max_pending}");
            if max_pending > 64 {
                assert!(writes < 2000, "{writes} writes for 20000 lines");
            }
        }
    }

    /// An idle writer parks, and the next line still gets out at once
    /// (well before a guard drop would flush it).
    #[test]
    fn a_line_after_a_pause_is_written_without_a_drop() {
        let sink = Sink::default();
        let (lines, _guard) = spawn(sink.clone(), 1 << 20, Duration::from_millis(1)).unwrap();
        for round in 0..3 {
            std::thread::sleep(Duration::from_millis(20));
            log_lines(&lines, round, 1);
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while sink
                .0
                .lock()
                .unwrap()
                .0
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                <= round
            {
                assert!(std::time::Instant::now() < deadline, "round {round}");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}
