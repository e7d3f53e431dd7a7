//! VPCEP rules with no I/O: the endpoint connection state machine, and the
//! validation of identifiers, names, descriptions, port mappings and list
//! queries. Permissions are in `permission.rs`, address pools in `pool.rs`.

use super::error::VpcepError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Endpoint services per project (the cloud's default quota).
pub const SERVICE_QUOTA: usize = 20;
/// Endpoints per project (the cloud's default quota).
pub const ENDPOINT_QUOTA: usize = 50;
/// Whitelist entries per endpoint service.
pub const PERMISSION_QUOTA: usize = 50;

/// Connection states of an endpoint, as the API spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndpointStatus {
    Creating,
    PendingAcceptance,
    Accepted,
    Rejected,
    Failed,
    Deleting,
}

pub const ALL_STATUSES: [EndpointStatus; 6] = [
    EndpointStatus::Creating,
    EndpointStatus::PendingAcceptance,
    EndpointStatus::Accepted,
    EndpointStatus::Rejected,
    EndpointStatus::Failed,
    EndpointStatus::Deleting,
];

impl EndpointStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointStatus::Creating => "creating",
            EndpointStatus::PendingAcceptance => "pendingAcceptance",
            EndpointStatus::Accepted => "accepted",
            EndpointStatus::Rejected => "rejected",
            EndpointStatus::Failed => "failed",
            EndpointStatus::Deleting => "deleting",
        }
    }

    pub fn parse_filter(raw: &str) -> Result<Self, VpcepError> {
        ALL_STATUSES
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or(VpcepError::InvalidStatus)
    }

    /// Where a new endpoint settles once created.
    pub fn initial(approval_enabled: bool) -> Self {
        if approval_enabled {
            EndpointStatus::PendingAcceptance
        } else {
            EndpointStatus::Accepted
        }
    }

    /// Counted in `connection_count` and holding a quota-relevant connection.
    pub fn is_live(self) -> bool {
        matches!(self, EndpointStatus::Creating | EndpointStatus::Accepted)
    }

    fn check_settled(self) -> Result<(), VpcepError> {
        match self {
            EndpointStatus::Creating => Err(VpcepError::EndpointCreating),
            EndpointStatus::Deleting => Err(VpcepError::EndpointDeleting),
            EndpointStatus::Failed => Err(VpcepError::EndpointFailed),
            _ => Ok(()),
        }
    }

    /// The provider accepts a connection (`receive`); accepting an accepted
    /// connection changes nothing.
    pub fn accept(self) -> Result<Self, VpcepError> {
        self.check_settled()?;
        Ok(EndpointStatus::Accepted)
    }

    /// The provider rejects a connection; rejecting twice changes nothing.
    pub fn reject(self) -> Result<Self, VpcepError> {
        self.check_settled()?;
        Ok(EndpointStatus::Rejected)
    }
}

/// `receive` or `reject` of AcceptOrRejectEndpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionAction {
    Receive,
    Reject,
}

impl ConnectionAction {
    pub fn parse(raw: Option<&str>) -> Result<Self, VpcepError> {
        match raw {
            Some("receive") => Ok(ConnectionAction::Receive),
            Some("reject") => Ok(ConnectionAction::Reject),
            _ => Err(VpcepError::InvalidAction),
        }
    }

    pub fn apply(self, status: EndpointStatus) -> Result<EndpointStatus, VpcepError> {
        match self {
            ConnectionAction::Receive => status.accept(),
            ConnectionAction::Reject => status.reject(),
        }
    }
}

/// Lower-case canonical UUID text (8-4-4-4-12 hex digits), or `err`.
pub fn parse_uuid(raw: Option<&str>, err: VpcepError) -> Result<String, VpcepError> {
    let raw = raw.map(str::trim).unwrap_or_default();
    let groups: Vec<&str> = raw.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip(lens)
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(raw.to_ascii_lowercase())
    } else {
        Err(err)
    }
}

