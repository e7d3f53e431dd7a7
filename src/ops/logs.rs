//! Log output: human-readable lines by default, one JSON object per line
//! with `DEWSTACK_LOG_FORMAT=json` (for log shippers). Either way the level
//! filter is `DEWSTACK_LOG` (default `info`) and logs go to stderr; the
//! request line carries request_id, service, operation, domain_id,
//! project_id, method, path, status and latency_ms as fields.

use tracing_subscriber::EnvFilter;

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

/// Installs the process's log subscriber.
pub fn init() -> anyhow::Result<()> {
    let format = Format::parse(std::env::var("DEWSTACK_LOG_FORMAT").ok().as_deref())?;
    let filter = EnvFilter::try_from_env("DEWSTACK_LOG").unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        Format::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        // Fields at the top level of each object, no span lists: one flat
        // record per event is what log shippers index best.
        Format::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
    Ok(())
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
