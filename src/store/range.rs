//! The range a `Tx::scan` reads, shared by both engines: keys starting with
//! `prefix`, strictly after `after` when that lies inside the prefix range.
//! A range on the primary key instead of LIKE, so that '%' and '_' in
//! prefixes mean nothing special and the index is used.

use super::engine::StoreError;

/// Where a scan starts and whether the start key itself is excluded.
pub struct ScanRange<'a> {
    pub start: &'a str,
    pub strict: bool,
}

impl<'a> ScanRange<'a> {
    pub fn new(prefix: &'a str, after: Option<&'a str>) -> Self {
        let inside = after.filter(|a| *a >= prefix);
        Self {
            start: inside.unwrap_or(prefix),
            strict: inside.is_some(),
        }
    }

    /// The query, given the engine's spelling of its three placeholders
    /// (table, start key, limit). Both engines compare and order keys
    /// bytewise (PostgreSQL: `k` is COLLATE "C").
    pub fn sql(&self, [table, start, limit]: [&str; 3]) -> String {
        let op = if self.strict { ">" } else { ">=" };
        format!(
            "SELECT k, v FROM kv WHERE tbl = {table} AND k {op} {start} ORDER BY k LIMIT {limit}"
        )
    }
}

/// Rows in key order until the first key outside `prefix`.
pub fn within_prefix(
    prefix: &str,
    rows: impl IntoIterator<Item = Result<(String, Vec<u8>), StoreError>>,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let mut out = Vec::new();
    for row in rows {
        let (k, v) = row?;
        if !k.starts_with(prefix) {
            break;
        }
        out.push((k, v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::ScanRange;

    #[test]
    fn start_and_strictness() {
        let r = ScanRange::new("p/", None);
        assert_eq!((r.start, r.strict), ("p/", false));
        let r = ScanRange::new("p/", Some("p/b"));
        assert_eq!((r.start, r.strict), ("p/b", true));
        // A marker before the prefix range does not widen the scan.
        let r = ScanRange::new("p/", Some("a"));
        assert_eq!((r.start, r.strict), ("p/", false));
        assert_eq!(
            r.sql(["?1", "?2", "?3"]),
            "SELECT k, v FROM kv WHERE tbl = ?1 AND k >= ?2 ORDER BY k LIMIT ?3"
        );
        assert_eq!(
            ScanRange::new("p/", Some("p/b")).sql(["$1", "$2", "$3"]),
            "SELECT k, v FROM kv WHERE tbl = $1 AND k > $2 ORDER BY k LIMIT $3"
        );
    }
}
