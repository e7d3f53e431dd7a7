//! Which loopback backends dewstack refuses to forward to: its own addresses.
//! A backend on an endpoint address (127.0.1.1–127.0.255.254, where every
//! forwarding listener lives) would feed one forwarder into another, and two
//! of them pointing at each other loop until the process runs out of file
//! descriptors; a backend on the API's own address turns an endpoint into a
//! second door to the API. The rule is checked when a service is created or
//! updated (an error in the VPCEP envelope) and again whenever listeners are
//! opened (`proxy`), since the API address can change on restart.

use super::domain::PortMapping;
use super::error::VpcepError;
use super::pool::{is_loopback_backend, LOOPBACK_POOL};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Why a backend address is one of dewstack's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnAddress {
    /// Inside the range endpoint listeners are opened on.
    EndpointRange,
    /// Where the API listens.
    Api,
}

/// Whether forwarding to `backend` would reach dewstack itself. The whole
/// endpoint range is refused, not only the listeners open now, so that no
/// endpoint created later can close a loop (dewstack's choice).
pub fn own_address(backend: SocketAddr, api: Option<SocketAddr>) -> Option<OwnAddress> {
    if let IpAddr::V4(v4) = backend.ip() {
        if LOOPBACK_POOL.contains(v4) {
            return Some(OwnAddress::EndpointRange);
        }
    }
    let api = api?;
    // An API bound to 0.0.0.0 or [::] answers on every loopback address.
    let same_ip = api.ip() == backend.ip() || api.ip().is_unspecified();
    (api.port() == backend.port() && same_ip).then_some(OwnAddress::Api)
}

/// The service-level form of the rule: every mapping of a loopback service.
pub fn check_service(
    ip: Option<&str>,
    ports: &[PortMapping],
    api: Option<SocketAddr>,
) -> Result<(), VpcepError> {
    if !is_loopback_backend(ip) {
        return Ok(());
    }
    let Some(ip) = ip.and_then(|ip| ip.parse::<Ipv4Addr>().ok()) else {
        return Ok(());
    };
    for m in ports {
        let backend = SocketAddr::from((ip, m.server_port));
        match own_address(backend, api) {
            None => {}
            Some(OwnAddress::EndpointRange) => {
                return Err(VpcepError::BackendIsEndpointAddress(ip.to_string()))
            }
            Some(OwnAddress::Api) => return Err(VpcepError::BackendIsApi(backend.to_string())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn mapping(server_port: u16) -> PortMapping {
        PortMapping {
            client_port: 8080,
            server_port,
            protocol: "TCP".into(),
        }
    }

    #[test]
    fn endpoint_addresses_and_the_api_are_own() {
        let api = Some(at("127.0.0.1:8100"));
        for b in ["127.0.1.1:80", "127.0.9.9:8080", "127.0.255.254:1"] {
            assert_eq!(
                own_address(at(b), api),
                Some(OwnAddress::EndpointRange),
                "{b}"
            );
        }
        assert_eq!(
            own_address(at("127.0.0.1:8100"), api),
            Some(OwnAddress::Api)
        );
        for b in [
            "127.0.0.1:5432",
            "127.0.0.2:8100",
            "127.1.0.1:80",
            "127.0.1.0:80",
        ] {
            assert_eq!(own_address(at(b), api), None, "{b}");
        }
        assert_eq!(own_address(at("127.0.0.1:8100"), None), None);
    }

    #[test]
    fn an_api_on_every_address_matches_any_loopback_backend_on_its_port() {
        for api in ["0.0.0.0:8100", "[::]:8100"] {
            assert_eq!(
                own_address(at("127.0.0.7:8100"), Some(at(api))),
                Some(OwnAddress::Api)
            );
            assert_eq!(own_address(at("127.0.0.7:8101"), Some(at(api))), None);
        }
    }

    #[test]
    fn services_are_checked_per_mapping() {
        let api = Some(at("127.0.0.1:8100"));
        assert!(check_service(Some("127.0.0.1"), &[mapping(5432)], api).is_ok());
        assert!(matches!(
            check_service(Some("127.0.0.1"), &[mapping(5432), mapping(8100)], api),
            Err(VpcepError::BackendIsApi(a)) if a == "127.0.0.1:8100"
        ));
        assert!(matches!(
            check_service(Some("127.0.1.3"), &[mapping(5432)], api),
            Err(VpcepError::BackendIsEndpointAddress(_))
        ));
        // Backends elsewhere are never forwarded to, so they are not checked.
        assert!(check_service(Some("10.0.1.3"), &[mapping(8100)], api).is_ok());
        assert!(check_service(None, &[mapping(8100)], api).is_ok());
        assert!(check_service(Some("db.internal"), &[mapping(8100)], api).is_ok());
    }
}
