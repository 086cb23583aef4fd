//! [`PluginConfig`]: what one plugin may use of the host (its grants: nothing by default) and
//! how much (its limits), and whether its instances are kept between calls ([`Reuse`]).

use std::path::PathBuf;
use std::time::Duration;

use kiln_runtime::network::AllowedHost;
use kiln_runtime::{ComponentLimits, DirGrant, Grants, GuestStdio, Outbound};

use crate::error::PluginError;

/// Memory a plugin may use unless its config says otherwise: 64 MiB.
pub const DEFAULT_MAX_MEMORY: u64 = 64 << 20;
/// How long one call may run unless its config says otherwise: 5 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Calls of one plugin running at once unless its config says otherwise: 64.
pub const DEFAULT_MAX_CONCURRENT: u32 = 64;

/// Whether a plugin's instance lives for one call or is kept for the next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reuse {
    /// A fresh instance per call: nothing one call leaves in the plugin's memory reaches the
    /// next. Instantiating from the pool takes microseconds.
    #[default]
    Fresh,
    /// Instances are kept and called again (at most one call at a time each), for plugins that
    /// hold state between calls. An instance whose call failed is thrown away, so a trap or a
    /// timeout leaves no broken state behind.
    Kept,
}

/// How one plugin runs: its grants and its limits. Built with chained calls; everything not
/// granted is denied.
///
/// ```
/// use std::time::Duration;
/// use kiln_plugin::{PluginConfig, Reuse};
///
/// let config = PluginConfig::new()
///     .name("thumbnailer")
///     .max_memory(32 << 20)
///     .timeout(Duration::from_millis(200))
///     .fuel(50_000_000)
///     .dir_read_only("/srv/images", "/images")
///     .env("MODE", "fast")
///     .allow_outbound("https://cdn.example.com")
///     .key_value_store("cache")
///     .reuse(Reuse::Kept);
/// ```
#[derive(Clone, Debug, Default)]
pub struct PluginConfig {
    pub(crate) name: Option<String>,
    max_memory: Option<u64>,
    timeout: Option<Duration>,
    max_concurrent: Option<u32>,
    pub(crate) fuel: Option<u64>,
    env: Vec<(String, String)>,
    dirs: Vec<DirGrant>,
    outbound: Vec<String>,
    pub(crate) key_value_stores: Vec<String>,
    inherit_stdio: bool,
    pub(crate) reuse: Reuse,
}

impl PluginConfig {
    /// No grants; the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// The plugin's name in errors and logs (default: the file's stem, or `plugin`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The most linear memory, in bytes, an instance may hold ([`DEFAULT_MAX_MEMORY`]).
    pub fn max_memory(mut self, bytes: u64) -> Self {
        self.max_memory = Some(bytes);
        self
    }

    /// How long one call may run, from taking a slot to returning ([`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How many calls may run at once ([`DEFAULT_MAX_CONCURRENT`]); a call that finds all
    /// taken waits up to a second for one, then fails as busy.
    pub fn max_concurrent(mut self, calls: u32) -> Self {
        self.max_concurrent = Some(calls);
        self
    }

    /// A budget of fuel (about one unit per Wasm instruction) for each call: the same work
    /// stops at the same point on every machine. Needs a host built with
    /// [`PluginHostBuilder::fuel`](crate::PluginHostBuilder::fuel).
    pub fn fuel(mut self, budget: u64) -> Self {
        self.fuel = Some(budget);
        self
    }

    /// Lets the plugin read and write the host directory `host`, seen at `guest`.
    pub fn dir(mut self, host: impl Into<PathBuf>, guest: impl Into<String>) -> Self {
        self.dirs.push(DirGrant {
            host: host.into(),
            guest: guest.into(),
            read_only: false,
        });
        self
    }

    /// Lets the plugin read the host directory `host`, seen at `guest`.
    pub fn dir_read_only(mut self, host: impl Into<PathBuf>, guest: impl Into<String>) -> Self {
        self.dirs.push(DirGrant {
            host: host.into(),
            guest: guest.into(),
            read_only: true,
        });
        self
    }

    /// Sets the environment variable `name` the plugin sees (it sees no other).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Lets the plugin reach `destination`, in the grammar of Spin's `allowed_outbound_hosts`:
    /// `https://api.example.com`, `http://127.0.0.1:8080`, `https://*.example.com`,
    /// `tcp://10.0.0.0/8:5432`.
    pub fn allow_outbound(mut self, destination: impl Into<String>) -> Self {
        self.outbound.push(destination.into());
        self
    }

    /// Lets the plugin open the key-value store `label`, which the host defines
    /// ([`PluginHostBuilder::key_value_store`](crate::PluginHostBuilder::key_value_store)).
    pub fn key_value_store(mut self, label: impl Into<String>) -> Self {
        self.key_value_stores.push(label.into());
        self
    }

    /// Sends the plugin's stdout and stderr to the host's (default: discarded).
    pub fn inherit_stdio(mut self) -> Self {
        self.inherit_stdio = true;
        self
    }

    /// Whether instances are fresh per call (the default) or kept.
    pub fn reuse(mut self, reuse: Reuse) -> Self {
        self.reuse = reuse;
        self
    }

    /// The limits every instance runs under.
    pub(crate) fn limits(&self) -> ComponentLimits {
        ComponentLimits::resolve(kiln_manifest::Limits {
            max_memory: Some(self.max_memory.unwrap_or(DEFAULT_MAX_MEMORY)),
            timeout: Some(self.timeout.unwrap_or(DEFAULT_TIMEOUT)),
            max_concurrent: Some(self.max_concurrent.unwrap_or(DEFAULT_MAX_CONCURRENT).max(1)),
            ..kiln_manifest::Limits::default()
        })
    }

    /// What the plugin named `plugin` is granted of the host; an error names a malformed
    /// outbound destination or a directory that is not there.
    pub(crate) fn grants(&self, plugin: &str) -> Result<Grants, PluginError> {
        let refuse = |reason: String| PluginError::Grant {
            plugin: plugin.to_string(),
            reason,
        };
        for dir in &self.dirs {
            if !dir.host.is_dir() {
                return Err(refuse(format!(
                    "granted directory {} is not a directory on this host",
                    dir.host.display()
                )));
            }
        }
        let hosts = self
            .outbound
            .iter()
            .map(|entry| {
                AllowedHost::parse(entry)
                    .map_err(|e| refuse(format!("outbound destination \"{entry}\": {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Grants {
            env: self.env.clone(),
            dirs: self.dirs.clone(),
            outbound: if hosts.is_empty() {
                Outbound::Denied
            } else {
                Outbound::AllowList(hosts.into())
            },
            stdio: if self.inherit_stdio {
                GuestStdio::Inherit
            } else {
                GuestStdio::Closed
            },
        })
    }
}