/// A UUID that must be present: `empty` when missing, `invalid` when malformed.
pub fn parse_required_uuid(
    raw: Option<&str>,
    empty: VpcepError,
    invalid: VpcepError,
) -> Result<String, VpcepError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Err(empty),
        Some(v) => parse_uuid(Some(v), invalid),
    }
}

pub const MAX_DESCRIPTION_CHARS: usize = 512;

/// Descriptions: any text up to 512 characters without `<` or `>`.
pub fn parse_description(raw: Option<&str>) -> Result<String, VpcepError> {
    let text = raw.unwrap_or_default();
    if text.chars().count() > MAX_DESCRIPTION_CHARS || text.contains(['<', '>']) {
        return Err(VpcepError::InvalidDescription);
    }
    Ok(text.to_owned())
}

/// A service name as given: at most 16 letters, digits, `_` or `-`; may be empty.
pub fn parse_service_name(raw: Option<&str>) -> Result<String, VpcepError> {
    let name = raw.unwrap_or_default();
    let ok = name.chars().count() <= 16
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(name.to_owned())
    } else {
        Err(VpcepError::InvalidServiceName)
    }
}

/// The stored and reported name: `region.name.id`, or `region.id` without a name.
pub fn full_service_name(region: &str, name: &str, id: &str) -> String {
    if name.is_empty() {
        format!("{region}.{id}")
    } else {
        format!("{region}.{name}.{id}")
    }
}

pub fn parse_server_type(raw: Option<&str>) -> Result<String, VpcepError> {
    match raw {
        Some(t @ ("VM" | "VIP" | "LB")) => Ok(t.to_owned()),
        _ => Err(VpcepError::InvalidServerType),
    }
}

/// `interface` (the default) or `gateway`.
pub fn parse_service_type(raw: Option<&str>) -> Result<String, VpcepError> {
    match raw.unwrap_or("interface") {
        t @ ("interface" | "gateway") => Ok(t.to_owned()),
        _ => Err(VpcepError::InvalidParameter("service_type")),
    }
}

