//! Who the client is: the peer's address, or, when the peer is a trusted
//! reverse proxy, the address that proxy reports in `X-Forwarded-For`.
//!
//! `X-Forwarded-For` is the client's own word unless a proxy we trust wrote
//! it, so it is ignored unless `trusted_proxies` names the peer. The list is
//! read from the right (the hop nearest to us): each trusted proxy's entry is
//! skipped, and the first address not in `trusted_proxies` is the client.

use actix_web::http::header::HeaderMap;
use std::fmt;
use std::net::IpAddr;

const FORWARDED_FOR: &str = "x-forwarded-for";

/// One address or a CIDR block, e.g. `10.0.0.1`, `10.0.0.0/8`, `fd00::/8`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("{text:?} is not an IP address or CIDR block (e.g. 10.0.0.0/8)");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.trim().parse().map_err(|_| invalid())?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(invalid)?,
            None => bits,
        };
        Ok(Self { network, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        match (self.network, address) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                same_prefix(u32::from(net).into(), u32::from(a).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => same_prefix(u128::from(net), u128::from(a), 128, self.prefix),
            _ => false,
        }
    }
}

fn same_prefix(network: u128, address: u128, bits: u8, prefix: u8) -> bool {
    let host_bits = u32::from(bits - prefix);
    network.checked_shr(host_bits).unwrap_or(0) == address.checked_shr(host_bits).unwrap_or(0)
}

/// An IPv4 peer on a dual-stack socket shows as `::ffff:a.b.c.d`; compare it as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl fmt::Debug for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed (none by default).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpRange>);

impl TrustedProxies {
    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(address))
    }

    /// The client's address, from the peer's and the request's headers.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        // Several headers are one list, in order.
        let hops = headers
            .get_all(FORWARDED_FOR)
            .flat_map(|value| value.to_str().unwrap_or("").split(','))
            .collect::<Vec<_>>();
        for hop in hops.into_iter().rev() {
            // A hop we cannot read: the proxy that wrote it is all we know.
            let Some(address) = parse_hop(hop) else {
                return client;
            };
            client = canonical(address);
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

/// `1.2.3.4`, `2001:db8::1`, or with a port: `1.2.3.4:5678`, `[2001:db8::1]:5678`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|_| panic!("{text} is an address"))
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies(
            list.iter()
                .map(|r| IpRange::parse(r).unwrap_or_else(|e| panic!("{e}")))
                .collect(),
        )
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                HeaderName::from_static(FORWARDED_FOR),
                HeaderValue::from_str(value).unwrap_or_else(|_| panic!("{value}")),
            );
        }
        headers
    }

    #[test]
    fn ranges_parse_and_contain() {
        let cases = [
            ("10.0.0.0/8", "10.255.0.1", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "::ffff:127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("0.0.0.0/0", "192.0.2.1", true),
            ("fd00::/8", "fd12::1", true),
            ("fd00::/8", "fe80::1", false),
            ("::/0", "2001:db8::1", true),
            ("::1", "127.0.0.1", false),
        ];
        for (range, address, inside) in cases {
            let parsed = IpRange::parse(range).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(parsed.contains(ip(address)), inside, "{range} contains {address}");
        }
        for bad in [
            "",
            "localhost",
            "10.0.0.0/33",
            "::1/129",
            "10.0.0.0/",
            "10.0.0/8",
            "1.2.3.4/-1",
        ] {
            assert!(IpRange::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        let cases: [(&str, &[&str], &str); 8] = [
            // Not from a trusted proxy: the header is the client's word.
            ("192.0.2.1", &["203.0.113.9"], "192.0.2.1"),
            // From the proxy: the address it saw.
            ("127.0.0.1", &["203.0.113.9"], "203.0.113.9"),
            // A client's forged entries stay to the left of what the proxy added.
            ("127.0.0.1", &["1.1.1.1, 203.0.113.9"], "203.0.113.9"),
            // Proxies in a chain are skipped; several headers are one list.
            ("127.0.0.1", &["203.0.113.9, 10.1.2.3", "10.0.0.5"], "203.0.113.9"),
            ("127.0.0.1", &["203.0.113.9:4711"], "203.0.113.9"),
            // No header, or only proxies: the nearest proxy is the client.
            ("127.0.0.1", &[], "127.0.0.1"),
            ("127.0.0.1", &["10.0.0.7"], "10.0.0.7"),
            // An unreadable hop: the proxy that reported it.
            ("127.0.0.1", &["203.0.113.9, garbage"], "127.0.0.1"),
        ];
        for (peer, headers, client) in cases {
            assert_eq!(
                trusted.client(ip(peer), &forwarded(headers)),
                ip(client),
                "peer {peer} with {headers:?}"
            );
        }
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &forwarded(&["203.0.113.9"])),
            ip("127.0.0.1"),
            "no trusted proxy: the header is ignored"
        );
    }
}
