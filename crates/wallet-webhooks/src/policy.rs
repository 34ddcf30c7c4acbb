//! Which URLs a webhook may name and which addresses a delivery may reach.
//!
//! A URL must be `http` or `https` with a host. Unless private networks are
//! allowed (`webhooks_allow_private_networks`, for tests and single-host
//! setups), an address is refused when it is: unspecified (0.0.0.0/8, ::),
//! loopback (127/8, ::1), private (10/8, 172.16/12, 192.168/16),
//! carrier-grade NAT (100.64/10), link-local (169.254/16 with the cloud
//! metadata address 169.254.169.254, fe80::/10), unique-local (fc00::/7,
//! with AWS's metadata address fd00:ec2::254), multicast, broadcast, or an
//! IPv4-mapped / IPv4-compatible IPv6 address of any of those.
//!
//! The check is made at registration (a literal address, and the name's
//! addresses if it resolves then) and again at every delivery on the
//! addresses the name resolves to then; the sender connects only to the
//! addresses that passed (see `sender.rs`), so a name that resolves to a
//! public address when checked and to a private one when connected (DNS
//! rebinding) cannot reach the private one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressPolicy {
    /// Loopback, private, link-local and metadata addresses allowed too.
    pub allow_private: bool,
}

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidUrl(pub String);

/// A checked webhook URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    pub url: reqwest::Url,
    /// The host, without brackets.
    pub host: String,
    pub port: u16,
}

/// The longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

impl AddressPolicy {
    pub fn new(allow_private: bool) -> Self {
        Self { allow_private }
    }

