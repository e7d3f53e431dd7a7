//! JSON bodies whose rejections speak the service's own error envelope.

use axum::extract::{FromRequest, Request};
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// Why a body could not be read; each service maps it to its own code.
#[derive(Debug, Clone)]
pub struct BodyError(pub String);

pub struct Body<T, E>(pub T, pub PhantomData<E>);

/// The body exactly as the authentication middleware read it (and, for an
/// AK/SK request, as its signature covers it), so that the layers after it
/// and the handler's extractor share one buffer instead of collecting the
/// body again (that was 2 % of a hot path's CPU).
#[derive(Debug, Clone)]
pub struct ReadBody(pub axum::body::Bytes);

/// Set by the authentication middleware on a request whose signature does not
/// cover its body (`UNSIGNED-PAYLOAD`): every dewstack operation takes JSON,
/// and a JSON body nobody signed is refused.
#[derive(Debug, Clone, Copy)]
pub struct UnsignedPayload;

impl<S, T, E> FromRequest<S> for Body<T, E>
where
    S: Send + Sync,
    T: DeserializeOwned,
    E: From<BodyError> + IntoResponse,
{
    type Rejection = E;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if req.extensions().get::<UnsignedPayload>().is_some() {
            return Err(E::from(BodyError(
                "Invalid request body: a JSON body must be signed (UNSIGNED-PAYLOAD is not accepted)"
                    .to_owned(),
            )));
        }
        let bytes = match req.extensions().get::<ReadBody>() {
            Some(ReadBody(bytes)) => bytes.clone(),
            None => axum::body::Bytes::from_request(req, state)
                .await
                .map_err(|e| E::from(BodyError(format!("cannot read request body: {e}"))))?,
        };
        // The SDK always sends a body for operations that have one; an empty
        // body is read as `{}` so that missing required fields get a field error.
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes)
            .map(|v| Body(v, PhantomData))
            .map_err(|e| E::from(BodyError(describe(&e))))
    }
}

// serde's type errors quote the offending value (`invalid type: integer
// `123`, expected a string`), and that value may be a secret: only messages
// that name no input (syntax, end of input, missing fields) are passed on.
fn describe(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text.split(" at line").next().unwrap_or(&text);
    let names_no_input = e.is_syntax()
        || e.is_eof()
        || text.starts_with("missing field")
        || text.starts_with("duplicate field");
    if names_no_input {
        format!("Invalid request body: {text}")
    } else {
        "Invalid request body: a field has the wrong type or value".to_owned()
    }
}

/// Accepts `"7"` or `7` for fields the SDK types as strings but users send as numbers.
pub mod string_or_number {
    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        I(i64),
        U(u64),
        F(f64),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Option::<Raw>::deserialize(d)?.map(|raw| match raw {
            Raw::S(s) => s,
            Raw::I(i) => i.to_string(),
            Raw::U(u) => u.to_string(),
            Raw::F(f) => f.to_string(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Secretish {
        plain_text: String,
        limit: Option<u32>,
    }

    fn message(json: &str) -> String {
        describe(&serde_json::from_str::<Secretish>(json).unwrap_err())
    }

    #[test]
    fn wrong_values_are_not_echoed() {
        let m = message(r#"{"plain_text": 918273645}"#);
        assert!(!m.contains("918273645"), "{m}");
        let m = message(r#"{"plain_text": "x", "limit": "s3cr3t-value"}"#);
        assert!(!m.contains("s3cr3t"), "{m}");
    }

    #[test]
    fn harmless_messages_stay_useful() {
        assert!(message(r#"{"limit": 1}"#).contains("missing field `plain_text`"));
        assert!(message(r#"{"plain_text": "#).starts_with("Invalid request body: EOF"));
        assert!(message("{nope").contains("key must be a string"));
    }
}
