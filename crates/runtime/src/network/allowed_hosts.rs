//! `allowed_outbound_hosts`, parsed and matched as Spin does: `scheme://host[:port]`, where the
//! scheme may be `*`; the host `*`, `*.example.com`, an address or CIDR block, or `self`; and the
//! port `*`, a number, or a range `start..end` (end excluded). No port means the scheme's
//! well-known one.

use std::net::IpAddr;
use std::ops::Range;

use ipnet::IpNet;

/// One parsed `allowed_outbound_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// `*.example.com`, kept as `.example.com`.
    Subdomain(String),
    Exact(String),
    Network(IpNet),
    /// `self`: the app itself, reached by relative URLs and served in-process; it lets nothing
    /// out to the network.
    ToSelf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Port(u16),
    Range(Range<u16>),
}

/// A destination a guest wants to reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// Lower-case scheme (`https`).
    pub scheme: String,
    /// Host name or address, without brackets.
    pub host: String,
    /// Explicit port, if the URL has one.
    pub port: Option<u16>,
}

/// The port a scheme uses when none is given.
pub fn well_known_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "http" => 80,
        "https" => 443,
        "redis" => 6379,
        "postgres" => 5432,
        "mysql" => 3306,
        "mqtt" => 1883,
        "mqtts" => 8883,
        _ => return None,
    })
}

impl AllowedHost {
    /// Parses one entry; the error says what is wrong with it.
    pub fn parse(entry: &str) -> Result<Self, String> {
        let entry = entry.trim();
        if entry == "self" {
            // Spin's shorthand for `*://self:*`.
            return Ok(Self {
                scheme: None,
                host: HostPattern::ToSelf,
                port: PortPattern::Any,
            });
        }
        let Some((scheme, rest)) = entry.split_once("://") else {
            return Err(format!(
                "\"{entry}\" has no scheme: write it as scheme://host[:port], for example \"https://{entry}\" (\"*://*:*\" allows everything)"
            ));
        };
        let (host, port) = split_host_port(rest.trim_end_matches('/'));
        if port.contains('/') || host.contains('/') && host.parse::<IpNet>().is_err() {
            return Err(format!(
                "\"{entry}\" has a path: allowed hosts name only scheme, host and port"
            ));
        }
        let scheme = match scheme {
            "*" => None,
            s if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic()) => {
                Some(s.to_ascii_lowercase())
            }
            s => {
                return Err(format!(
                    "\"{entry}\": scheme \"{s}\" must be letters only, or *"
                ))
            }
        };
        let host = parse_host(host).map_err(|e| format!("\"{entry}\": {e}"))?;
        let port = parse_port(port, scheme.as_deref()).map_err(|e| format!("\"{entry}\": {e}"))?;
        Ok(Self { scheme, host, port })
    }

    /// Whether this entry lets a guest send requests to its own app: `self` with the scheme
    /// `http`, `https` or `*`. Either scheme allows every such request, as in Spin: the URL is
    /// relative, and the scheme is whatever the SDK filled in.
    pub fn allows_self(&self) -> bool {
        self.host == HostPattern::ToSelf
            && matches!(self.scheme.as_deref(), None | Some("http" | "https"))
    }

    /// Whether the entry's scheme is `scheme`, or `*`.
    pub fn scheme_matches(&self, scheme: &str) -> bool {
        self.scheme.as_deref().is_none_or(|s| s == scheme)
    }

    /// The host the entry names by name (not an address, a network or a wildcard).
    pub fn host_name(&self) -> Option<&str> {
        match &self.host {
            HostPattern::Exact(host) if host.parse::<IpAddr>().is_err() => Some(host),
            _ => None,
        }
    }

    /// Whether this entry lets a guest reach `to`.
    pub fn allows(&self, to: &Destination) -> bool {
        let scheme_ok = self.scheme_matches(&to.scheme);
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Subdomain(suffix) => to.host.ends_with(suffix.as_str()),
            HostPattern::Exact(host) => host.eq_ignore_ascii_case(&to.host),
            HostPattern::Network(net) => {
                to.host.parse::<IpAddr>().is_ok_and(|ip| net.contains(&ip))
            }
            HostPattern::ToSelf => false,
        };
        let port = to.port.or_else(|| well_known_port(&to.scheme));
        let port_ok = match (&self.port, port) {
            (PortPattern::Any, _) => true,
            (PortPattern::Port(p), Some(port)) => *p == port,
            (PortPattern::Range(r), Some(port)) => r.contains(&port),
            (_, None) => false,
        };
        scheme_ok && host_ok && port_ok
    }
}

/// Splits `host:port`, minding bracketed IPv6 addresses and CIDR blocks.
fn split_host_port(rest: &str) -> (&str, &str) {
    if let Some(inner) = rest.strip_prefix('[') {
        if let Some((host, after)) = inner.split_once(']') {
            return (host, after.strip_prefix(':').unwrap_or(after));
        }
    }
    match rest.rsplit_once(':') {
        // A bare IPv6 address has several colons and no port.
        Some((host, _)) if host.contains(':') => (rest, ""),
        Some((host, port)) => (host, port),
        None => (rest, ""),
    }
}