    /// Parses `text` as a webhook URL: `http`/`https`, a host, no
    /// credentials; a literal address must be allowed.
    pub fn parse_url(&self, text: &str) -> Result<WebhookUrl, InvalidUrl> {
        if text.len() > MAX_URL_LEN {
            return Err(InvalidUrl(format!("url is longer than {MAX_URL_LEN} characters")));
        }
        let url = reqwest::Url::parse(text).map_err(|e| InvalidUrl(format!("url is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(InvalidUrl("url must be http or https".to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(InvalidUrl("url must not carry credentials".to_owned()));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => {
                self.check(IpAddr::V4(ip))?;
                ip.to_string()
            }
            Some(url::Host::Ipv6(ip)) => {
                self.check(IpAddr::V6(ip))?;
                ip.to_string()
            }
            _ => return Err(InvalidUrl("url must name a host".to_owned())),
        };
        if !self.allow_private && is_local_name(&host) {
            return Err(InvalidUrl(format!("url's host {host} is a local name")));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        Ok(WebhookUrl { url, host, port })
    }

    /// Whether a delivery may connect to `ip`.
    pub fn check(&self, ip: IpAddr) -> Result<(), InvalidUrl> {
        if self.allow_private || is_public(ip) {
            Ok(())
        } else {
            Err(InvalidUrl(format!(
                "{ip} is a loopback, private, link-local or metadata address"
            )))
        }
    }

    /// Resolves `host:port` and checks every address: at registration, a
    /// name whose addresses are refused is refused; one that does not
    /// resolve now is accepted (each delivery resolves and checks again).
    pub async fn check_resolved(&self, url: &WebhookUrl) -> Result<(), InvalidUrl> {
        if self.allow_private || url.host.parse::<IpAddr>().is_ok() {
            return Ok(());
        }
        let lookup = tokio::net::lookup_host((url.host.as_str(), url.port));
        let Ok(Ok(addrs)) = tokio::time::timeout(std::time::Duration::from_secs(5), lookup).await else {
            return Ok(());
        };
        for addr in addrs {
            self.check(addr.ip())
                .map_err(|e| InvalidUrl(format!("url's host {} resolves to {}", url.host, e.0)))?;
        }
        Ok(())
    }
}

/// `localhost` and its subdomains (RFC 6761), which resolvers answer locally.
fn is_local_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, _, _] = ip.octets();
    let refused = a == 0 // 0.0.0.0/8, unspecified
        || ip.is_loopback() // 127/8
        || ip.is_private() // 10/8, 172.16/12, 192.168/16
        || (a == 100 && (b & 0xc0) == 64) // 100.64/10, CGNAT
        || ip.is_link_local() // 169.254/16, metadata
        || ip.is_multicast() // 224/4
        || a >= 240 // 240/4 reserved, with the broadcast address
        || ip.is_broadcast();
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let first = ip.segments()[0];
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || (first & 0xfe00) == 0xfc00 // fc00::/7 unique-local, fd00:ec2::254 among them
        || (first & 0xffc0) == 0xfe80 // fe80::/10 link-local
        || (first & 0xffc0) == 0xfec0 // fec0::/10 site-local (deprecated)
        || ip.is_multicast(); // ff00::/8
    !refused
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or
/// IPv4-compatible (`::a.b.c.d`) IPv6 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    // `::` and `::1` are handled as IPv6 (unspecified, loopback).
    if s[..6].iter().all(|&x| x == 0) && (s[6] != 0 || s[7] > 1) {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return Some(Ipv4Addr::new(a, b, c, d));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFUSED: &[&str] = &[
        "0.0.0.0",
        "0.1.2.3",
        "127.0.0.1",
        "127.255.0.9",
        "10.0.0.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.0.1",
        "100.64.0.1",
        "100.127.255.254",
        "224.0.0.1",
        "239.255.255.250",
        "255.255.255.255",
        "240.0.0.1",
        "::",
        "::1",
        "fe80::1",
        "febf::1",
        "fc00::1",
        "fd12:3456::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.1.2.3",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "::192.168.0.1",
    ];

    const ALLOWED: &[&str] = &[
        "8.8.8.8",
        "1.1.1.1",
        "172.15.255.255",
        "172.32.0.1",
        "100.63.255.255",
        "100.128.0.1",
        "169.253.0.1",
        "192.169.0.1",
        "2606:4700:4700::1111",
        "2001:db8::1",
        "::ffff:8.8.8.8",
    ];

    #[test]
    fn local_private_link_local_and_metadata_addresses_are_refused() {
        let policy = AddressPolicy::new(false);
        for ip in REFUSED {
            let ip: IpAddr = ip.parse().expect("an address");
            assert!(policy.check(ip).is_err(), "{ip} must be refused");
        }
        for ip in ALLOWED {
            let ip: IpAddr = ip.parse().expect("an address");
            assert!(policy.check(ip).is_ok(), "{ip} must be allowed");
        }
        let open = AddressPolicy::new(true);
        for ip in REFUSED {
            assert!(
                open.check(ip.parse().expect("an address")).is_ok(),
                "{ip} allowed when private is"
            );
        }
    }

    #[test]
    fn urls_must_be_http_or_https_with_a_host_and_no_local_literal() {
        let policy = AddressPolicy::new(false);
        let ok = policy
            .parse_url("https://hooks.example.com:8443/in?x=1")
            .expect("valid");
        assert_eq!((ok.host.as_str(), ok.port), ("hooks.example.com", 8443));
        assert_eq!(policy.parse_url("http://8.8.8.8/x").expect("valid").port, 80);
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "example.com/hook",
            "http://",
            "https://user:pw@example.com/",
            "http://127.0.0.1:9000/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.8/",
            "http://localhost:8080/",
            "http://api.localhost/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://0/",
        ] {
            assert!(policy.parse_url(bad).is_err(), "{bad} must be refused");
        }
        assert!(policy
            .parse_url(&format!("https://e.com/{}", "a".repeat(MAX_URL_LEN)))
            .is_err());
        let open = AddressPolicy::new(true);
        assert!(open.parse_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(
            open.parse_url("ftp://127.0.0.1/").is_err(),
            "the scheme is checked anyway"
        );
    }
}
