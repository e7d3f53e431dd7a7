//! `Json`, the answer of every handler, and [`write`], the one JSON writer
//! of answers and audit records. axum's `Json` serializes into a 128-byte
//! buffer that grows by doubling, so a typical answer (0.5–2 KB: a
//! ciphertext, a key's details, a secret version) was reallocated and copied
//! three or four times; in profiles that was 3 % of a hot path's CPU. This
//! one starts with room for such an answer. Same headers, same bytes.
//!
//! "Room" counts as sonic-rs does: before it escapes a string it reserves
//! six bytes per byte of it (the worst case, every byte a `\u00XX`), so a
//! 1 KiB plaintext or secret value needs 6 KiB free at that point, not 1.

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Room for the usual answer, so that it is written once: a string of up to
/// ~2 KB (a 1 KiB plaintext's ciphertext) fits sonic-rs's reserve. 12 KiB is
/// still one of jemalloc's small size classes, as cheap to get as 2 KiB.
pub const INITIAL: usize = 12 * 1024;

#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut buf = Vec::with_capacity(INITIAL);
        match write(&mut buf, &self.0) {
            Ok(()) => (
                [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                buf,
            )
                .into_response(),
            // As axum's does; no wire type of dewstack fails to serialize.
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                )],
                e.to_string(),
            )
                .into_response(),
        }
    }
}

/// Appends `value` as compact JSON to `buf`: byte for byte what
/// `serde_json::to_writer` writes (a test below holds it to that), through
/// sonic-rs, whose string escaping scans 16 bytes at a step where
/// serde_json's looks each byte up in a table. The strings of a hot path's
/// answer (ciphertexts, plaintexts, secret values) are most of its bytes.
pub fn write<T: Serialize + ?Sized>(buf: &mut Vec<u8>, value: &T) -> Result<(), sonic_rs::Error> {
    sonic_rs::to_writer(buf, value)
}

/// [`write`] into a new `String`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, sonic_rs::Error> {
    sonic_rs::to_string(value)
}

/// Bytes as the text of a JSON string field (a plaintext, a secret value):
/// themselves when they are UTF-8, as nearly all are, else with each bad
/// sequence replaced by U+FFFD. The UTF-8 check alone is several times
/// cheaper than `from_utf8_lossy`'s walk, which was 1 % of DecryptData.
pub fn lossy_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Arbitrary JSON for property tests: every kind of leaf, strings drawn
/// from `text`, objects keyed by `names`, up to four levels deep.
#[cfg(test)]
pub fn arbitrary(
    names: proptest::strategy::BoxedStrategy<String>,
    text: proptest::strategy::BoxedStrategy<String>,
) -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text.prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((names.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lossy_text_is_from_utf8_lossy() {
        let cases: [&[u8]; 5] = [
            b"plain",
            b"",
            "\u{e9}t\u{e9}".as_bytes(),
            b"a\xffb\xc3",
            b"\xed\xa0\x80",
        ];
        for bytes in cases {
            assert_eq!(lossy_text(bytes), String::from_utf8_lossy(bytes));
        }
    }

    fn value() -> impl Strategy<Value = serde_json::Value> {
        arbitrary(
            any::<String>().boxed(),
            prop_oneof![
                any::<String>(),
                // ASCII with every escape JSON has, in runs around 16 bytes.
                "[\\x00-\\x7f]{0,40}",
            ]
            .boxed(),
        )
    }

    proptest! {
        #[test]
        fn writes_what_serde_json_writes(v in value()) {
            let mut ours = Vec::new();
            write(&mut ours, &v).unwrap();
            prop_assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(&v).unwrap());
            prop_assert_eq!(to_string(&v).unwrap(), serde_json::to_string(&v).unwrap());
        }
    }

    /// Derived `Serialize` of wire types (options skipped, renamed fields,
    /// enums) and every control character, as `write` sees them.
    #[test]
    fn wire_types_and_escapes_are_what_serde_json_writes() {
        #[derive(Serialize)]
        enum State {
            #[serde(rename = "2")]
            Enabled,
        }
        #[derive(Serialize)]
        struct Answer<'a> {
            key_id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            absent: Option<u32>,
            present: Option<u32>,
            key_state: State,
            tags: Vec<(&'a str, i64)>,
            ratio: f32,
        }
        let every_char: String = (0u32..0x800).filter_map(char::from_u32).collect();
        let answer = Answer {
            key_id: &every_char,
            absent: None,
            present: None,
            key_state: State::Enabled,
            tags: vec![("a\"b\\c\u{7f}", -1)],
            ratio: 0.1,
        };
        let mut ours = Vec::new();
        write(&mut ours, &answer).unwrap();
        assert_eq!(ours, serde_json::to_vec(&answer).unwrap());
    }

    #[tokio::test]
    async fn answers_what_axum_json_answers() {
        let value = serde_json::json!({"key_id": "k", "cipher_text": "A".repeat(3000)});
        let ours = Json(value.clone()).into_response();
        let theirs = axum::Json(value).into_response();
        assert_eq!(ours.status(), theirs.status());
        assert_eq!(ours.headers(), theirs.headers());
        let ours = axum::body::to_bytes(ours.into_body(), 1 << 16)
            .await
            .unwrap();
        let theirs = axum::body::to_bytes(theirs.into_body(), 1 << 16)
            .await
            .unwrap();
        assert_eq!(ours, theirs);
    }
}
