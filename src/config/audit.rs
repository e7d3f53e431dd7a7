//! `[audit]`: where the audit trail (src/audit/, docs/operations.md) goes.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `[audit]` in the config file; every field optional.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct AuditFileConfig {
    /// "file" (the default), "stdout", "both" or "off".
    pub sink: Option<String>,
    /// The trail file [default: `<data_dir>/audit/trail.jsonl`].
    pub path: Option<PathBuf>,
    /// The file is rotated once it would grow past this many bytes [default: 64 MiB].
    pub max_bytes: Option<u64>,
    /// Rotated files kept besides the current one [default: 8].
    pub keep: Option<u32>,
    /// "best_effort" (the default) or "required".
    pub mode: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sink {
    Off,
    File,
    Stdout,
    Both,
}

impl Sink {
    pub fn file(self) -> bool {
        matches!(self, Sink::File | Sink::Both)
    }
    pub fn stdout(self) -> bool {
        matches!(self, Sink::Stdout | Sink::Both)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A record that cannot be written is counted and logged; the call's
    /// answer is unchanged.
    BestEffort,
    /// No call is answered with success unless its record was written.
    Required,
}

/// The trail settings in force.
#[derive(Clone, Debug)]
pub struct AuditConfig {
    /// default [`Sink::File`]
    pub sink: Sink,
    /// default `<data_dir>/audit/trail.jsonl`
    pub path: PathBuf,
    /// default 64 MiB; at least 4 KiB
    pub max_bytes: u64,
    /// default 8; 1..=1000
    pub keep: u32,
    /// default [`Mode::BestEffort`]
    pub mode: Mode,
}

pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
pub const DEFAULT_KEEP: u32 = 8;
const MIN_MAX_BYTES: u64 = 4096;
const MAX_KEEP: u32 = 1000;

impl AuditConfig {
    /// Off: what tests and embedded states get unless they ask.
    pub fn off() -> Self {
        Self {
            sink: Sink::Off,
            path: PathBuf::new(),
            max_bytes: DEFAULT_MAX_BYTES,
            keep: DEFAULT_KEEP,
            mode: Mode::BestEffort,
        }
    }

    pub fn resolve(file: &AuditFileConfig, data_dir: &Path) -> anyhow::Result<Self> {
        let sink = match file.sink.as_deref().unwrap_or("file") {
            "off" => Sink::Off,
            "file" => Sink::File,
            "stdout" => Sink::Stdout,
            "both" => Sink::Both,
            other => anyhow::bail!(
                "[audit] sink {other:?} is not one of \"file\", \"stdout\", \"both\", \"off\""
            ),
        };
        let mode = match file.mode.as_deref().unwrap_or("best_effort") {
            "best_effort" => Mode::BestEffort,
            "required" => Mode::Required,
            other => {
                anyhow::bail!("[audit] mode {other:?} is not \"best_effort\" or \"required\"")
            }
        };
        let max_bytes = file.max_bytes.unwrap_or(DEFAULT_MAX_BYTES);
        if max_bytes < MIN_MAX_BYTES {
            anyhow::bail!("[audit] max_bytes must be at least {MIN_MAX_BYTES}");
        }
        let keep = file.keep.unwrap_or(DEFAULT_KEEP);
        if !(1..=MAX_KEEP).contains(&keep) {
            anyhow::bail!("[audit] keep must be 1..={MAX_KEEP}");
        }
        if mode == Mode::Required && sink == Sink::Off {
            anyhow::bail!("[audit] mode \"required\" needs a sink");
        }
        Ok(Self {
            sink,
            path: file
                .path
                .clone()
                .unwrap_or_else(|| data_dir.join("audit").join("trail.jsonl")),
            max_bytes,
            keep,
            mode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_refusals() {
        let c = AuditConfig::resolve(&AuditFileConfig::default(), Path::new("/d")).unwrap();
        assert_eq!(c.sink, Sink::File);
        assert_eq!(c.mode, Mode::BestEffort);
        assert_eq!(c.path, Path::new("/d/audit/trail.jsonl"));
        assert_eq!((c.max_bytes, c.keep), (DEFAULT_MAX_BYTES, DEFAULT_KEEP));
        for bad in [
            AuditFileConfig {
                sink: Some("syslog".into()),
                ..Default::default()
            },
            AuditFileConfig {
                mode: Some("strict".into()),
                ..Default::default()
            },
            AuditFileConfig {
                max_bytes: Some(10),
                ..Default::default()
            },
            AuditFileConfig {
                keep: Some(0),
                ..Default::default()
            },
            AuditFileConfig {
                sink: Some("off".into()),
                mode: Some("required".into()),
                ..Default::default()
            },
        ] {
            assert!(
                AuditConfig::resolve(&bad, Path::new("/d")).is_err(),
                "{bad:?}"
            );
        }
    }
}
