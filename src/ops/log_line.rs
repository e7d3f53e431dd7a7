//! How one log event becomes one line of text or JSON.
//!
//! dewstack's own formatter rather than tracing-subscriber's `Full` and
//! `Json`: every request logs a line, and in profiles those were 4-6 % of
//! a read path's CPU (field visitors through `Debug`, style wrappers even
//! without colours, a timestamp formatted from scratch). This one writes
//! each field straight into the line, escapes every string (the text
//! format wrote `%` values raw, control characters included), and formats
//! the date once a second per thread. An A/B run showed no gain beyond
//! the VM's noise (README, Benchmark).
//! The shapes are the ones those formatters had:
//!
//! text: `2026-12-02T07:46:30.123456Z  INFO dewstack::server::request_id: request request_id=… service="kms" status=200`
//! json: `{"timestamp":"…","level":"INFO","message":"request","request_id":"…","status":200,"target":"…"}`
//!
//! Strings are quoted and escaped in both (a control character never ends
//! a line early); `%`-captured values are written as their `Display`,
//! unquoted in text. No span is ever entered, so none is written.

use crate::clock::Clock;
use crate::common::decimal::digits;
use std::cell::RefCell;
use std::fmt::{self, Write};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

mod escape;
use escape::{escaped, quoted, Escaping};

pub struct LineFormat {
    pub json: bool,
    pub clock: Box<dyn Clock>,
}

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // Events forwarded from the `log` crate carry their real target
        // in `log.*` fields; show it as the target, as `Full` did.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let ansi = w.has_ansi_escapes();
        let mut fields = Fields {
            w: &mut w,
            json: self.json,
            result: Ok(()),
        };
        if self.json {
            fields.w.write_str("{\"timestamp\":\"")?;
            timestamp(fields.w, self.clock.as_ref())?;
            write!(fields.w, "\",\"level\":\"{}\"", meta.level())?;
            event.record(&mut fields);
            fields.result?;
            w.write_str(",\"target\":")?;
            quoted(&mut w, meta.target())?;
            w.write_str("}\n")
        } else {
            timestamp(fields.w, self.clock.as_ref())?;
            let (start, end) = if ansi { colour(meta.level()) } else { ("", "") };
            write!(
                fields.w,
                " {start}{:>5}{end} {}:",
                meta.level(),
                meta.target()
            )?;
            event.record(&mut fields);
            fields.result?;
            w.write_char('\n')
        }
    }
}

fn colour(level: &Level) -> (&'static str, &'static str) {
    let start = match *level {
        Level::ERROR => "\x1b[31m",
        Level::WARN => "\x1b[33m",
        Level::INFO => "\x1b[32m",
        Level::DEBUG => "\x1b[34m",
        Level::TRACE => "\x1b[35m",
    };
    (start, "\x1b[0m")
}

/// RFC 3339 in UTC with microseconds. The part up to the second is kept
/// per thread: lines of one second share it.
fn timestamp(w: &mut impl Write, clock: &dyn Clock) -> fmt::Result {
    thread_local! {
        static SECOND: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
    }
    let now = clock.now();
    let second = now.timestamp();
    SECOND.with(|cached| {
        let mut cached = cached.borrow_mut();
        if cached.0 != second {
            cached.1.clear();
            write!(cached.1, "{}", now.format("%Y-%m-%dT%H:%M:%S"))?;
            cached.0 = second;
        }
        w.write_str(&cached.1)
    })?;
    w.write_char('.')?;
    digits(w, now.timestamp_subsec_micros().into(), 6)?;
    w.write_char('Z')
}

/// A latency as `{ms}` writes it, without `fmt`'s float printing (a
/// thousand instructions a line): `server::request_id` rounds it to
/// hundredths, and the shortest text of such a float is its decimal with
/// the trailing zeros dropped (tested below). Anything else, through `fmt`.
fn hundredths(w: &mut impl Write, ms: f64) -> fmt::Result {
    let n = (ms * 100.0).round();
    if ms.is_sign_negative() || !(0.0..1e12).contains(&n) || n / 100.0 != ms {
        return write!(w, "{ms}");
    }
    let n = n as u64;
    digits(w, n / 100, 1)?;
    match n % 100 {
        0 => Ok(()),
        f if f % 10 == 0 => {
            w.write_char('.')?;
            digits(w, f / 10, 1)
        }
        f => {
            w.write_char('.')?;
            digits(w, f, 2)
        }
    }
}

/// The request line of `server::request_id`, the one event every request
/// logs. `logs::request` writes it without tracing's dispatch and field
/// visitors (a third of the line's cost), in the very shape `LineFormat`
/// gives the same event (tested below).
pub struct RequestLine<'a> {
    pub request_id: &'a str,
    pub service: &'a str,
    pub operation: &'a str,
    pub domain_id: &'a str,
    pub project_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub latency_ms: f64,
}

