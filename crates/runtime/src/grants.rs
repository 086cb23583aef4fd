//! What one component may touch of the host: its environment, directories, stdio and outbound
//! network ([`Grants`]). Built once per component at load, from the flags of `kiln run` and
//! `kiln serve`, or from an app's manifest entry ([`Grants::for_component`]); every capability
//! that reaches the network checks addresses against the same [`Outbound`].

use std::path::{Path, PathBuf};

use kiln_manifest::{ComponentSpec, ContentStore};

use crate::guest_logs::GuestLogs;
use crate::network::{AllowedHost, Outbound};
use crate::LoadError;

/// The host resources granted to a component.
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
}

impl Grants {
    /// What the manifest grants `component` of the host: its environment, its files (read
    /// from `content`, staged under `state_dir`, read-only at `/`), its outbound hosts
    /// (templates rendered with `render`) and its log files.
    pub(crate) fn for_component(
        component: &ComponentSpec,
        render: impl Fn(&str) -> anyhow::Result<String>,
        state_dir: &Path,
        content: &dyn ContentStore,
    ) -> Result<Self, LoadError> {
        let id = &component.id;
        let grant_error = |reason: String| LoadError::Grant {
            id: id.clone(),
            reason,
        };
        let mut dirs = Vec::new();
        if !component.files.is_empty() {
            let root = crate::files::stage(state_dir, id, &component.files, content).map_err(
                |reason| LoadError::Files {
                    id: id.clone(),
                    reason,
                },
            )?;
            dirs.push(DirGrant {
                host: root,
                guest: "/".into(),
                read_only: true,
            });
        }
        let mut hosts = Vec::new();
        for entry in &component.allowed_outbound_hosts {
            let rendered = render(entry)
                .map_err(|e| grant_error(format!("allowed_outbound_hosts \"{entry}\": {e:#}")))?;
            hosts.push(
                AllowedHost::parse(&rendered)
                    .map_err(|e| grant_error(format!("allowed_outbound_hosts: {e}")))?,
            );
        }
        let log_dir = state_dir.join("logs");
        let logs = GuestLogs::open(&log_dir, id).map_err(|e| {
            grant_error(format!(
                "opening its log files in {}: {e}",
                log_dir.display()
            ))
        })?;
        Ok(Self {
            env: component.environment.clone(),
            dirs,
            outbound: if hosts.is_empty() {
                Outbound::Denied
            } else {
                Outbound::AllowList(hosts.into())
            },
            stdio: GuestStdio::Logged(logs),
        })
    }
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
