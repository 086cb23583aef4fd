//! One pass of the reconciler: read the desired state (deployments) and the last decisions
//! (placements), [`plan`] each deployment over the live hosts, and write what changed with a
//! compare-and-set on the placement's revision, so that a stale reconciler's write is refused.

use std::collections::BTreeMap;

use crate::lattice::Lattice;
use crate::placement::{plan, Candidate};
use crate::report::HostReport;

/// Reconciles every deployment of `lattice` over the `alive` hosts.
pub(crate) async fn reconcile(lattice: &Lattice, alive: &[HostReport]) -> anyhow::Result<()> {
    let deployments = lattice.deployments().await?;
    let placements = lattice.placements().await?;
    let hosts: BTreeMap<String, Candidate> = alive
        .iter()
        .map(|report| {
            let running = report
                .apps
                .iter()
                .filter_map(|(name, app)| Some((name.clone(), app.running.clone()?)))
                .collect();
            let candidate = Candidate {
                labels: report.labels.clone(),
                capacity: report.capacity,
                running,
            };
            (report.name.clone(), candidate)
        })
        .collect();
    let mut load: BTreeMap<String, u32> = BTreeMap::new();
    for placement in placements.values().flatten() {
        for host in placement.value.replicas.keys() {
            *load.entry(host.clone()).or_default() += 1;
        }
    }
    for (name, deployment) in &deployments {
        let Ok(deployment) = deployment else { continue };
        let current = placements.get(name).and_then(|p| p.as_ref().ok());
        let placement = plan(
            &deployment.value,
            deployment.revision,
            &hosts,
            current.map(|c| &c.value),
            &load,
        );
        if current.is_some_and(|c| c.value == placement) {
            continue;
        }
        if lattice
            .write_placement(name, &placement, current.map(|c| c.revision))
            .await?
        {
            for host in current.iter().flat_map(|c| c.value.replicas.keys()) {
                *load.entry(host.clone()).or_default() -= 1;
            }
            for host in placement.replicas.keys() {
                *load.entry(host.clone()).or_default() += 1;
            }
            log_change(
                name,
                current.map(|c| &c.value.replicas),
                &placement.replicas,
            );
        }
    }
    for (name, placement) in &placements {
        if deployments.contains_key(name) {
            continue;
        }
        if let Ok(placement) = placement {
            lattice.delete_placement(name, placement.revision).await?;
            tracing::info!("deployment {name} removed: its replicas stop");
        }
    }
    Ok(())
}

/// Logs a placement that moved replicas.
fn log_change(
    name: &str,
    before: Option<&BTreeMap<String, String>>,
    after: &BTreeMap<String, String>,
) {
    if before != Some(after) {
        let on: Vec<String> = after
            .iter()
            .map(|(host, release)| format!("{host}={release}"))
            .collect();
        tracing::info!("deployment {name} placed: {}", on.join(", "));
    }
}
