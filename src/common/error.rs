//! The plumbing every service error shares: rendering in the service's
//! envelope, internal failures kept out of the body, storage failures mapped
//! to `Unavailable`/`Internal`. A service's `error.rs` keeps its variants and
//! its code table and calls [`service_error!`](crate::service_error) once.

use crate::common::envelope::{self, Style};
use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::Response;

/// What the shared plumbing needs to know about a service's error enum.
/// [`service_error!`](crate::service_error) writes this impl; the service
/// writes only `status_and_code` (its code table) as an inherent method.
pub trait ServiceError: std::fmt::Display + Sized {
    /// The envelope the service's errors are rendered in.
    const STYLE: Style;

    /// HTTP status and cloud error code of this error.
    fn status_and_code(&self) -> (StatusCode, &'static str);

    /// The storage backend cannot be reached (a 503 the client may retry).
    fn unavailable() -> Self;

    /// An internal failure; `detail` is logged, never shown.
    fn internal(detail: String) -> Self;

    /// The detail of an internal failure, or the error itself when it is not one.
    fn into_internal_detail(self) -> Result<String, Self>;

    /// The response: the envelope with the error's own message, or for an
    /// internal failure a generic message plus an [`envelope::InternalDetail`]
    /// extension for the request log.
    fn render(self) -> Response {
        let (status, code) = self.status_and_code();
        match self.into_internal_detail() {
            Ok(detail) => envelope::internal(Self::STYLE, code, detail),
            Err(other) => envelope::render(Self::STYLE, status, code, &other.to_string()),
        }
    }

    /// A storage failure as the service reports it.
    fn from_store(e: StoreError) -> Self {
        crate::ops::metrics::metrics().storage_error(match &e {
            StoreError::Unavailable(_) => "unavailable",
            StoreError::Backend(_) => "backend",
            StoreError::Corrupt { .. } => "corrupt",
        });
        match e {
            StoreError::Unavailable(_) => Self::unavailable(),
            other => Self::internal(other.to_string()),
        }
    }
}

/// Implements [`ServiceError`], `IntoResponse` and `From<StoreError>` (and,
/// with `bad_body = Variant`, `From<BodyError>` carrying the body error's
/// text) for a service error enum that has `Unavailable` and
/// `Internal(String)` variants and an inherent `status_and_code`.
///
/// ```text
/// crate::service_error!(KmsError, Style::Dew, bad_body = BadBody);
/// ```
#[macro_export]
macro_rules! service_error {
    ($ty:ident, $style:expr) => {
        impl $crate::common::error::ServiceError for $ty {
            const STYLE: $crate::common::envelope::Style = $style;

            fn status_and_code(&self) -> (::axum::http::StatusCode, &'static str) {
                $ty::status_and_code(self)
            }

            fn unavailable() -> Self {
                $ty::Unavailable
            }

            fn internal(detail: String) -> Self {
                $ty::Internal(detail)
            }

            fn into_internal_detail(self) -> Result<String, Self> {
                match self {
                    $ty::Internal(detail) => Ok(detail),
                    other => Err(other),
                }
            }
        }

        impl ::axum::response::IntoResponse for $ty {
            fn into_response(self) -> ::axum::response::Response {
                $crate::common::error::ServiceError::render(self)
            }
        }

        impl From<$crate::store::StoreError> for $ty {
            fn from(e: $crate::store::StoreError) -> Self {
                $crate::common::error::ServiceError::from_store(e)
            }
        }
    };
    ($ty:ident, $style:expr, bad_body = $variant:ident) => {
        $crate::service_error!($ty, $style);

        impl From<$crate::common::body::BodyError> for $ty {
            fn from(e: $crate::common::body::BodyError) -> Self {
                $ty::$variant(e.0)
            }
        }
    };
}

#[cfg(test)]
pub mod golden {
    //! Helpers for the golden code/envelope tests of every service.
    #![allow(clippy::unwrap_used)]
    use crate::common::envelope::InternalDetail;
    use axum::response::IntoResponse;

    /// Status and JSON body of an error's response.
    pub async fn body_of(e: impl IntoResponse) -> (u16, serde_json::Value) {
        let r = e.into_response();
        let status = r.status().as_u16();
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    /// The detail an internal error leaves for the request log.
    pub fn logged_detail(e: impl IntoResponse) -> Option<String> {
        let r = e.into_response();
        r.extensions().get::<InternalDetail>().map(|d| d.0.clone())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::golden::{body_of, logged_detail};
    use crate::common::body::BodyError;
    use crate::common::envelope::Style;
    use crate::store::StoreError;
    use axum::http::StatusCode;

    #[derive(Debug, thiserror::Error)]
    enum DemoError {
        #[error("bad: {0}")]
        BadBody(String),
        #[error("down")]
        Unavailable,
        #[error("demo error")]
        Internal(String),
    }

    impl DemoError {
        fn status_and_code(&self) -> (StatusCode, &'static str) {
            match self {
                DemoError::BadBody(_) => (StatusCode::BAD_REQUEST, "DEMO.1"),
                DemoError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "DEMO.2"),
                DemoError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "DEMO.3"),
            }
        }
    }

    crate::service_error!(DemoError, Style::Vpcep, bad_body = BadBody);

    #[tokio::test]
    async fn renders_in_the_service_style() {
        let (s, b) = body_of(DemoError::from(BodyError("x".into()))).await;
        assert_eq!(s, 400);
        assert_eq!(
            b,
            serde_json::json!({"error": {"code": "DEMO.1", "message": "bad: x"}})
        );
        assert_eq!(logged_detail(DemoError::BadBody("x".into())), None);
    }

    #[tokio::test]
    async fn internal_detail_goes_to_the_log_only() {
        let (s, b) = body_of(DemoError::Internal("secret detail".into())).await;
        assert_eq!(s, 500);
        assert_eq!(
            b,
            serde_json::json!({"error": {"code": "DEMO.3",
                "message": "Internal error. Please retry later."}})
        );
        assert_eq!(
            logged_detail(DemoError::Internal("secret detail".into())).as_deref(),
            Some("secret detail")
        );
    }

    #[tokio::test]
    async fn store_errors_become_unavailable_or_internal() {
        let e = DemoError::from(StoreError::Unavailable("gone".into()));
        assert!(matches!(e, DemoError::Unavailable));
        assert_eq!(body_of(e).await.0, 503);
        let e = DemoError::from(StoreError::Backend("boom".into()));
        assert!(matches!(&e, DemoError::Internal(d) if d == "database error: boom"));
    }
}