/// Where `server::request_id` logs from: the target its events carry.
pub const REQUEST_TARGET: &str = "dewstack::server::request_id";

impl RequestLine<'_> {
    /// The same line as a tracing event, for a process whose subscriber is
    /// not `logs::init`'s (tests).
    pub fn trace(&self) {
        tracing::info!(
            target: REQUEST_TARGET,
            request_id = %self.request_id,
            service = self.service,
            operation = self.operation,
            domain_id = self.domain_id,
            project_id = self.project_id,
            method = %self.method,
            path = %self.path,
            status = self.status,
            latency_ms = self.latency_ms,
            "request"
        );
    }

    pub fn write(
        &self,
        w: &mut impl Write,
        json: bool,
        ansi: bool,
        clock: &dyn Clock,
    ) -> fmt::Result {
        // Strings are quoted in both formats; `%` values (the request id,
        // method and path) only in JSON, as the tracing event had them.
        let strings = [
            ("service", self.service),
            ("operation", self.operation),
            ("domain_id", self.domain_id),
            ("project_id", self.project_id),
        ];
        let shown = [("method", self.method), ("path", self.path)];
        let latency = self.latency_ms.is_finite().then_some(self.latency_ms);
        if json {
            w.write_str("{\"timestamp\":\"")?;
            timestamp(w, clock)?;
            w.write_str("\",\"level\":\"INFO\",\"message\":\"request\",\"request_id\":")?;
            quoted(w, self.request_id)?;
            for (name, value) in strings.iter().chain(&shown) {
                named(w, ",\"", name, "\":")?;
                quoted(w, value)?;
            }
            w.write_str(",\"status\":")?;
            digits(w, self.status.into(), 1)?;
            match latency {
                Some(ms) => {
                    w.write_str(",\"latency_ms\":")?;
                    hundredths(w, ms)?
                }
                None => w.write_str(",\"latency_ms\":null")?,
            }
            w.write_str(",\"target\":")?;
            quoted(w, REQUEST_TARGET)?;
            w.write_str("}\n")
        } else {
            timestamp(w, clock)?;
            let (start, end) = if ansi { colour(&Level::INFO) } else { ("", "") };
            // Pieces, not `write!`: `fmt` was a tenth of the line's cost.
            for piece in [" ", start, " INFO", end, " ", REQUEST_TARGET] {
                w.write_str(piece)?;
            }
            w.write_str(": request request_id=")?;
            escaped(w, self.request_id)?;
            for (name, value) in strings {
                named(w, " ", name, "=")?;
                quoted(w, value)?;
            }
            for (name, value) in shown {
                named(w, " ", name, "=")?;
                escaped(w, value)?;
            }
            w.write_str(" status=")?;
            digits(w, self.status.into(), 1)?;
            match latency {
                Some(ms) => {
                    w.write_str(" latency_ms=")?;
                    hundredths(w, ms)?
                }
                None => w.write_str(" latency_ms=NaN")?,
            }
            w.write_char('\n')
        }
    }
}

/// A field's name in either shape: `,"name":` in JSON, ` name=` in text.
fn named(w: &mut impl Write, before: &str, name: &str, after: &str) -> fmt::Result {
    w.write_str(before)?;
    w.write_str(name)?;
    w.write_str(after)
}

/// Writes each field of an event as it is visited.
struct Fields<'a, 'w> {
    w: &'a mut Writer<'w>,
    json: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    /// `"name":` in JSON, ` name=` in text; the message has no name in text.
    fn name(&mut self, field: &Field) -> fmt::Result {
        match (self.json, field.name()) {
            (true, name) => {
                self.w.write_char(',')?;
                quoted(self.w, name)?;
                self.w.write_char(':')
            }
            (false, "message") => self.w.write_char(' '),
            (false, name) => named(self.w, " ", name, "="),
        }
    }

    fn field(&mut self, field: &Field, value: impl FnOnce(&mut Self) -> fmt::Result) {
        // The `log` crate's location fields became the target above.
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        self.result = self.name(field).and_then(|()| value(self));
    }
}

