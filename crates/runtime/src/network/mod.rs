//! Where a component may connect: the `allowed_outbound_hosts` grammar ([`allowed_hosts`]) and
//! the [`Outbound`] grant every network-reaching capability checks addresses against; the TLS
//! client settings ([`tls`]) and MQTT broker addresses ([`mqtt`]) kiln's connections share.

use std::sync::Arc;

pub mod allowed_hosts;
pub mod mqtt;
pub mod sockets;
pub mod tls;

pub use allowed_hosts::{AllowedHost, Destination};

/// Outbound network access.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Outbound {
    /// No outbound connections at all.
    #[default]
    Denied,
    /// Any host, any port, HTTP and sockets (`--allow-outbound`).
    AllowAll,
    /// Only destinations an `allowed_outbound_hosts` entry matches: HTTP, and sockets where
    /// the entry's scheme is `tcp`, `udp` or `*`.
    AllowList(Arc<[AllowedHost]>),
}

/// Whether `outbound` lets a guest connect to `address`, a URL whose scheme is one of
/// `schemes` (`redis://user@host:port/db`, say).
pub fn address_allowed(outbound: &Outbound, address: &str, schemes: &[&str]) -> bool {
    let Ok(uri) = address.parse::<::http::Uri>() else {
        return false;
    };
    let Some(scheme) = uri.scheme_str().map(str::to_ascii_lowercase) else {
        return false;
    };
    if !schemes.contains(&scheme.as_str()) {
        return false;
    }
    let Some(host) = uri.host() else {
        return false;
    };
    let to = Destination {
        scheme,
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        port: uri.port_u16(),
    };
    match outbound {
        Outbound::AllowAll => true,
        Outbound::AllowList(hosts) => hosts.iter().any(|h| h.allows(&to)),
        Outbound::Denied => false,
    }
}

/// `address` as scheme, host and port only, for logs and guest-visible messages: a
/// connection URL may carry a user and password (`redis://:secret@host`), which must not.
pub fn address_for_messages(address: &str) -> String {
    let Ok(uri) = address.parse::<::http::Uri>() else {
        return "the address".into();
    };
    match (uri.scheme_str(), uri.host(), uri.port_u16()) {
        (Some(scheme), Some(host), Some(port)) => format!("{scheme}://{host}:{port}"),
        (Some(scheme), Some(host), None) => format!("{scheme}://{host}"),
        _ => "the address".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_by_scheme_host_and_port() {
        let list =
            Outbound::AllowList(vec![AllowedHost::parse("redis://db.local").unwrap()].into());
        let allowed = |address| address_allowed(&list, address, &["redis"]);
        assert!(allowed("redis://db.local"));
        assert!(allowed("redis://db.local:6379/2"));
        assert!(allowed("redis://user:secret@db.local"));
        assert!(!allowed("redis://db.local:6380"));
        assert!(!allowed("redis://other.local"));
        assert!(!allowed("postgres://db.local"));
        assert!(!allowed("not a url"));
        assert!(!address_allowed(
            &Outbound::Denied,
            "redis://db.local",
            &["redis"]
        ));
        assert!(address_allowed(
            &Outbound::AllowAll,
            "redis://x",
            &["redis"]
        ));
    }

    #[test]
    fn messages_name_addresses_without_credentials() {
        for (address, shown) in [
            ("redis://:secret@db.local:6379/2", "redis://db.local:6379"),
            ("postgres://user:pw@db.local/app", "postgres://db.local"),
            ("mqtt://127.0.0.1:1883", "mqtt://127.0.0.1:1883"),
            ("not a url", "the address"),
        ] {
            assert_eq!(address_for_messages(address), shown);
        }
    }
}
