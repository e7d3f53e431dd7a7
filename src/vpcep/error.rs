//! Every way a VPCEP call can fail, and the one table mapping each to the
//! cloud's HTTP status and `EndPoint.xxxx` code (see docs/error-codes.md).
//! Bodies are `{"error":{"code","message"}}` as in the API reference.

use crate::common::envelope::Style;
use crate::common::tags::rules::TagRuleError;
use axum::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum VpcepError {
    #[error("Parameter error: {0}")]
    BadBody(String),
    #[error("Parameter error: invalid {0}.")]
    InvalidParameter(&'static str),
    #[error("Parameter error: the description may not contain '<' or '>' and is at most 512 characters.")]
    InvalidDescription,
    #[error("Invalid limit.")]
    InvalidLimit,
    #[error("Invalid action.")]
    InvalidTagAction,
    #[error("Invalid offset.")]
    InvalidOffset,
    #[error("The number of batch operated resources exceeded the limit.")]
    BatchTooLarge,
    #[error("Invalid sort_key.")]
    InvalidSortKey,
    #[error("Invalid sort_dir.")]
    InvalidSortDir,
    #[error("Invalid status.")]
    InvalidStatus,
    #[error("Invalid VPC ID.")]
    InvalidVpcId,
    #[error("Invalid marker_id.")]
    InvalidMarkerId,
    #[error("Invalid subnet_id.")]
    InvalidSubnetId,
    #[error("Quota exceeded.")]
    QuotaExceeded,
    #[error("Invalid route table ID.")]
    InvalidRouteTable,
    #[error("The request input parameter is empty.")]
    EmptyParameter,
    #[error("The endpoint service does not exist.")]
    ServiceNotFound,
    #[error("The endpoint service is unavailable.")]
    ServiceUnavailable,
    #[error("The input parameter subnet ID is empty.")]
    SubnetIdEmpty,
    #[error("The input parameter VPC ID is empty.")]
    VpcIdEmpty,
    #[error("You have no permission to connect to the VPC endpoint service.")]
    NoPermission,
    #[error("The endpoint does not belong to the endpoint service.")]
    NotConnected,
    #[error("Invalid endpoint ID.")]
    InvalidEndpointId,
    #[error("The endpoint is being deleted.")]
    EndpointDeleting,
    #[error("The endpoint is being created.")]
    EndpointCreating,
    #[error("The endpoint service port or protocol is empty.")]
    PortsEmpty,
    #[error("The requested endpoint service ID is empty.")]
    ServiceIdEmpty,
    #[error("Invalid Port IP address.")]
    InvalidPortIp,
    #[error("The Port IP is in use.")]
    PortIpInUse,
    #[error("The Port IP is not valid for the subnet.")]
    PortIpNotInSubnet,
    #[error("Invalid whitelist.")]
    InvalidWhitelist,
    #[error("The maximum number of whitelist records has been reached.")]
    WhitelistLimit,
    #[error("The VPC endpoint in the Failed status cannot be modified.")]
    EndpointFailed,
    #[error("The VPC endpoint policy is invalid.")]
    InvalidPolicy,
    #[error("The VPC endpoint has no policy associated.")]
    NoPolicy,
    #[error("Invalid permission.")]
    InvalidPermission,
    #[error("The endpoint service is being used.")]
    ServiceInUse,
    #[error("Invalid IP address.")]
    InvalidIp,
    #[error("Invalid IP address: {0} is in the range dewstack gives VPC endpoints (127.0.1.1-127.0.255.254); a backend there would forward into another endpoint.")]
    BackendIsEndpointAddress(String),
    #[error("The service port is invalid: {0} is the address of the API itself.")]
    BackendIsApi(String),
    #[error("Invalid serverType.")]
    InvalidServerType,
    #[error("Invalid action.")]
    InvalidAction,
    #[error("Invalid permissions.")]
    PermissionsEmpty,
    #[error("The service port is invalid.")]
    InvalidServicePort,
    #[error("The maximum number of whitelist records has been reached.")]
    PermissionLimit,
    #[error("portId and ip cannot be modified at the same time.")]
    PortIdAndIp,
    #[error("Invalid endpoint service ID.")]
    InvalidServiceId,
    #[error("Invalid port ID.")]
    InvalidPortId,
    #[error("The tag cannot be empty.")]
    TagEmpty,
    #[error("The tag key cannot be duplicated.")]
    TagKeyDuplicated,
    #[error("Tag keys and values should meet relevant requirements.")]
    TagChars,
    #[error("The maximum number of tags has been reached.")]
    TooManyTags,
    #[error("Invalid resource type.")]
    InvalidResourceType,
    #[error("The tag key size is invalid.")]
    TagKeyLength,
    #[error("The tag value size is invalid.")]
    TagValueLength,
    #[error("The maximum of ports has been reached.")]
    TooManyPorts,
    #[error("The protocol is invalid.")]
    InvalidProtocol,
    #[error("Invalid service name.")]
    InvalidServiceName,
    #[error("The requested resource does not exist.")]
    NotFound,
    #[error("The requested endpoint does not exist.")]
    EndpointNotFound,
    #[error("System error. Please retry.")]
    Unavailable,
    #[error("System error. Please retry.")]
    Internal(String),
}

impl VpcepError {
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        use VpcepError::*;
        let bad = StatusCode::BAD_REQUEST;
        match self {
            BadBody(_) | InvalidParameter(_) | InvalidDescription => (bad, "EndPoint.0002"),
            InvalidLimit => (bad, "EndPoint.0006"),
            InvalidTagAction => (bad, "EndPoint.0007"),
            InvalidOffset => (bad, "EndPoint.0010"),
            BatchTooLarge => (bad, "EndPoint.0016"),
            InvalidSortKey => (bad, "EndPoint.0017"),
            InvalidSortDir => (bad, "EndPoint.0018"),
            InvalidStatus => (bad, "EndPoint.0019"),
            InvalidVpcId => (bad, "EndPoint.0020"),
            InvalidMarkerId => (bad, "EndPoint.0021"),
            InvalidSubnetId => (bad, "EndPoint.0023"),
            // The published table spells this one with a lower-case p.
            QuotaExceeded => (bad, "Endpoint.1018"),
            InvalidRouteTable => (bad, "EndPoint.1019"),
            EmptyParameter => (bad, "EndPoint.2002"),
            ServiceNotFound => (bad, "EndPoint.2003"),
            ServiceUnavailable => (bad, "EndPoint.2004"),
            SubnetIdEmpty => (bad, "EndPoint.2010"),
            VpcIdEmpty => (bad, "EndPoint.2011"),
            NoPermission => (bad, "EndPoint.2012"),
            NotConnected => (bad, "EndPoint.2013"),
            InvalidEndpointId => (bad, "EndPoint.2017"),
            EndpointDeleting => (bad, "EndPoint.2018"),
            EndpointCreating => (bad, "EndPoint.2019"),
            PortsEmpty => (bad, "EndPoint.2028"),
            ServiceIdEmpty => (bad, "EndPoint.2029"),
            InvalidPortIp => (bad, "EndPoint.2041"),
            PortIpInUse => (bad, "EndPoint.2042"),
            PortIpNotInSubnet => (bad, "EndPoint.2043"),
            InvalidWhitelist => (bad, "EndPoint.2044"),
            WhitelistLimit => (bad, "EndPoint.2045"),
            EndpointFailed => (bad, "EndPoint.2047"),
            InvalidPolicy => (bad, "EndPoint.2048"),
            NoPolicy => (bad, "EndPoint.2049"),
            InvalidPermission => (bad, "EndPoint.3002"),
            ServiceInUse => (bad, "EndPoint.3006"),
            InvalidIp | BackendIsEndpointAddress(_) => (bad, "EndPoint.3010"),
            InvalidServerType => (bad, "EndPoint.3021"),
            InvalidAction => (bad, "EndPoint.3035"),
            PermissionsEmpty => (bad, "EndPoint.3036"),
            InvalidServicePort | BackendIsApi(_) => (bad, "EndPoint.3043"),
            PermissionLimit => (bad, "EndPoint.3049"),
            PortIdAndIp => (bad, "EndPoint.3052"),
            InvalidServiceId => (bad, "EndPoint.3062"),
            InvalidPortId => (bad, "EndPoint.3063"),
            TagEmpty => (bad, "EndPoint.3066"),
            TagKeyDuplicated => (bad, "EndPoint.3067"),
            TagChars => (bad, "EndPoint.3068"),
            TooManyTags => (bad, "EndPoint.3069"),
            InvalidResourceType => (bad, "EndPoint.3070"),
            TagKeyLength => (bad, "EndPoint.3072"),
            TagValueLength => (bad, "EndPoint.3073"),
            TooManyPorts => (bad, "EndPoint.3074"),
            InvalidProtocol => (bad, "EndPoint.3075"),
            InvalidServiceName => (bad, "EndPoint.3076"),
            NotFound => (StatusCode::NOT_FOUND, "EndPoint.0005"),
            EndpointNotFound => (StatusCode::NOT_FOUND, "EndPoint.2006"),
            Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "EndPoint.0001"),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "EndPoint.0001"),
        }
    }
}