pub fn parse_tcp_proxy(raw: Option<&str>) -> Result<String, VpcepError> {
    match raw.unwrap_or("close") {
        t @ ("close" | "toa_open" | "proxy_open" | "open" | "TCP" | "Proxy") => Ok(t.to_owned()),
        _ => Err(VpcepError::InvalidParameter("tcp_proxy")),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMapping {
    pub client_port: u16,
    pub server_port: u16,
    pub protocol: String,
}

/// The cloud takes at most 200 mappings per request.
pub const MAX_PORTS: usize = 200;

/// Port mappings: 1–200 of them, ports 1–65535, protocol TCP, no client
/// port twice (it is what identifies a mapping on the endpoint side).
pub fn parse_ports(
    raw: &[(Option<i64>, Option<i64>, Option<String>)],
) -> Result<Vec<PortMapping>, VpcepError> {
    if raw.is_empty() {
        return Err(VpcepError::PortsEmpty);
    }
    if raw.len() > MAX_PORTS {
        return Err(VpcepError::TooManyPorts);
    }
    let port = |p: Option<i64>| -> Result<u16, VpcepError> {
        p.filter(|p| (1..=65535).contains(p))
            .and_then(|p| u16::try_from(p).ok())
            .ok_or(VpcepError::InvalidServicePort)
    };
    let mut out: Vec<PortMapping> = Vec::new();
    for (client, server, protocol) in raw {
        let protocol = protocol.as_deref().unwrap_or("TCP");
        if protocol != "TCP" {
            return Err(VpcepError::InvalidProtocol);
        }
        let mapping = PortMapping {
            client_port: port(*client)?,
            server_port: port(*server)?,
            protocol: protocol.to_owned(),
        };
        if out.iter().any(|m| m.client_port == mapping.client_port) {
            return Err(VpcepError::InvalidServicePort);
        }
        out.push(mapping);
    }
    Ok(out)
}

/// The service `ip`: an IPv4 address or a domain name (letters, digits, `-`, `.`).
pub fn parse_service_ip(raw: Option<&str>) -> Result<Option<String>, VpcepError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(ip) if ip.parse::<std::net::Ipv4Addr>().is_ok() => Ok(Some(ip.to_owned())),
        Some(host)
            if host.len() <= 253
                && host.split('.').all(|l| {
                    !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
                && host.chars().any(|c| c.is_ascii_alphabetic()) =>
        {
            Ok(Some(host.to_ascii_lowercase()))
        }
        Some(_) => Err(VpcepError::InvalidIp),
    }
}

/// Timestamps as the API prints them: `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `limit`, `offset`, `sort_key`, `sort_dir` of the list operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub limit: usize,
    pub offset: usize,
    pub by_update: bool,
    pub ascending: bool,
}

impl ListQuery {
    /// `max_limit` is 1000 for most lists, 500 for permissions; 0 means the default 10.
    pub fn parse(
        limit: Option<&str>,
        offset: Option<&str>,
        sort_key: Option<&str>,
        sort_dir: Option<&str>,
        max_limit: usize,
    ) -> Result<Self, VpcepError> {
        let limit = match limit.map(str::trim).filter(|s| !s.is_empty()) {
            None => 10,
            Some(t) => match t.parse::<usize>() {
                Ok(0) => 10,
                Ok(n) if n <= max_limit => n,
                _ => return Err(VpcepError::InvalidLimit),
            },
        };
        let offset = match offset.map(str::trim).filter(|s| !s.is_empty()) {
            None => 0,
            Some(t) => t.parse::<usize>().map_err(|_| VpcepError::InvalidOffset)?,
        };
        let by_update = match sort_key.unwrap_or("create_at") {
            "create_at" | "created_at" => false,
            "update_at" | "updated_at" => true,
            _ => return Err(VpcepError::InvalidSortKey),
        };
        let ascending = match sort_dir.unwrap_or("desc") {
            "desc" => false,
            "asc" => true,
            _ => return Err(VpcepError::InvalidSortDir),
        };
        Ok(Self {
            limit,
            offset,
            by_update,
            ascending,
        })
    }

    /// Sorts by (created or updated, id) in the asked direction, then pages.
    pub fn apply<T>(&self, mut items: Vec<T>, times: impl Fn(&T) -> (i64, i64, String)) -> Vec<T> {
        items.sort_by_cached_key(|t| {
            let (created, updated, id) = times(t);
            (if self.by_update { updated } else { created }, id)
        });
        if !self.ascending {
            items.reverse();
        }
        items
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect()
    }
}

/// Endpoint policy: `policy_statement` is a list of objects whose `Effect` is
/// `Allow` or `Deny` and whose `Action`/`Resource`, when given, are lists of
/// strings; `policy_document` is any JSON object.
pub fn parse_policy(
    statements: Option<Vec<serde_json::Value>>,
    document: Option<serde_json::Value>,
) -> Result<(Option<serde_json::Value>, Option<serde_json::Value>), VpcepError> {
    for st in statements.iter().flatten() {
        let obj = st.as_object().ok_or(VpcepError::InvalidPolicy)?;
        if !matches!(
            obj.get("Effect").and_then(|v| v.as_str()),
            Some("Allow" | "Deny")
        ) {
            return Err(VpcepError::InvalidPolicy);
        }
        for field in ["Action", "Resource"] {
            if let Some(v) = obj.get(field) {
                let ok = v
                    .as_array()
                    .is_some_and(|items| items.iter().all(|i| i.is_string()));
                if !ok {
                    return Err(VpcepError::InvalidPolicy);
                }
            }
        }
    }
    if document.as_ref().is_some_and(|d| !d.is_object()) {
        return Err(VpcepError::InvalidPolicy);
    }
    Ok((statements.map(serde_json::Value::Array), document))
}

/// Case-insensitive "contains", used by every name filter.
pub fn fuzzy_match(haystack: &str, needle: &str) -> bool {
    haystack
        .to_lowercase()
        .contains(&needle.trim().to_lowercase())
}

#[cfg(test)]
#[path = "domain_tests.rs"]
mod tests;
