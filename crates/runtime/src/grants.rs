//! What one component may touch. Built once per component at load; every instance of the
//! component gets exactly these capabilities and nothing else.

use std::path::PathBuf;

use crate::capabilities::key_value::KeyValueGrant;
use crate::capabilities::outbound::{AllowedHost, LocalHttpSlot};
use crate::capabilities::sqlite::SqliteGrant;
use crate::capabilities::variables::VariablesGrant;
use crate::capabilities::ServerConnections;
use crate::guest_logs::GuestLogs;

/// The capabilities granted to a component.
#[derive(Clone, Default)]
pub struct Grants {
    /// Environment variables the guest sees.
    pub env: Vec<(String, String)>,
    /// Host directories the guest may open.
    pub dirs: Vec<DirGrant>,
    /// Where the guest may send outbound network traffic.
    pub outbound: Outbound,
    /// Where guest stdout and stderr go.
    pub stdio: GuestStdio,
    /// Key-value stores the guest may open.
    pub key_value: KeyValueGrant,
    /// SQLite databases the guest may open.
    pub sqlite: SqliteGrant,
    /// The guest's variables, with their values.
    pub variables: VariablesGrant,
    /// The app's own routes, for requests to `self`.
    pub local_http: LocalHttpSlot,
    /// The app's connections to Redis, MQTT, PostgreSQL and MySQL servers.
    pub connections: ServerConnections,
}

/// Where a guest's stdout and stderr go.
#[derive(Clone, Default)]
pub enum GuestStdio {
    /// Nowhere.
    #[default]
    Closed,
    /// To kiln's own stdout and stderr (`kiln run`, `kiln serve`).
    Inherit,
    /// To the component's log files, and echoed on kiln's own (`kiln up`).
    Logged(GuestLogs),
}

/// A host directory visible to the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    /// The host directory.
    pub host: PathBuf,
    /// Where the guest sees it.
    pub guest: String,
    /// Whether the guest may only read.
    pub read_only: bool,
}

impl DirGrant {
    /// Parses the `--dir` syntax: `HOST[::GUEST][:ro]`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (spec, read_only) = match spec.strip_suffix(":ro") {
            Some(rest) => (rest, true),
            None => (spec, false),
        };
        let (host, guest) = match spec.split_once("::") {
            Some((host, guest)) => (host, guest.to_string()),
            None => (spec, spec.to_string()),
        };
        if host.is_empty() || guest.is_empty() {
            return Err(format!("--dir {spec}: expected HOST[::GUEST][:ro]"));
        }
        Ok(Self {
            host: PathBuf::from(host),
            guest,
            read_only,
        })
    }
}

/// Outbound network access.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Outbound {
    /// No outbound connections at all.
    #[default]
    Denied,
    /// Any host, any port, HTTP and sockets (`--allow-outbound`).
    AllowAll,
    /// Only HTTP to destinations an `allowed_outbound_hosts` entry matches; no sockets.
    AllowList(Vec<AllowedHost>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_specs() {
        let d = DirGrant::parse("data").unwrap();
        assert_eq!(
            (d.host.to_str().unwrap(), d.guest.as_str(), d.read_only),
            ("data", "data", false)
        );
        let d = DirGrant::parse("/tmp/x::/data:ro").unwrap();
        assert_eq!(
            (d.host.to_str().unwrap(), d.guest.as_str(), d.read_only),
            ("/tmp/x", "/data", true)
        );
        assert!(DirGrant::parse("::/x").is_err());
    }
}
