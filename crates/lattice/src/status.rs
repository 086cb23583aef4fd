//! What a lattice runs, read in one pass for `kiln lattice status` and for `kiln deploy` to
//! wait on: its hosts (labels, apps), its deployments (desired, placed, running, problems)
//! and who reconciles.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::deployment::Deployment;
use crate::lattice::Lattice;
use crate::report::HostReport;

/// A heartbeat older than this (by the time NATS stored it) counts as a silent host's.
const SILENT_AFTER: Duration = Duration::from_secs(3);

/// The lattice at one moment.
#[derive(Debug, Serialize)]
pub struct LatticeStatus {
    /// The lattice's name.
    pub lattice: String,
    /// The host that holds the reconciler's lease.
    pub reconciler: Option<String>,
    /// Hosts whose heartbeat is recent.
    pub hosts: Vec<HostReport>,
    /// Every deployment.
    pub deployments: Vec<DeploymentStatus>,
}

/// One deployment: what is wanted and what runs.
#[derive(Debug, Serialize)]
pub struct DeploymentStatus {
    /// Its name.
    pub name: String,
    /// The deployment, or why its stored form does not read.
    pub deployment: Result<Deployment, String>,
    /// Its revision.
    pub revision: u64,
    /// The release it wants running.
    pub release: Option<String>,
    /// Where the reconciler placed its replicas: host → release.
    pub placed: BTreeMap<String, String>,
    /// The hosts serving it, with the release each serves.
    pub running: BTreeMap<String, String>,
    /// Why it falls short: the reconciler's word, and hosts' failures to start it.
    pub problems: Vec<String>,
}

impl DeploymentStatus {
    /// Whether every wanted replica serves the wanted release.
    pub fn complete(&self) -> bool {
        let (Ok(deployment), Some(release)) = (&self.deployment, &self.release) else {
            return false;
        };
        let serving = self.running.values().filter(|r| *r == release).count();
        self.problems.is_empty()
            && self.placed.len() == deployment.replicas as usize
            && self.placed.values().all(|r| r == release)
            && serving >= deployment.replicas as usize
    }
}

impl LatticeStatus {
    /// Reads `lattice`.
    pub async fn read(lattice: &Lattice) -> anyhow::Result<Self> {
        let now = SystemTime::now();
        let hosts: Vec<HostReport> = lattice
            .hosts()
            .await?
            .into_values()
            .flatten()
            .filter(|stored| {
                now.duration_since(stored.stored_at)
                    .map_or(true, |age| age < SILENT_AFTER)
            })
            .map(|stored| stored.value)
            .collect();
        let placements = lattice.placements().await?;
        let mut deployments = Vec::new();
        for (name, stored) in lattice.deployments().await? {
            let (deployment, revision) = match stored {
                Ok(stored) => (Ok(stored.value), stored.revision),
                Err(e) => (Err(e), 0),
            };
            let placement = placements
                .get(&name)
                .and_then(|p| p.as_ref().ok())
                .filter(|p| p.value.revision == revision)
                .map(|p| &p.value);
            let mut problems: Vec<String> = placement
                .and_then(|p| p.problem.clone())
                .into_iter()
                .collect();
            let release = deployment.as_ref().ok().map(|d| d.release.id());
            let mut running = BTreeMap::new();
            for host in &hosts {
                let Some(app) = host.apps.get(&name) else {
                    continue;
                };
                if let Some(serving) = &app.running {
                    running.insert(host.name.clone(), serving.clone());
                }
                match &app.failed {
                    Some((failed, error)) if Some(failed) == release.as_ref() => {
                        problems.push(format!("host {}: {error}", host.name));
                    }
                    _ => {}
                }
            }
            if let Err(e) = &deployment {
                problems.push(e.clone());
            }
            deployments.push(DeploymentStatus {
                name,
                deployment,
                revision,
                release,
                placed: placement.map(|p| p.replicas.clone()).unwrap_or_default(),
                running,
                problems,
            });
        }
        Ok(Self {
            lattice: lattice.name().to_string(),
            reconciler: lattice.leader().await?,
            hosts,
            deployments,
        })
    }

    /// The deployment `name`, if there is one.
    pub fn deployment(&self, name: &str) -> Option<&DeploymentStatus> {
        self.deployments.iter().find(|d| d.name == name)
    }
}
