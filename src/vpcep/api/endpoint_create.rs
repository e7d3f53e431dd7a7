//! CreateEndpoint as one function: the request becomes a draft (pure
//! validation), the draft is placed in one transaction (permission, quota,
//! address from the pool, marker id, initial status).

use crate::auth::Caller;
use crate::rng::Rng;
use crate::store::Tx;
use crate::vpcep::domain::{self, parse_required_uuid, parse_uuid, EndpointStatus, ENDPOINT_QUOTA};
use crate::vpcep::error::VpcepError;
use crate::vpcep::permission;
use crate::vpcep::pool::{self, LOOPBACK_POOL, SUBNET_POOL};
use crate::vpcep::proxy::LOOPBACK;
use crate::vpcep::store::{self, EndpointRecord, ServiceRecord};
use crate::vpcep::tags;
use crate::vpcep::view::enable_policy;
use crate::vpcep::whitelist;
use crate::vpcep::wire::CreateEndpointRequest;

/// A validated CreateEndpoint request, not yet bound to its service.
#[derive(Clone)]
pub struct EndpointDraft {
    record: EndpointRecord,
    has_policy: bool,
    port_ip: Option<String>,
}

impl EndpointDraft {
    pub fn from_request(
        req: CreateEndpointRequest,
        caller: &Caller,
        rng: &Rng,
        now: i64,
    ) -> Result<Self, VpcepError> {
        let service_id = parse_required_uuid(
            req.endpoint_service_id.as_deref(),
            VpcepError::ServiceIdEmpty,
            VpcepError::InvalidServiceId,
        )?;
        let vpc_id = parse_required_uuid(
            req.vpc_id.as_deref(),
            VpcepError::VpcIdEmpty,
            VpcepError::InvalidVpcId,
        )?;
        let subnet_id = req
            .subnet_id
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_uuid(Some(s), VpcepError::InvalidSubnetId))
            .transpose()?;
        let routetables = parse_routetables(req.routetables)?;
        let whitelist = whitelist::parse_whitelist(req.whitelist.as_deref().unwrap_or_default())?;
        let description = domain::parse_description(req.description.as_deref())?;
        let tags = tags::parse_initial(req.tags)?;
        let has_policy = req.policy_statement.is_some() || req.policy_document.is_some();
        let (policy_statement, policy_document) =
            domain::parse_policy(req.policy_statement, req.policy_document)?;
        let port_ip = req.port_ip.filter(|p| !p.trim().is_empty());
        let record = EndpointRecord {
            id: rng.uuid().to_string(),
            project_id: caller.project().to_owned(),
            domain_id: caller.domain_id.clone(),
            service_id,
            service_project_id: String::new(),
            service_name: String::new(),
            service_type: String::new(),
            vpc_id,
            subnet_id,
            ip: None,
            pool: None,
            marker_id: 0,
            status: EndpointStatus::Creating,
            description,
            connection_description: String::new(),
            enable_dns: req.enable_dns.unwrap_or(false),
            whitelist,
            enable_whitelist: req.enable_whitelist.unwrap_or(false),
            routetables,
            policy_statement,
            policy_document,
            tags,
            professional: false,
            error: None,
            created_ms: now,
            updated_ms: now,
        };
        Ok(Self {
            record,
            has_policy,
            port_ip,
        })
    }

    /// Checks and writes the endpoint; may run more than once (retries).
    pub fn place(
        &self,
        tx: &mut dyn Tx,
        region: &str,
        rng: &Rng,
    ) -> Result<(EndpointRecord, ServiceRecord), VpcepError> {
        let mut e = self.record.clone();
        let s =
            store::find_service_anywhere(tx, &e.service_id)?.ok_or(VpcepError::ServiceNotFound)?;
        let entries = s.permissions.iter().map(|p| p.permission.as_str());
        if !permission::permits(&s.domain_id, entries, &e.domain_id) {
            return Err(VpcepError::NoPermission);
        }
        if self.has_policy && !enable_policy(&s) {
            return Err(VpcepError::InvalidPolicy);
        }
        if store::count_endpoints(tx, &e.project_id)? >= ENDPOINT_QUOTA {
            return Err(VpcepError::QuotaExceeded);
        }
        if s.service_type == "interface" {
            let subnet = e.subnet_id.clone().ok_or(VpcepError::SubnetIdEmpty)?;
            let loopback = pool::is_loopback_backend(s.ip.as_deref());
            let (name, range) = match loopback {
                true => (LOOPBACK.to_owned(), LOOPBACK_POOL),
                false => (format!("subnet:{subnet}"), SUBNET_POOL),
            };
            let used = store::used_addresses(tx, &name)?;
            let ip = match &self.port_ip {
                Some(raw) => {
                    let ip = pool::parse_port_ip(raw, loopback)?;
                    if used.contains(&ip) {
                        return Err(VpcepError::PortIpInUse);
                    }
                    ip
                }
                None => range.next_free(&used).ok_or(VpcepError::QuotaExceeded)?,
            };
            e.ip = Some(ip.to_string());
            e.pool = Some(name);
        } else {
            e.subnet_id = None;
            e.whitelist.clear();
        }
        e.service_project_id = s.project_id.clone();
        e.service_name = domain::full_service_name(region, &s.name, &s.id);
        e.service_type = s.service_type.clone();
        e.marker_id = new_marker(tx, rng)?;
        e.status = EndpointStatus::initial(s.approval_enabled);
        store::insert_endpoint(tx, &e)?;
        Ok((e, s))
    }
}

pub fn parse_routetables(raw: Option<Vec<String>>) -> Result<Vec<String>, VpcepError> {
    let mut out: Vec<String> = Vec::new();
    for id in raw.unwrap_or_default() {
        let id = parse_uuid(Some(&id), VpcepError::InvalidRouteTable)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// A fresh 9-digit marker id no other endpoint has.
fn new_marker(tx: &mut dyn Tx, rng: &Rng) -> Result<i64, VpcepError> {
    for _ in 0..64 {
        let marker = rng.in_range(100_000_000..1_000_000_000) as i64;
        if !store::marker_taken(tx, marker)? {
            return Ok(marker);
        }
    }
    Err(VpcepError::Internal("no free marker id".into()))
}
