//! Placement: which hosts run a deployment's replicas, and which release each runs. A pure
//! function of the deployment, the live hosts and the last placement, so that the reconciler
//! only reads, calls [`plan`], and writes.
//!
//! Replicas are shared out over the spread rules by weight (largest remainders), each rule's
//! share on distinct live hosts that have its labels and the deployment's required ones. Hosts
//! that hold a replica keep it; new ones go to the hosts with the fewest apps. A new release
//! replaces the old a few hosts at a time ([`rollout_batch`]): a host is moved on only when the
//! hosts already moved report the new release running.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::deployment::{has_all, show_labels, Deployment, Labels, Release, Spread};

/// Where one deployment's replicas run: the reconciler's decision, which hosts follow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// The revision of the deployment this placement is for.
    pub revision: u64,
    /// The releases its replicas run, by id: the deployment's, and older ones being replaced.
    pub releases: BTreeMap<String, Release>,
    /// Each replica: the host that runs it, and the id of the release it runs.
    pub replicas: BTreeMap<String, String>,
    /// Why the placement falls short of the deployment, when it does.
    pub problem: Option<String>,
}

/// A live host as placement sees it.
#[derive(Debug, Clone, Default)]
pub struct Candidate {
    /// Its labels.
    pub labels: Labels,
    /// Most apps it takes.
    pub capacity: u32,
    /// The release it reports running, by deployment.
    pub running: BTreeMap<String, String>,
}

/// How many replicas are moved to a new release at once.
pub fn rollout_batch(replicas: u32) -> usize {
    (replicas as usize / 4).max(1)
}

/// The placement of `deployment` (at `revision`) over the live `hosts`, starting from
/// `current`; `load` counts the apps placed on each host by every placement.
pub fn plan(
    deployment: &Deployment,
    revision: u64,
    hosts: &BTreeMap<String, Candidate>,
    current: Option<&Placement>,
    load: &BTreeMap<String, u32>,
) -> Placement {
    let empty = Placement::default();
    let current = current.unwrap_or(&empty);
    let held = |host: &str| current.replicas.contains_key(host);
    // Apps on each host apart from this deployment.
    let others = |host: &str| load.get(host).copied().unwrap_or(0) - u32::from(held(host));
    let mut chosen: BTreeSet<&str> = BTreeSet::new();
    let mut problems = Vec::new();
    for (labels, wanted) in shares(deployment) {
        let eligible: Vec<&str> = hosts
            .iter()
            .filter(|(name, host)| {
                !chosen.contains(name.as_str())
                    && deployment.admits(&host.labels)
                    && has_all(&host.labels, &labels)
            })
            .map(|(name, _)| name.as_str())
            .collect();
        let mut picked: Vec<&str> = eligible.iter().copied().filter(|h| held(h)).collect();
        picked.truncate(wanted);
        let mut fresh: Vec<&str> = eligible
            .iter()
            .copied()
            .filter(|h| !held(h) && others(h) < hosts[*h].capacity)
            .collect();
        fresh.sort_by_key(|h| (others(h), *h));
        picked.extend(fresh.into_iter().take(wanted - picked.len()));
        if picked.len() < wanted {
            problems.push(format!(
                "{wanted} replica(s) wanted on {}, but {} live host(s) with free capacity have those labels{}",
                show_labels(&labels),
                picked.len(),
                required(deployment),
            ));
        }
        chosen.extend(picked);
    }
    let target = deployment.release.id();
    let mut replicas: BTreeMap<String, String> = chosen
        .iter()
        .map(|host| {
            let release = current.replicas.get(*host).cloned();
            (host.to_string(), release.unwrap_or_else(|| target.clone()))
        })
        .collect();
    roll_out(deployment, &target, hosts, &mut replicas);
    let mut releases: BTreeMap<String, Release> = BTreeMap::new();
    for id in replicas.values() {
        let release = if *id == target {
            Some(&deployment.release)
        } else {
            current.releases.get(id)
        };
        if let Some(release) = release {
            releases.insert(id.clone(), release.clone());
        }
    }
    if deployment.replicas > 0 && replicas.is_empty() && problems.is_empty() {
        problems.push(format!("no live host{}", required(deployment)));
    }
    Placement {
        revision,
        releases,
        replicas,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    }
}

/// Moves replicas still on an older release to `target`, a batch at a time: as many as the
/// batch has room for once the replicas already moved but not yet running it are counted.
fn roll_out(
    deployment: &Deployment,
    target: &str,
    hosts: &BTreeMap<String, Candidate>,
    replicas: &mut BTreeMap<String, String>,
) {
    let runs_target = |host: &str| {
        hosts
            .get(host)
            .and_then(|h| h.running.get(&deployment.name))
            .is_some_and(|running| running == target)
    };
    let moving = replicas
        .iter()
        .filter(|(host, release)| *release == target && !runs_target(host))
        .count();
    let room = rollout_batch(deployment.replicas).saturating_sub(moving);
    let old: Vec<String> = replicas
        .iter()
        .filter(|(_, release)| *release != target)
        .map(|(host, _)| host.clone())
        .take(room)
        .collect();
    for host in old {
        replicas.insert(host, target.to_string());
    }
}