crate::service_error!(VpcepError, Style::Vpcep, bad_body = BadBody);

/// A query string that does not parse; VPCEP reports it like a bad parameter.
impl From<crate::common::query::QueryError> for VpcepError {
    fn from(e: crate::common::query::QueryError) -> Self {
        VpcepError::BadBody(e.0)
    }
}

impl From<TagRuleError> for VpcepError {
    fn from(e: TagRuleError) -> Self {
        match e {
            TagRuleError::EmptyList => VpcepError::TagEmpty,
            TagRuleError::KeyLength => VpcepError::TagKeyLength,
            TagRuleError::ValueLength => VpcepError::TagValueLength,
            TagRuleError::KeyChars | TagRuleError::ValueChars => VpcepError::TagChars,
            TagRuleError::TooMany => VpcepError::TooManyTags,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::common::body::BodyError;
    use crate::common::error::golden::{body_of, logged_detail};
    use crate::store::StoreError;

    #[tokio::test]
    async fn golden_envelopes() {
        let (s, b) = body_of(VpcepError::NotConnected).await;
        assert_eq!(s, 400);
        assert_eq!(
            b,
            serde_json::json!({"error": {"code": "EndPoint.2013",
                "message": "The endpoint does not belong to the endpoint service."}})
        );
        let (s, b) = body_of(VpcepError::EndpointNotFound).await;
        assert_eq!(
            (s, b["error"]["code"].as_str().unwrap()),
            (404, "EndPoint.2006")
        );
        let (s, b) = body_of(VpcepError::QuotaExceeded).await;
        assert_eq!(
            (s, b["error"]["code"].as_str().unwrap()),
            (400, "Endpoint.1018")
        );
        let (s, b) = body_of(VpcepError::BackendIsEndpointAddress("127.0.1.4".into())).await;
        assert_eq!(
            (s, b["error"]["code"].as_str().unwrap()),
            (400, "EndPoint.3010")
        );
        assert!(b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("127.0.1.4"));
        let (s, b) = body_of(VpcepError::BackendIsApi("127.0.0.1:8100".into())).await;
        assert_eq!(
            (s, b["error"]["code"].as_str().unwrap()),
            (400, "EndPoint.3043")
        );
        let (s, b) = body_of(VpcepError::InvalidDescription).await;
        assert_eq!(
            (s, b["error"]["code"].as_str().unwrap()),
            (400, "EndPoint.0002")
        );
    }

    #[tokio::test]
    async fn internal_detail_is_not_shown() {
        let (s, b) = body_of(VpcepError::Internal("secret detail".into())).await;
        assert_eq!(s, 500);
        assert!(!b.to_string().contains("secret detail"));
    }

    #[tokio::test]
    async fn shared_plumbing_golden() {
        assert_eq!(
            logged_detail(VpcepError::Internal("secret detail".into())).as_deref(),
            Some("secret detail")
        );
        let (s, b) = body_of(VpcepError::from(StoreError::Unavailable("x".into()))).await;
        assert_eq!(
            b,
            serde_json::json!({"error": {"code": "EndPoint.0001",
                "message": "System error. Please retry."}})
        );
        assert_eq!(s, 503);
        let (s, b) = body_of(VpcepError::from(StoreError::Backend("x".into()))).await;
        assert_eq!(
            (s, b),
            (
                500,
                serde_json::json!({"error": {"code": "EndPoint.0001",
                "message": "Internal error. Please retry later."}})
            )
        );
        let (s, b) = body_of(VpcepError::from(BodyError("EOF".into()))).await;
        assert_eq!(
            (s, b),
            (
                400,
                serde_json::json!({"error": {"code": "EndPoint.0002",
                "message": "Parameter error: EOF"}})
            )
        );
        let (s, b) = body_of(VpcepError::from(TagRuleError::KeyChars)).await;
        assert_eq!(
            (s, b["error"]["code"].as_str().unwrap()),
            (400, "EndPoint.3068")
        );
    }
}