fn parse_host(host: &str) -> Result<HostPattern, String> {
    match host {
        "" => Err("the host is missing".into()),
        "*" => Ok(HostPattern::Any),
        "self" | "self.alt" => Ok(HostPattern::ToSelf),
        _ => {
            if let Ok(net) = host.parse::<IpNet>() {
                return Ok(HostPattern::Network(net));
            }
            if let Ok(ip) = host.parse::<IpAddr>() {
                return Ok(HostPattern::Network(IpNet::from(ip)));
            }
            if let Some(domain) = host.strip_prefix("*.") {
                if domain.contains('*') {
                    return Err(format!(
                        "host \"{host}\": * is allowed only as the first label"
                    ));
                }
                return Ok(HostPattern::Subdomain(format!(
                    ".{}",
                    domain.to_ascii_lowercase()
                )));
            }
            if host.contains('*') {
                return Err(format!(
                    "host \"{host}\": * is allowed only as the first label (*.example.com)"
                ));
            }
            Ok(HostPattern::Exact(host.to_ascii_lowercase()))
        }
    }
}

fn parse_port(port: &str, scheme: Option<&str>) -> Result<PortPattern, String> {
    match port {
        "" => scheme
            .and_then(well_known_port)
            .map(PortPattern::Port)
            .ok_or_else(|| {
                "no port is given and the scheme has no well-known port: add one, or :*".into()
            }),
        "*" => Ok(PortPattern::Any),
        _ => match port.split_once("..") {
            Some((start, end)) => {
                let start = start
                    .parse::<u16>()
                    .map_err(|_| format!("port range \"{port}\" is not start..end"))?;
                let end = end
                    .parse::<u16>()
                    .map_err(|_| format!("port range \"{port}\" is not start..end"))?;
                Ok(PortPattern::Range(start..end))
            }
            None => port
                .parse()
                .map(PortPattern::Port)
                .map_err(|_| format!("port \"{port}\" is not a number")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(scheme: &str, host: &str, port: Option<u16>) -> Destination {
        Destination {
            scheme: scheme.into(),
            host: host.into(),
            port,
        }
    }

    fn allows(entry: &str, dest: Destination) -> bool {
        AllowedHost::parse(entry).unwrap().allows(&dest)
    }

    #[test]
    fn exact_hosts_use_the_schemes_default_port() {
        assert!(allows(
            "https://example.com",
            to("https", "example.com", None)
        ));
        assert!(allows(
            "https://example.com",
            to("https", "example.com", Some(443))
        ));
        assert!(!allows(
            "https://example.com",
            to("https", "example.com", Some(8443))
        ));
        assert!(!allows(
            "https://example.com",
            to("http", "example.com", None)
        ));
        assert!(!allows(
            "https://example.com",
            to("https", "other.com", None)
        ));
    }

    #[test]
    fn wildcards_for_scheme_host_and_port() {
        assert!(allows("*://*:*", to("redis", "anything", Some(1))));
        assert!(allows("http://*:8080", to("http", "a.b", Some(8080))));
        assert!(allows(
            "https://*.example.com",
            to("https", "api.example.com", None)
        ));
        assert!(!allows(
            "https://*.example.com",
            to("https", "example.com", None)
        ));
        assert!(allows(
            "*://localhost:*",
            to("mqtt", "localhost", Some(1883))
        ));
    }

    #[test]
    fn port_ranges_exclude_their_end() {
        assert!(allows(
            "http://localhost:3000..3002",
            to("http", "localhost", Some(3001))
        ));
        assert!(!allows(
            "http://localhost:3000..3002",
            to("http", "localhost", Some(3002))
        ));
    }

    #[test]
    fn addresses_and_networks() {
        assert!(allows(
            "http://127.0.0.1:8080",
            to("http", "127.0.0.1", Some(8080))
        ));
        assert!(allows(
            "http://10.0.0.0/8:*",
            to("http", "10.1.2.3", Some(80))
        ));
        assert!(!allows(
            "http://10.0.0.0/8:*",
            to("http", "11.1.2.3", Some(80))
        ));
        assert!(allows("http://[::1]:8080", to("http", "::1", Some(8080))));
    }

    #[test]
    fn self_entries_allow_only_the_app_itself() {
        for entry in ["self", "http://self", "https://self", "*://self:*"] {
            assert!(AllowedHost::parse(entry).unwrap().allows_self(), "{entry}");
        }
        for entry in ["redis://self", "http://*", "http://self.example.com"] {
            assert!(!AllowedHost::parse(entry).unwrap().allows_self(), "{entry}");
        }
        for entry in ["self", "http://self", "http://self.alt"] {
            let entry = AllowedHost::parse(entry).unwrap();
            assert!(!entry.allows(&to("http", "self", None)));
            assert!(!entry.allows(&to("http", "example.com", None)));
        }
    }

    #[test]
    fn bad_entries_say_why() {
        assert!(AllowedHost::parse("example.com")
            .unwrap_err()
            .contains("no scheme"));
        assert!(AllowedHost::parse("https://example.com/path")
            .unwrap_err()
            .contains("path"));
        assert!(AllowedHost::parse("foo://example.com")
            .unwrap_err()
            .contains("well-known port"));
        assert!(AllowedHost::parse("https://a.*.com")
            .unwrap_err()
            .contains("first label"));
        assert!(AllowedHost::parse("https://x:port")
            .unwrap_err()
            .contains("not a number"));
    }
}
