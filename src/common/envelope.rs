//! The error bodies each service speaks. KMS and CSMS wrap
//! `{"error_code","error_msg"}` in `"error"`; VPCEP and IAM have their own
//! shapes; the API gateway in front of them answers flat (`gateway`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// KMS and CSMS: `{"error":{"error_code":..,"error_msg":..}}`
    Dew,
    /// VPCEP: `{"error":{"code":..,"message":..}}`
    Vpcep,
    /// IAM (Keystone): `{"error":{"code":401,"title":..,"message":..}}`
    Keystone,
}

/// Detail of an internal failure, attached to the response so that the
/// request-logging middleware can log it; the client never sees it.
#[derive(Clone, Debug)]
pub struct InternalDetail(pub String);

pub fn render(style: Style, status: StatusCode, code: &str, message: &str) -> Response {
    let body = match style {
        Style::Dew => json!({"error": {"error_code": code, "error_msg": message}}),
        Style::Vpcep => json!({"error": {"code": code, "message": message}}),
        Style::Keystone => json!({"error": {
            "code": status.as_u16(),
            "title": status.canonical_reason().unwrap_or("Error"),
            "message": message,
        }}),
    };
    (status, super::json::Json(body)).into_response()
}

/// The id `server::request_id` gives each request (in its extensions);
/// gateway refusals repeat it in their body.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// What the cloud's API gateway answers when it refuses a request before the
/// service sees it (APIGW.* codes), whatever the service: a flat body, as
/// recorded from the real KMS in Cloud Custodian's `kms_query` flight:
/// `{"error_msg":..,"error_code":"APIGW.0301","request_id":..}`.
pub fn gateway(status: StatusCode, code: &str, message: &str, request_id: &str) -> Response {
    let body = json!({"error_msg": message, "error_code": code, "request_id": request_id});
    (status, super::json::Json(body)).into_response()
}

/// A 500 whose cause goes to the log, not to the client.
pub fn internal(style: Style, code: &str, detail: String) -> Response {
    let mut response = render(
        style,
        StatusCode::INTERNAL_SERVER_ERROR,
        code,
        "Internal error. Please retry later.",
    );
    response.extensions_mut().insert(InternalDetail(detail));
    response
}
