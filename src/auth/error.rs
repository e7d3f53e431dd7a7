//! Authentication failures, rendered in the envelope of the service that was called.

use crate::common::envelope::{self, Style};
use axum::http::StatusCode;
use axum::response::Response;

/// Which API surface a request reached; decides envelope and codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Kms,
    Csms,
    Vpcep,
    Iam,
}

impl Service {
    /// The `service` label of metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            Service::Kms => "kms",
            Service::Csms => "csms",
            Service::Vpcep => "vpcep",
            Service::Iam => "iam",
        }
    }

    pub fn style(self) -> Style {
        match self {
            Service::Kms | Service::Csms => Style::Dew,
            Service::Vpcep => Style::Vpcep,
            Service::Iam => Style::Keystone,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Incorrect IAM authentication information: x-auth-token not found")]
    Missing,
    #[error("Incorrect IAM authentication information: {0}")]
    Signature(#[from] super::sig::SigError),
    #[error("Incorrect IAM authentication information: decrypt token fail")]
    BadToken,
    #[error("Incorrect IAM authentication information: token expires")]
    ExpiredToken,
    #[error("The request body is too large")]
    TooLarge,
    /// The body did not arrive within `body_read_timeout_secs`.
    #[error("The request body was not received in time")]
    SlowBody,
    #[error("The project in the request URL does not belong to the credentials used")]
    ForeignProject,
    /// The store could not say whether an access key exists (rotated keys live there).
    #[error("The authentication service is unavailable, retry later")]
    Unavailable,
}

impl AuthError {
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::ForeignProject => StatusCode::FORBIDDEN,
            AuthError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AuthError::SlowBody => StatusCode::REQUEST_TIMEOUT,
            AuthError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The cloud answers credential problems from its API gateway (APIGW.*)
    /// and project mismatches from the service itself.
    pub fn code(&self, service: Service) -> &'static str {
        match (self, service) {
            (AuthError::ForeignProject, Service::Kms) => "KMS.0321",
            // dewstack's own code: CSMS publishes none for this, and
            // CSMS.0004 (which answered it before) means a malformed body.
            (AuthError::ForeignProject, Service::Csms) => "CSMS.9006",
            (AuthError::ForeignProject, Service::Vpcep) => "EndPoint.0004",
            (AuthError::ForeignProject, Service::Iam) => "IAM.0003",
            // dewstack's choice: the cloud documents no code for a stalled
            // body; APIGW.0201 is its gateway's family for malformed requests.
            (AuthError::TooLarge | AuthError::SlowBody, _) => "APIGW.0201",
            // dewstack's choice: the gateway's family for a backend that cannot answer.
            (AuthError::Unavailable, _) => "APIGW.0203",
            _ => "APIGW.0301",
        }
    }

    /// The `reason` label of `dewstack_auth_failures_total` (a closed set).
    pub fn reason(&self) -> &'static str {
        use super::sig::SigError as S;
        match self {
            AuthError::Missing => "missing_credentials",
            AuthError::Signature(e) => match e {
                S::Malformed => "malformed_authorization",
                S::UnsupportedAlgorithm => "unsupported_algorithm",
                S::MissingSignedHeader | S::AbsentHeader => "missing_signed_header",
                S::BadDate => "bad_date",
                S::Skewed => "skewed_date",
                S::BadScope => "bad_scope",
                S::BadPath | S::BadQuery => "unsignable_request",
                S::Mismatch => "signature_mismatch",
            },
            AuthError::BadToken => "invalid_token",
            AuthError::ExpiredToken => "expired_token",
            AuthError::TooLarge => "body_too_large",
            AuthError::SlowBody => "slow_body",
            AuthError::ForeignProject => "foreign_project",
            AuthError::Unavailable => "unavailable",
        }
    }

    /// Gateway refusals (APIGW.*) in the gateway's flat body, with the
    /// request's id; the rest in the service's envelope. IAM keeps its
    /// Keystone shape, which the SDKs' token exchange reads.
    pub fn render(&self, service: Service, request_id: &str) -> Response {
        let code = self.code(service);
        if code.starts_with("APIGW.") && service != Service::Iam {
            return envelope::gateway(self.status(), code, &self.to_string(), request_id);
        }
        envelope::render(service.style(), self.status(), code, &self.to_string())
    }
}
