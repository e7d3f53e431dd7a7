//! Query strings whose rejections speak the service's own error envelope.
//!
//! axum's own `Query` answers a malformed query string (a repeated key, a
//! value of the wrong type) with a plain-text 400 that no SDK can parse. The
//! SDKs never repeat a query key (no operation in the catalog takes a list in
//! its query), so a repeated key is refused, in the service's envelope.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// Why a query string could not be read; each service maps it to its own code.
#[derive(Debug, Clone)]
pub struct QueryError(pub String);

pub struct Query<T, E>(pub T, pub PhantomData<E>);

impl<S, T, E> FromRequestParts<S> for Query<T, E>
where
    S: Send + Sync,
    T: DeserializeOwned,
    E: From<QueryError> + IntoResponse,
{
    type Rejection = E;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parse(parts.uri.query().unwrap_or_default())
            .map(|v| Query(v, PhantomData))
            .map_err(E::from)
    }
}

/// The query string into `T`. Messages name a parameter, never its value
/// (a value may be anything the caller typed).
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, QueryError> {
    serde_urlencoded::from_str(query).map_err(|e| {
        let text = e.to_string();
        let names_no_input = ["duplicate field", "missing field", "unknown field"]
            .iter()
            .any(|p| text.starts_with(p));
        QueryError(if names_no_input {
            format!("Invalid query string: {text}")
        } else {
            "Invalid query string: a parameter has the wrong type or value".to_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Paging {
        limit: Option<String>,
        offset: Option<u32>,
    }

    #[test]
    fn a_repeated_key_is_refused_by_name() {
        let e = parse::<Paging>("limit=1&limit=2").unwrap_err();
        assert_eq!(e.0, "Invalid query string: duplicate field `limit`");
    }

    #[test]
    fn wrong_values_are_not_echoed() {
        let e = parse::<Paging>("offset=s3cr3t").unwrap_err();
        assert!(!e.0.contains("s3cr3t"), "{}", e.0);
    }

    #[test]
    fn good_queries_parse() {
        let p = parse::<Paging>("limit=5&offset=2&other=x").unwrap();
        assert_eq!((p.limit.as_deref(), p.offset), (Some("5"), Some(2)));
        assert!(parse::<Paging>("").is_ok());
    }
}
