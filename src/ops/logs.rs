//! Log output: human-readable lines by default, one JSON object per line
//! with `DEWSTACK_LOG_FORMAT=json` (for log shippers). Either way the level
//! filter is `DEWSTACK_LOG` (default `info`) and logs go to stderr; the
//! request line carries request_id, service, operation, domain_id,
//! project_id, method, path, status and latency_ms as fields.
//!
//! Lines are written by a thread of their own (`tracing_appender`), through
//! a buffer flushed whenever its queue runs dry: the request line is on
//! every request, and a `write` to stderr under its lock on the async worker
//! cost as much as the request's cryptography. The queue holds at most
//! `QUEUED_LINES`; a full queue makes the logging request wait rather than
//! drop a line (dewstack's choice: a log with holes is worse than a slower
//! request under overload).

use std::io::{BufWriter, IsTerminal};
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// About 2 MiB of request lines at most.
const QUEUED_LINES: usize = 8192;

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
/// ends: dropping it writes out the lines still queued.
pub fn init() -> anyhow::Result<WorkerGuard> {
    let format = Format::parse(std::env::var("DEWSTACK_LOG_FORMAT").ok().as_deref())?;
    let filter = EnvFilter::try_from_env("DEWSTACK_LOG").unwrap_or_else(|_| "info".into());
    let ansi = std::io::stderr().is_terminal();
    let (writer, guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(QUEUED_LINES)
        .lossy(false)
        .thread_name("dewstack-log")
        .finish(BufWriter::new(std::io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        Format::Text => builder.with_ansi(ansi).init(),
        // Fields at the top level of each object, no span lists: one flat
        // record per event is what log shippers index best.
        Format::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
    Ok(guard)
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
}
