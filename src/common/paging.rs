//! Limit/marker paging over an already ordered list.

/// A limit, marker or offset that is not a number in range.
#[derive(Debug, PartialEq, Eq)]
pub struct InvalidPage;

/// Parses a `limit` given as text; `None` means the default.
pub fn parse_limit(raw: Option<&str>, default: usize, max: usize) -> Result<usize, InvalidPage> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(InvalidPage),
        },
    }
}

/// Parses an offset-style marker ("0", "10", ...).
pub fn parse_offset(raw: Option<&str>) -> Result<usize, InvalidPage> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(0),
        Some(text) => text.parse::<usize>().map_err(|_| InvalidPage),
    }
}

pub struct Page<T> {
    pub items: Vec<T>,
    /// Offset of the next page when there is one.
    pub next: Option<usize>,
}

pub fn page<T>(all: Vec<T>, offset: usize, limit: usize) -> Page<T> {
    let total = all.len();
    let items: Vec<T> = all.into_iter().skip(offset).take(limit).collect();
    Page {
        next: next_offset(offset, items.len(), total as u64),
        items,
    }
}

/// The offset of the page after one of `len` items read from `offset`,
/// when `total` items match in all (a page read from an index, not a list).
pub fn next_offset(offset: usize, len: usize, total: u64) -> Option<usize> {
    let end = offset.saturating_add(len);
    ((end as u64) < total).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(parse_limit(None, 10, 1000), Ok(10));
        assert_eq!(parse_limit(Some("5"), 10, 1000), Ok(5));
        assert_eq!(parse_limit(Some("0"), 10, 1000), Err(InvalidPage));
        assert_eq!(parse_limit(Some("1001"), 10, 1000), Err(InvalidPage));
        assert_eq!(parse_limit(Some("x"), 10, 1000), Err(InvalidPage));
    }

    #[test]
    fn pages() {
        let p = page((0..5).collect::<Vec<_>>(), 0, 2);
        assert_eq!((p.items, p.next), (vec![0, 1], Some(2)));
        let p = page((0..5).collect::<Vec<_>>(), 4, 2);
        assert_eq!((p.items, p.next), (vec![4], None));
        let p = page((0..5).collect::<Vec<_>>(), 9, 2);
        assert!(p.items.is_empty() && p.next.is_none());
    }
}
