//! How dewstack's own endpoints refuse, in the API gateway's envelope
//! (`{"error":{"error_code","error_msg"}}`). The codes are dewstack's
//! choice, taken from the gateway's published table (docs/error-codes.md 4a).

use crate::common::envelope::{render, Style};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("Incorrect authentication information: /metrics needs `Authorization: Bearer <metrics token>`")]
    MetricsToken,
    #[error("The IP address is not authorized to access the API: /metrics answers loopback clients only unless a metrics token or listener is configured")]
    MetricsNotLoopback,
    #[error("The API does not exist or has not been published in the environment")]
    MetricsElsewhere,
    #[error("API access denied: the dev clock is off; start dewstack with --dev-clock (DEWSTACK_DEV_CLOCK=1, or dev_clock = true in the config file) to use /_dewstack/clock")]
    DevClockOff,
    #[error("The IAM user is not authorized to access the API: only the root identity may move the dev clock")]
    NotRoot,
    #[error("API request error: {0}")]
    BadRequest(String),
}

impl OpsError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            OpsError::MetricsToken => (StatusCode::UNAUTHORIZED, "APIGW.0305"),
            OpsError::MetricsNotLoopback => (StatusCode::FORBIDDEN, "APIGW.0402"),
            OpsError::MetricsElsewhere => (StatusCode::NOT_FOUND, "APIGW.0101"),
            OpsError::DevClockOff => (StatusCode::FORBIDDEN, "APIGW.0306"),
            OpsError::NotRoot => (StatusCode::FORBIDDEN, "APIGW.0302"),
            OpsError::BadRequest(_) => (StatusCode::BAD_REQUEST, "APIGW.0201"),
        }
    }
}

impl IntoResponse for OpsError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let mut response = render(Style::Dew, status, code, &self.to_string());
        if matches!(self, OpsError::MetricsToken) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
