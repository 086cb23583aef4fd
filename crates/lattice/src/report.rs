//! What a host says about itself in each heartbeat ([`HostReport`]), and which hosts are alive
//! ([`HostsView`]): a host is alive while its heartbeat keeps changing, as seen by the observer's
//! own clock, so that clocks of different machines never need to agree.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::bucket::Entries;
use crate::deployment::Labels;

/// How often a host beats.
pub const HEARTBEAT: Duration = Duration::from_millis(250);
/// A host whose heartbeat has not changed for this long is taken for dead.
pub const DEAD_AFTER: Duration = Duration::from_millis(1500);

/// One host's heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostReport {
    /// Its name, unique in the lattice.
    pub name: String,
    /// Its labels.
    pub labels: Labels,
    /// Where its HTTP listener is reached by other hosts (`HOST:PORT`).
    pub address: String,
    /// Most apps it takes.
    pub capacity: u32,
    /// Its apps, by deployment.
    pub apps: BTreeMap<String, AppReport>,
    /// Counts up with each beat, so that every beat is a change.
    pub beat: u64,
}

/// One deployment on one host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AppReport {
    /// The release it serves, once started.
    pub running: Option<String>,
    /// A release it is starting.
    pub starting: Option<String>,
    /// The last release it could not start, and why.
    pub failed: Option<(String, String)>,
}

/// The live hosts, as one observer sees their heartbeats.
#[derive(Default)]
pub struct HostsView {
    /// Each host's last report, its revision and when this observer saw the revision change.
    hosts: HashMap<String, (HostReport, u64, Instant)>,
    /// Set when a read failed: the next good read counts every host as just seen.
    lost_sight: bool,
}

impl HostsView {
    /// Takes a fresh read of the hosts bucket.
    pub fn update(&mut self, read: Entries<HostReport>, now: Instant) {
        let mut hosts = HashMap::new();
        for (name, entry) in read {
            let Ok(stored) = entry else { continue };
            let changed = match self.hosts.remove(&name) {
                Some((_, revision, at)) if revision == stored.revision && !self.lost_sight => at,
                _ => now,
            };
            hosts.insert(name, (stored.value, stored.revision, changed));
        }
        self.hosts = hosts;
        self.lost_sight = false;
    }

    /// A read failed (NATS unreachable): no host is to be judged dead on what was seen before.
    pub fn lost_sight(&mut self) {
        self.lost_sight = true;
    }

    /// The hosts whose heartbeat changed within [`DEAD_AFTER`] of `now`.
    pub fn alive(&self, now: Instant) -> impl Iterator<Item = &HostReport> {
        self.hosts
            .values()
            .filter(move |(_, _, changed)| now.duration_since(*changed) < DEAD_AFTER)
            .map(|(report, _, _)| report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bucket::Stored;

    fn read(revisions: &[(&str, u64)]) -> Entries<HostReport> {
        revisions
            .iter()
            .map(|(name, revision)| {
                let report = HostReport {
                    name: name.to_string(),
                    ..HostReport::default()
                };
                let stored = Stored {
                    value: report,
                    revision: *revision,
                    stored_at: std::time::SystemTime::now(),
                };
                (name.to_string(), Ok(stored))
            })
            .collect()
    }

    fn alive(view: &HostsView, now: Instant) -> Vec<String> {
        let mut names: Vec<_> = view.alive(now).map(|r| r.name.clone()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_host_whose_heartbeat_stops_changing_dies() {
        let start = Instant::now();
        let mut view = HostsView::default();
        view.update(read(&[("a", 1), ("b", 2)]), start);
        let later = start + DEAD_AFTER;
        view.update(read(&[("a", 3), ("b", 2)]), later);
        assert_eq!(alive(&view, later), ["a"]);
        // After a failed read, every host gets a fresh start.
        view.lost_sight();
        view.update(read(&[("a", 3), ("b", 2)]), later);
        assert_eq!(alive(&view, later), ["a", "b"]);
    }
}