impl Visit for Fields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, |f| {
            if !f.json && field.name() == "message" {
                escaped(f.w, value)
            } else {
                quoted(f.w, value)
            }
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, |f| {
            // Text leaves a message and `%` values unquoted, as `Full` did;
            // JSON has only strings for them.
            if f.json {
                f.w.write_char('"')?;
                write!(Escaping(f.w), "{value:?}")?;
                f.w.write_char('"')
            } else {
                write!(Escaping(f.w), "{value:?}")
            }
        });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |f| write!(f.w, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |f| write!(f.w, "{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |f| write!(f.w, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.field(field, |f| {
            if value.is_finite() {
                write!(f.w, "{value}")
            } else {
                // JSON has no NaN or infinity.
                f.w.write_str(if f.json { "null" } else { "NaN" })
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    #[test]
    fn hundredths_are_what_format_writes() {
        let mut cases: Vec<f64> = (0..200_000u64).map(|n| n as f64 / 100.0).collect();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push((x % 100_000_000_000) as f64 / 100.0);
        }
        cases.extend([0.125, 1.0 / 3.0, -1.5, -0.0, 1e13, 2.5e-3, 1e300]);
        for ms in cases {
            let mut out = String::new();
            hundredths(&mut out, ms).unwrap();
            assert_eq!(out, format!("{ms}"), "{ms:?}");
        }
    }

    fn lines(json: bool, ansi: bool, log: impl FnOnce()) -> String {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-02T07:46:30.123Z").unwrap();
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(buffer.clone())
            .with_ansi(ansi)
            .event_format(LineFormat {
                json,
                clock: Box::new(FixedClock::new(at.into())),
            })
            .finish();
        tracing::subscriber::with_default(subscriber, log);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    fn request_line() {
        let path = "/v1.0/p/kms/encrypt-data";
        tracing::info!(
            request_id = %"abc",
            service = "kms",
            project_id = "",
            %path,
            status = 200u16,
            delta = -3i64,
            latency_ms = 1.25,
            cached = true,
            "request"
        );
    }

    #[test]
    fn a_json_line_is_one_object_with_typed_fields() {
        let text = lines(true, false, request_line);
        assert_eq!(text.lines().count(), 1, "{text}");
        let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(
            line,
            serde_json::json!({
                "timestamp": "2026-12-02T07:46:30.123000Z",
                "level": "INFO",
                "message": "request",
                "request_id": "abc",
                "service": "kms",
                "project_id": "",
                "path": "/v1.0/p/kms/encrypt-data",
                "status": 200,
                "delta": -3,
                "latency_ms": 1.25,
                "cached": true,
                "target": module_path!(),
            })
        );
        assert!(text.starts_with("{\"timestamp\":"), "{text}");
    }

    #[test]
    fn a_text_line_has_time_level_target_message_and_fields() {
        let text = lines(false, false, request_line);
        assert_eq!(
            text,
            format!(
                "2026-12-02T07:46:30.123000Z  INFO {}: request request_id=abc service=\"kms\" \
                 project_id=\"\" path=/v1.0/p/kms/encrypt-data status=200 delta=-3 \
                 latency_ms=1.25 cached=true\n",
                module_path!()
            )
        );
        let coloured = lines(false, true, request_line);
        assert!(coloured.contains(" \x1b[32m INFO\x1b[0m "), "{coloured}");
    }

    /// Whatever a value holds, a line stays one line, and JSON stays JSON.
    #[test]
    fn quotes_backslashes_and_control_characters_are_escaped() {
        let nasty = "a\"b\\c\nd\re\tf\u{1}g é";
        let log = || {
            tracing::warn!(detail = %nasty, name = nasty, "two\nlines {}", 1);
        };
        let json = lines(true, false, log);
        assert_eq!(json.lines().count(), 1, "{json}");
        let line: serde_json::Value = serde_json::from_str(json.trim_end()).unwrap();
        assert_eq!(line["detail"], nasty);
        assert_eq!(line["name"], nasty);
        assert_eq!(line["message"], "two\nlines 1");
        assert_eq!(line["level"], "WARN");
        let text = lines(false, false, log);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            text.contains(r#"WARN "#) && text.contains(r#": two\nlines 1 detail=a\"b\\c\nd\re\tf\u0001g é name="a\"b\\c\nd\re\tf\u0001g é""#),
            "{text}"
        );
    }

    /// The request line written directly is the line the tracing event
    /// gave, byte for byte, in both formats, with and without colours.
    #[test]
    fn the_direct_request_line_is_the_tracing_one() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-02T07:46:30.123Z").unwrap();
        let line = RequestLine {
            request_id: "4f1c",
            service: "kms",
            operation: "EncryptData",
            domain_id: "d\"1",
            project_id: "",
            method: "POST",
            path: "/v1.0/p\n/kms/encrypt-data",
            status: 200,
            latency_ms: 1.25,
        };
        for (json, ansi) in [(false, false), (false, true), (true, false)] {
            let via_tracing = lines(json, ansi, || line.trace());
            let mut direct = String::new();
            line.write(&mut direct, json, ansi, &FixedClock::new(at.into()))
                .unwrap();
            assert_eq!(direct, via_tracing, "json={json} ansi={ansi}");
        }
    }

    #[test]
    fn numbers_json_cannot_hold_are_null() {
        let json = lines(true, false, || tracing::info!(ratio = f64::NAN, "x"));
        let line: serde_json::Value = serde_json::from_str(json.trim_end()).unwrap();
        assert!(line["ratio"].is_null(), "{json}");
    }
}
