//! `kiln deploy`: store a deployment in the lattice's desired state, then wait until its
//! replicas serve it (or say why they cannot).

use std::path::Path;
use std::time::{Duration, Instant};

use clap::Args;
use kiln_lattice::deployment::{parse_label, parse_spread};
use kiln_lattice::{Deployment, Lattice, LatticeStatus, Release, Spread};
use kiln_manifest::parse_duration;

use super::lattice::NatsArgs;
use super::registry::RegistryArgs;

/// How often the lattice is read while waiting.
const POLL: Duration = Duration::from_millis(250);
/// How long a problem must last before kiln deploy reports it.
const PROBLEM_PERSISTS: Duration = Duration::from_secs(2);

#[derive(Args)]
pub(crate) struct DeployCommand {
    /// A deployment file (TOML), or the app's registry reference (REGISTRY/REPOSITORY:TAG) with
    /// the deployment given by the flags below.
    target: String,
    /// The deployment's name (default: the repository's last part).
    #[arg(long)]
    name: Option<String>,
    /// How many hosts run it.
    #[arg(long)]
    replicas: Option<u32>,
    /// Share the replicas over hosts with these labels by weight: KEY=VALUE[,KEY=VALUE]:WEIGHT
    /// (repeat for each share).
    #[arg(long = "spread", value_name = "LABELS:WEIGHT", value_parser = parse_spread)]
    spread: Vec<Spread>,
    /// A label every host running it must have: KEY=VALUE (repeat for more).
    #[arg(long = "require", value_name = "KEY=VALUE", value_parser = parse_label)]
    requires: Vec<(String, String)>,
    /// An HTTP Host name it answers besides its own name (repeat for more).
    #[arg(long = "host-name", value_name = "NAME")]
    host_names: Vec<String>,
    /// An application variable: NAME=VALUE (repeat for more).
    #[arg(long = "variable", value_name = "NAME=VALUE", value_parser = parse_label)]
    variables: Vec<(String, String)>,
    /// Return once the deployment is stored instead of waiting for its replicas.
    #[arg(long)]
    no_wait: bool,
    /// How long to wait for the replicas.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    timeout: Duration,
    #[command(flatten)]
    nats: NatsArgs,
    #[command(flatten)]
    registry: RegistryArgs,
}

impl DeployCommand {
    pub(crate) async fn run(self) -> anyhow::Result<i32> {
        let mut deployment = self.deployment()?;
        deployment.check().map_err(anyhow::Error::msg)?;
        // Every host pulls the same app: the one the reference names now.
        let pinned = kiln_oci::resolve(&deployment.release.app, &self.registry.options()).await?;
        deployment.release.app = pinned;
        let lattice = self.nats.open().await?;
        let revision = lattice.put_deployment(&deployment).await?;
        println!(
            "Deployment {} stored in lattice {}: {} replica(s) of release {} ({})",
            deployment.name,
            lattice.name(),
            deployment.replicas,
            deployment.release.id(),
            deployment.release.app
        );
        if self.no_wait {
            return Ok(0);
        }
        wait(&lattice, &deployment.name, revision, self.timeout).await
    }

    /// The deployment: read from the file the target names, or made from the flags.
    fn deployment(&self) -> anyhow::Result<Deployment> {
        let path = Path::new(&self.target);
        if path.is_file() || self.target.ends_with(".toml") {
            let flags = self.name.is_some()
                || self.replicas.is_some()
                || !self.spread.is_empty()
                || !self.requires.is_empty()
                || !self.host_names.is_empty()
                || !self.variables.is_empty();
            anyhow::ensure!(
                !flags,
                "{} is a deployment file: give the deployment either as a file or as flags with the app's reference, not both",
                self.target
            );
            return Deployment::read(path);
        }
        let name = match &self.name {
            Some(name) => name.clone(),
            None => default_name(&self.target)?,
        };
        Ok(Deployment {
            name,
            replicas: self.replicas.unwrap_or(1),
            requires: self.requires.iter().cloned().collect(),
            spread: self.spread.clone(),
            release: Release {
                app: self.target.clone(),
                hosts: self.host_names.clone(),
                variables: self.variables.iter().cloned().collect(),
                limits: Default::default(),
            },
        })
    }
}

/// The last part of the reference's repository, as a deployment name.
fn default_name(reference: &str) -> anyhow::Result<String> {
    let repository = reference.split(['@']).next().unwrap_or(reference);
    let last = repository.rsplit('/').next().unwrap_or(repository);
    let last = last.split(':').next().unwrap_or(last);
    let name: String = last
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-').to_string();
    anyhow::ensure!(
        !name.is_empty(),
        "cannot name a deployment after {reference}: give --name"
    );
    Ok(name)
}

/// Waits until the deployment `name` at `revision` is served by all its replicas; fails with
/// the lattice's word when it cannot be, or after `timeout`.
async fn wait(
    lattice: &Lattice,
    name: &str,
    revision: u64,
    timeout: Duration,
) -> anyhow::Result<i32> {
    let deadline = Instant::now() + timeout;
    // A problem is reported once it outlasts a few reconciler passes (a host that just joined
    // may not be seen by the first).
    let mut troubled_since: Option<Instant> = None;
    loop {
        let status = LatticeStatus::read(lattice).await?;
        let Some(deployment) = status.deployment(name) else {
            anyhow::bail!("deployment {name} was removed while kiln deploy waited");
        };
        if deployment.revision != revision {
            println!(
                "Deployment {name} was changed again (revision {}): not waiting for it",
                deployment.revision
            );
            return Ok(0);
        }
        if deployment.complete() {
            let hosts: Vec<&str> = deployment.running.keys().map(String::as_str).collect();
            println!("Deployment {name} serving on {}", hosts.join(", "));
            return Ok(0);
        }
        if deployment.problems.is_empty() {
            troubled_since = None;
        } else if troubled_since.get_or_insert_with(Instant::now).elapsed() > PROBLEM_PERSISTS {
            eprint!("{}", super::lattice::show_status(&status));
            anyhow::bail!(
                "deployment {name} cannot run as asked: {}. It stays in the lattice and is placed when hosts allow it (kiln lattice undeploy {name} removes it)",
                deployment.problems.join("; ")
            );
        }
        if Instant::now() > deadline {
            eprint!("{}", super::lattice::show_status(&status));
            let hint = if status.reconciler.is_none() {
                ": no host reconciles the lattice (start one with kiln host)"
            } else {
                ""
            };
            anyhow::bail!(
                "deployment {name} was not served by all its replicas within {timeout:?}{hint}"
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn deployments_are_named_after_the_repository() {
        for (reference, name) in [
            ("127.0.0.1:5000/kiln/hello:v1", "hello"),
            ("ghcr.io/me/My_App@sha256:abc", "my-app"),
            ("localhost/app", "app"),
        ] {
            assert_eq!(super::default_name(reference).unwrap(), name);
        }
    }
}
