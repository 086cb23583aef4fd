//! `kiln lattice status` and `kiln lattice undeploy`, and the NATS flags every lattice
//! command shares.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use kiln_lattice::deployment::show_labels;
use kiln_lattice::{Lattice, LatticeStatus, NatsOptions};

/// How to reach a lattice.
#[derive(Args)]
pub(crate) struct NatsArgs {
    /// The NATS server: nats://HOST:PORT, or tls:// (several, comma-separated, for a cluster).
    #[arg(
        long = "nats",
        env = "KILN_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    url: String,
    /// The lattice's name: several lattices share one NATS under different names.
    #[arg(long, env = "KILN_LATTICE", default_value = "default")]
    lattice: String,
    /// NATS credentials: a .creds file.
    #[arg(long, value_name = "FILE")]
    nats_creds: Option<PathBuf>,
    /// NATS credentials: a token.
    #[arg(long, env = "KILN_NATS_TOKEN", hide_env_values = true)]
    nats_token: Option<String>,
    /// NATS credentials: a user (with --nats-password).
    #[arg(long, requires = "nats_password")]
    nats_user: Option<String>,
    /// NATS credentials: the password of --nats-user.
    #[arg(long, env = "KILN_NATS_PASSWORD", hide_env_values = true)]
    nats_password: Option<String>,
    /// NATS credentials: an nkey seed.
    #[arg(long, env = "KILN_NATS_NKEY", hide_env_values = true)]
    nats_nkey: Option<String>,
    /// A CA certificate (PEM) to trust for a tls:// NATS.
    #[arg(long, value_name = "CA.pem")]
    nats_tls_ca: Option<PathBuf>,
}

impl NatsArgs {
    /// Connects and opens the lattice.
    pub(crate) async fn open(&self) -> anyhow::Result<Lattice> {
        let options = NatsOptions {
            url: self.url.clone(),
            credentials_file: self.nats_creds.clone(),
            token: self.nats_token.clone(),
            user: self.nats_user.clone().zip(self.nats_password.clone()),
            nkey: self.nats_nkey.clone(),
            tls_ca: self.nats_tls_ca.clone(),
        };
        Lattice::open(options.connect().await?, &self.lattice).await
    }

    /// The NATS URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

/// `kiln lattice ...`.
#[derive(Subcommand)]
pub(crate) enum LatticeCommand {
    /// Show the lattice's hosts and deployments: wanted, placed and running.
    Status(StatusCommand),
    /// Remove a deployment: its replicas stop once their requests in flight are done.
    Undeploy(UndeployCommand),
}

impl LatticeCommand {
    pub(crate) async fn run(self) -> anyhow::Result<i32> {
        match self {
            LatticeCommand::Status(c) => c.run().await,
            LatticeCommand::Undeploy(c) => c.run().await,
        }
    }
}

#[derive(Args)]
pub(crate) struct StatusCommand {
    #[command(flatten)]
    nats: NatsArgs,
    /// Print the status as JSON.
    #[arg(long)]
    json: bool,
}

impl StatusCommand {
    async fn run(self) -> anyhow::Result<i32> {
        let status = LatticeStatus::read(&self.nats.open().await?).await?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&status)?);
        } else {
            print!("{}", show_status(&status));
        }
        Ok(0)
    }
}

/// The status as text, one host or deployment to a block.
pub(crate) fn show_status(status: &LatticeStatus) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let reconciler = status.reconciler.as_deref().unwrap_or("none");
    let _ = writeln!(out, "Lattice {} (reconciler: {reconciler})", status.lattice);
    let _ = writeln!(out, "Hosts:");
    if status.hosts.is_empty() {
        let _ = writeln!(out, "  none: start one with kiln host");
    }
    for host in &status.hosts {
        let apps: Vec<String> = host
            .apps
            .iter()
            .map(|(name, app)| match (&app.running, &app.starting) {
                (_, Some(starting)) => format!("{name} (starting {starting})"),
                (Some(running), None) => format!("{name} ({running})"),
                (None, None) => format!("{name} (failed)"),
            })
            .collect();
        let _ = writeln!(
            out,
            "  {} at {} [{}] apps {}/{}: {}",
            host.name,
            host.address,
            show_labels(&host.labels),
            host.apps.len(),
            host.capacity,
            if apps.is_empty() {
                "none".into()
            } else {
                apps.join(", ")
            }
        );
    }
    let _ = writeln!(out, "Deployments:");
    if status.deployments.is_empty() {
        let _ = writeln!(out, "  none: add one with kiln deploy");
    }
    for d in &status.deployments {
        match &d.deployment {
            Ok(deployment) => {
                let release = d.release.as_deref().unwrap_or("?");
                let serving = d
                    .running
                    .values()
                    .filter(|r| Some(*r) == d.release.as_ref());
                let _ = writeln!(
                    out,
                    "  {}: {}/{} serving release {release} of {}",
                    d.name,
                    serving.count(),
                    deployment.replicas,
                    deployment.release.app
                );
            }
            Err(_) => {
                let _ = writeln!(out, "  {}: unreadable", d.name);
            }
        }
        for (host, release) in &d.placed {
            let serving = d
                .running
                .get(host)
                .map_or("not serving yet", String::as_str);
            let _ = writeln!(out, "    {host}: placed {release}, serving {serving}");
        }
        for problem in &d.problems {
            let _ = writeln!(out, "    problem: {problem}");
        }
    }
    out
}

#[derive(Args)]
pub(crate) struct UndeployCommand {
    /// The deployment's name.
    name: String,
    #[command(flatten)]
    nats: NatsArgs,
}

impl UndeployCommand {
    async fn run(self) -> anyhow::Result<i32> {
        let lattice = self.nats.open().await?;
        if lattice.delete_deployment(&self.name).await? {
            println!(
                "Deployment {} removed from lattice {}",
                self.name,
                lattice.name()
            );
            Ok(0)
        } else {
            anyhow::bail!(
                "lattice {} has no deployment {}: kiln lattice status lists them",
                lattice.name(),
                self.name
            )
        }
    }
}
