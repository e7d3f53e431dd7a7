//! The endpoint whitelist (`whitelist`, `enable_whitelist`): the IPv4
//! addresses and CIDR blocks allowed to reach an endpoint. The API stores the
//! entries; the loopback forwarder applies them to the peer address of every
//! connection it accepts (`proxy/serve.rs`).

use super::error::VpcepError;
use std::net::{IpAddr, Ipv4Addr};

/// The endpoint whitelist quota (`EndPoint.2045` above it).
pub const MAX_WHITELIST: usize = 20;

/// Whitelist entries: IPv4 addresses or IPv4 CIDRs, at most 20, duplicates dropped.
pub fn parse_whitelist(raw: &[String]) -> Result<Vec<String>, VpcepError> {
    let mut out: Vec<String> = Vec::new();
    for entry in raw {
        let entry = entry.trim();
        if parse_entry(entry).is_none() {
            return Err(VpcepError::InvalidWhitelist);
        }
        if !out.iter().any(|e| e == entry) {
            out.push(entry.to_owned());
        }
    }
    if out.len() > MAX_WHITELIST {
        return Err(VpcepError::WhitelistLimit);
    }
    Ok(out)
}

/// An entry as (network, mask); a bare address is a /32.
fn parse_entry(entry: &str) -> Option<(u32, u32)> {
    let (addr, prefix) = match entry.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (entry, None),
    };
    let addr = u32::from(addr.parse::<Ipv4Addr>().ok()?);
    let bits: u32 = match prefix {
        None => 32,
        Some(p) if p.starts_with('+') => return None,
        Some(p) => p.parse::<u8>().ok().filter(|n| *n <= 32)?.into(),
    };
    let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
    Some((addr & mask, mask))
}

/// Who may connect through an endpoint, as the forwarder checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerFilter {
    /// `enable_whitelist` is false: the entries are kept but not applied.
    Anyone,
    /// Only peers inside one of these networks. Empty means nobody: access
    /// control switched on with no entry admits no one (dewstack's choice,
    /// the reading of "network ACL isolation" a user would expect).
    Only(Vec<(u32, u32)>),
}

impl PeerFilter {
    /// The filter for an endpoint's stored settings. Entries were checked when
    /// they were stored; one that no longer parses admits nobody.
    pub fn of(enabled: bool, entries: &[String]) -> Self {
        if !enabled {
            return Self::Anyone;
        }
        Self::Only(entries.iter().filter_map(|e| parse_entry(e)).collect())
    }

    pub fn admits(&self, peer: IpAddr) -> bool {
        let nets = match self {
            Self::Anyone => return true,
            Self::Only(nets) => nets,
        };
        let v4 = match peer {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4,
                None => return false,
            },
        };
        let n = u32::from(v4);
        nets.iter().any(|(net, mask)| n & mask == *net)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn whitelists() {
        let ok =
            parse_whitelist(&["10.0.0.1".into(), "10.0.0.0/24".into(), "10.0.0.1".into()]).unwrap();
        assert_eq!(ok, vec!["10.0.0.1", "10.0.0.0/24"]);
        for bad in ["10.0.0.0/33", "10.0.0", "abc", "10.0.0.0/", "10.0.0.0/+8"] {
            assert!(
                matches!(
                    parse_whitelist(&[bad.to_string()]),
                    Err(VpcepError::InvalidWhitelist)
                ),
                "{bad}"
            );
        }
        let many: Vec<String> = (0..21).map(|i| format!("10.0.0.{i}")).collect();
        assert!(matches!(
            parse_whitelist(&many),
            Err(VpcepError::WhitelistLimit)
        ));
        assert!(parse_whitelist(&[]).unwrap().is_empty());
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn filters_admit_by_address_and_cidr() {
        let f = PeerFilter::of(true, &["127.0.0.1".into(), "10.1.0.0/16".into()]);
        assert!(f.admits(ip("127.0.0.1")));
        assert!(!f.admits(ip("127.0.0.2")));
        assert!(f.admits(ip("10.1.255.3")));
        assert!(!f.admits(ip("10.2.0.1")));
        assert!(f.admits(ip("::ffff:10.1.0.9")), "IPv4-mapped peers match");
        assert!(!f.admits(ip("::1")));
        // /0 admits everyone, an unaligned CIDR is taken by its prefix.
        assert!(PeerFilter::of(true, &["0.0.0.0/0".into()]).admits(ip("8.8.8.8")));
        assert!(PeerFilter::of(true, &["127.9.9.9/8".into()]).admits(ip("127.0.0.5")));
    }

    #[test]
    fn switched_off_admits_all_and_switched_on_empty_admits_none() {
        let entries = vec!["10.0.0.1".to_string()];
        assert!(PeerFilter::of(false, &entries).admits(ip("127.0.0.1")));
        assert!(PeerFilter::of(false, &[]).admits(ip("127.0.0.1")));
        assert!(!PeerFilter::of(true, &[]).admits(ip("127.0.0.1")));
    }
}
