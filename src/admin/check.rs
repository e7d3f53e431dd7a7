//! `dewstack check --config FILE`: every problem of a config file, each
//! with its line. A syntax error stops the parse (one problem); otherwise
//! each top-level key is checked on its own, so one bad section does not
//! hide another, and then the whole file is resolved as `serve` would
//! (ranges, combinations).

use crate::config::{Config, FileConfig, RootOverrides, ServeArgs};
use std::path::Path;

/// One problem: the 1-based line it is on (if known) and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(n) => write!(f, "line {n}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The problems of `text`; empty when `serve` would accept it.
pub fn problems(text: &str, path: &Path) -> Vec<Problem> {
    let doc = match toml_edit::ImDocument::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            return vec![Problem {
                line: e.span().map(|s| line_of(text, s.start)),
                message: e.message().trim().to_owned(),
            }]
        }
    };
    let table: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            return vec![Problem {
                line: e.span().map(|s| line_of(text, s.start)),
                message: e.message().trim().to_owned(),
            }]
        }
    };
    let line_of_key = |key: &str| {
        doc.as_table()
            .get_key_value(key)
            .and_then(|(k, _)| k.span())
            .map(|s| line_of(text, s.start))
    };
    let mut out = Vec::new();
    let fails = |key: &str, value: toml::Value| {
        let mut one = toml::Table::new();
        one.insert(key.to_owned(), value);
        toml::Value::Table(one).try_into::<FileConfig>().err()
    };
    for (key, value) in &table {
        let Some(e) = fails(key, value.clone()) else {
            continue;
        };
        // Within a section, the first field that fails on its own names
        // the line; otherwise the section's.
        let inner = value.as_table().and_then(|fields| {
            fields.iter().find_map(|(field, v)| {
                let mut alone = toml::Table::new();
                alone.insert(field.clone(), v.clone());
                let e = fails(key, toml::Value::Table(alone))?;
                let line = doc
                    .as_table()
                    .get(key)
                    .and_then(|item| item.as_table_like())
                    .and_then(|t| t.get_key_value(field))
                    .and_then(|(k, _)| k.span())
                    .map(|s| line_of(text, s.start));
                Some(Problem {
                    line: line.or_else(|| line_of_key(key)),
                    message: format!("{key}.{field}: {}", e.message().trim()),
                })
            })
        });
        out.push(inner.unwrap_or_else(|| Problem {
            line: line_of_key(key),
            message: format!("{key}: {}", e.message().trim()),
        }));
    }
    out.sort_by_key(|p| p.line);
    if out.is_empty() {
        let args = ServeArgs {
            config: Some(path.to_owned()),
            ..ServeArgs::default()
        };
        if let Err(e) = Config::load(args, RootOverrides::default()) {
            let message = format!("{e:#}");
            // The section a resolution error names, when it names one.
            let line = table
                .keys()
                .find(|k| message.contains(k.as_str()))
                .and_then(|k| line_of_key(k));
            out.push(Problem { line, message });
        }
    }
    out
}

/// Reads and checks a file: the problems, or an error if it cannot be read.
pub fn check_file(path: &Path) -> anyhow::Result<Vec<Problem>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
    Ok(problems(&text, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Vec<Problem> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dewstack.toml");
        std::fs::write(&path, text).unwrap();
        check_file(&path).unwrap()
    }

    #[test]
    fn a_good_file_has_no_problems() {
        assert_eq!(
            check("listen = \"127.0.0.1:0\"\n[audit]\nsink = \"both\"\n"),
            vec![]
        );
    }

    #[test]
    fn a_syntax_error_is_reported_on_its_line() {
        let p = check("listen = \"127.0.0.1:0\"\n\n[audit\nsink = 1\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].line, Some(3), "{p:?}");
    }

    #[test]
    fn every_bad_section_is_reported_with_its_line() {
        let text = "region = 7\nlisten = \"127.0.0.1:0\"\n[audit]\nsinc = \"file\"\n[limits]\nmax_body_bytes = \"big\"\n[nonsense]\n";
        let p = check(text);
        let lines: Vec<_> = p.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(1), Some(4), Some(6), Some(7)], "{p:?}");
        assert!(p[1].message.contains("sinc"), "{p:?}");
        assert!(p[2].message.contains("limits.max_body_bytes"), "{p:?}");
        assert!(p[3].message.contains("nonsense"), "{p:?}");
    }

    #[test]
    fn values_out_of_range_are_reported_after_parsing() {
        let p = check("[login_lockout]\nfailures = 99\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].line, Some(1));
        assert!(p[0].message.contains("failures"), "{p:?}");
        let p = check("[audit]\nmode = \"strict\"\n");
        assert_eq!(p[0].line, Some(1), "{p:?}");
        assert!(p[0].message.contains("strict"), "{p:?}");
    }
}