/// `; every host must have tier=edge` when the deployment requires labels.
fn required(deployment: &Deployment) -> String {
    if deployment.requires.is_empty() {
        String::new()
    } else {
        format!(" (required: {})", show_labels(&deployment.requires))
    }
}

/// Each spread rule's labels and share of the replicas (largest remainders; ties to the
/// earlier rule); one rule over every host when there is none.
fn shares(deployment: &Deployment) -> Vec<(Labels, usize)> {
    let replicas = deployment.replicas as u64;
    if deployment.spread.is_empty() {
        return vec![(Labels::new(), replicas as usize)];
    }
    let total: u64 = deployment.spread.iter().map(|s| u64::from(s.weight)).sum();
    let exact = |s: &Spread| replicas * u64::from(s.weight);
    let mut counts: Vec<u64> = deployment.spread.iter().map(|s| exact(s) / total).collect();
    let mut left = replicas - counts.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(exact(&deployment.spread[i]) % total));
    for i in order {
        if left == 0 {
            break;
        }
        counts[i] += 1;
        left -= 1;
    }
    deployment
        .spread
        .iter()
        .zip(counts)
        .map(|(s, n)| (s.labels.clone(), n as usize))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(replicas: u32, spread: &[(&str, u32)], app: &str) -> Deployment {
        Deployment {
            name: "web".into(),
            replicas,
            requires: Labels::new(),
            spread: spread
                .iter()
                .map(|(region, weight)| Spread {
                    labels: Labels::from([("region".into(), region.to_string())]),
                    weight: *weight,
                })
                .collect(),
            release: Release {
                app: app.into(),
                hosts: vec![],
                variables: BTreeMap::new(),
                limits: Default::default(),
            },
        }
    }

    fn hosts(regions: &[(&str, &str)]) -> BTreeMap<String, Candidate> {
        regions
            .iter()
            .map(|(name, region)| {
                let labels = Labels::from([("region".into(), region.to_string())]);
                (
                    name.to_string(),
                    Candidate {
                        labels,
                        capacity: 10,
                        running: BTreeMap::new(),
                    },
                )
            })
            .collect()
    }

    fn on(p: &Placement) -> Vec<&str> {
        p.replicas.keys().map(String::as_str).collect()
    }

    #[test]
    fn replicas_follow_the_weights() {
        let d = deployment(5, &[("eu", 60), ("us", 40)], "a");
        let h = hosts(&[
            ("e1", "eu"),
            ("e2", "eu"),
            ("e3", "eu"),
            ("u1", "us"),
            ("u2", "us"),
            ("u3", "us"),
        ]);
        let p = plan(&d, 1, &h, None, &BTreeMap::new());
        assert_eq!(on(&p), ["e1", "e2", "e3", "u1", "u2"]);
        assert_eq!(p.problem, None);
        assert_eq!(shares(&deployment(3, &[("eu", 1), ("us", 1)], "a"))[0].1, 2);
    }

    #[test]
    fn holders_keep_their_replicas_and_the_least_loaded_get_new_ones() {
        let d = deployment(2, &[], "a");
        let h = hosts(&[("a", "eu"), ("b", "eu"), ("c", "eu")]);
        let load = BTreeMap::from([("a".to_string(), 3), ("b".to_string(), 1)]);
        let first = plan(&d, 1, &h, None, &load);
        assert_eq!(on(&first), ["b", "c"]);
        // b dies: c keeps its replica, a takes b's.
        let mut h2 = h.clone();
        h2.remove("b");
        let second = plan(&d, 1, &h2, Some(&first), &load);
        assert_eq!(on(&second), ["a", "c"]);
    }

    #[test]
    fn an_unsatisfiable_spread_says_why() {
        let d = deployment(2, &[("mars", 1)], "a");
        let p = plan(&d, 1, &hosts(&[("a", "eu")]), None, &BTreeMap::new());
        assert!(p.replicas.is_empty());
        assert_eq!(
            p.problem.as_deref(),
            Some("2 replica(s) wanted on region=mars, but 0 live host(s) with free capacity have those labels")
        );
    }

    #[test]
    fn a_new_release_rolls_out_one_host_at_a_time() {
        let v1 = deployment(3, &[], "app@v1");
        let mut h = hosts(&[("a", "eu"), ("b", "eu"), ("c", "eu")]);
        let first = plan(&v1, 1, &h, None, &BTreeMap::new());
        let v1_id = v1.release.id();
        for host in h.values_mut() {
            host.running.insert("web".into(), v1_id.clone());
        }
        let v2 = deployment(3, &[], "app@v2");
        let v2_id = v2.release.id();
        let step = plan(&v2, 2, &h, Some(&first), &BTreeMap::new());
        let moved: Vec<_> = step.replicas.values().filter(|r| **r == v2_id).collect();
        assert_eq!(moved.len(), 1);
        assert_eq!(
            step.releases.len(),
            2,
            "both releases are kept while rolling"
        );
        // Until host a runs v2, nothing else moves.
        assert_eq!(plan(&v2, 2, &h, Some(&step), &BTreeMap::new()), step);
        h.get_mut("a")
            .unwrap()
            .running
            .insert("web".into(), v2_id.clone());
        let next = plan(&v2, 2, &h, Some(&step), &BTreeMap::new());
        assert_eq!(next.replicas.values().filter(|r| **r == v2_id).count(), 2);
    }
}
