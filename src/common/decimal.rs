//! Decimal digits written without `fmt`: the request log line and CSMS's
//! version row keys write one or more on every request, and the formatting
//! machinery cost more than the rest of what they write.

use std::fmt::{self, Write};

/// `n` in decimal, zero-padded to `width` (at most 20): what `{n:0width$}`
/// writes.
pub fn digits(w: &mut impl Write, mut n: u64, width: usize) -> fmt::Result {
    let mut buf = [b'0'; 20];
    let mut at = buf.len();
    while n > 0 {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let start = at.min(buf.len() - width.clamp(1, 20));
    // Only ASCII digits were written.
    w.write_str(std::str::from_utf8(&buf[start..]).map_err(|_| fmt::Error)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_what_format_writes() {
        for (n, width) in [
            (0, 1),
            (7, 1),
            (200, 1),
            (503, 1),
            (0, 6),
            (42, 6),
            (999_999, 6),
            (u64::MAX, 1),
            (12, 20),
        ] {
            let mut out = String::new();
            digits(&mut out, n, width).unwrap();
            assert_eq!(out, format!("{n:0width$}"));
        }
    }
}
