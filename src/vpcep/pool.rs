//! Addresses: endpoint IPs come from a pool per subnet (dewstack does not know
//! the subnet's CIDR, so every subnet hands out 192.168.0.2 upwards), or, for
//! services whose backend is on loopback, from a loopback pool (127.0.1.1
//! upwards) so that each endpoint gets an address of its own to listen on.

use super::error::VpcepError;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// First and last address of a pool; addresses ending in .0 or .255 are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    pub first: Ipv4Addr,
    pub last: Ipv4Addr,
}

pub const SUBNET_POOL: Pool = Pool {
    first: Ipv4Addr::new(192, 168, 0, 2),
    last: Ipv4Addr::new(192, 168, 255, 254),
};

pub const LOOPBACK_POOL: Pool = Pool {
    first: Ipv4Addr::new(127, 0, 1, 1),
    last: Ipv4Addr::new(127, 0, 255, 254),
};

impl Pool {
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let n = u32::from(ip);
        u32::from(self.first) <= n && n <= u32::from(self.last)
    }

    /// The lowest usable address not in `used`, if the pool is not exhausted.
    pub fn next_free(&self, used: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
        (u32::from(self.first)..=u32::from(self.last))
            .map(Ipv4Addr::from)
            .filter(|ip| !matches!(ip.octets()[3], 0 | 255))
            .find(|ip| !used.contains(ip))
    }
}

/// A consumer-chosen `port_ip`: any IPv4 address for a subnet; a loopback
/// address inside the loopback pool for loopback-backed services.
pub fn parse_port_ip(raw: &str, loopback: bool) -> Result<Ipv4Addr, VpcepError> {
    let ip: Ipv4Addr = raw.trim().parse().map_err(|_| VpcepError::InvalidPortIp)?;
    if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() {
        return Err(VpcepError::InvalidPortIp);
    }
    if loopback && !LOOPBACK_POOL.contains(ip) {
        return Err(VpcepError::PortIpNotInSubnet);
    }
    Ok(ip)
}

/// Whether a service's `ip` puts its backend on this machine's loopback.
pub fn is_loopback_backend(ip: Option<&str>) -> bool {
    ip.and_then(|ip| ip.parse::<Ipv4Addr>().ok())
        .is_some_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pool_hands_out_lowest_free() {
        let mut used = BTreeSet::new();
        let a = SUBNET_POOL.next_free(&used).unwrap();
        assert_eq!(a, Ipv4Addr::new(192, 168, 0, 2));
        used.insert(a);
        used.insert(Ipv4Addr::new(192, 168, 0, 3));
        assert_eq!(
            SUBNET_POOL.next_free(&used).unwrap(),
            Ipv4Addr::new(192, 168, 0, 4)
        );
        used.remove(&a);
        assert_eq!(
            SUBNET_POOL.next_free(&used).unwrap(),
            a,
            "freed addresses come back"
        );
    }

    #[test]
    fn pool_skips_network_and_broadcast_and_ends() {
        let tiny = Pool {
            first: Ipv4Addr::new(10, 0, 0, 254),
            last: Ipv4Addr::new(10, 0, 1, 1),
        };
        let mut used = BTreeSet::new();
        let mut got = Vec::new();
        while let Some(ip) = tiny.next_free(&used) {
            used.insert(ip);
            got.push(ip.to_string());
        }
        assert_eq!(got, vec!["10.0.0.254", "10.0.1.1"]);
    }

    #[test]
    fn port_ips() {
        assert!(parse_port_ip("192.168.3.7", false).is_ok());
        assert!(matches!(
            parse_port_ip("300.1.1.1", false),
            Err(VpcepError::InvalidPortIp)
        ));
        assert!(parse_port_ip("0.0.0.0", false).is_err());
        assert!(parse_port_ip("127.0.9.9", true).is_ok());
        assert!(matches!(
            parse_port_ip("127.0.0.1", true),
            Err(VpcepError::PortIpNotInSubnet)
        ));
        assert!(matches!(
            parse_port_ip("10.0.0.1", true),
            Err(VpcepError::PortIpNotInSubnet)
        ));
    }

    #[test]
    fn loopback_backends() {
        assert!(is_loopback_backend(Some("127.0.0.1")));
        assert!(is_loopback_backend(Some("127.3.2.1")));
        assert!(!is_loopback_backend(Some("10.0.0.1")));
        assert!(!is_loopback_backend(Some("localhost")));
        assert!(!is_loopback_backend(None));
    }
}
