//! `Json`, the answer of every handler. axum's own serializes into a
//! 128-byte buffer that grows by doubling, so a typical answer (0.5–2 KB: a
//! ciphertext, a key's details, a secret version) was reallocated and copied
//! three or four times; in profiles that was 3 % of a hot path's CPU. This
//! one starts with room for such an answer. Same headers, same bytes.

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Room for the usual answer, so that it is written once.
const INITIAL: usize = 2048;

#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut buf = Vec::with_capacity(INITIAL);
        match serde_json::to_writer(&mut buf, &self.0) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
