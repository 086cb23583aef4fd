//! `kiln host`: join a lattice and run what its reconciler places here.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use kiln_lattice::deployment::parse_label;
use kiln_lattice::{AppHost, HostIdentity, LatticeHost};
use kiln_runtime::{Runtime, RuntimeOptions};
use kiln_trigger::http::serve;
use tokio_util::sync::CancellationToken;

use super::fetch::blob_store;
use super::lattice::NatsArgs;
use super::listen::ListenArgs;
use super::registry::{RegistryArgs, VerifyArgs};

/// How long a leaving host keeps serving after it told the lattice, so that the others stop
/// forwarding to it first.
const LEAVE_GRACE: Duration = Duration::from_millis(600);

#[derive(Args)]
pub(crate) struct HostCommand {
    #[command(flatten)]
    nats: NatsArgs,
    /// This host's name in the lattice (default: the machine's name and the process id).
    #[arg(long)]
    name: Option<String>,
    /// A label that placement matches spread rules against: KEY=VALUE (repeat for more).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    labels: Vec<(String, String)>,
    #[command(flatten)]
    listen: ListenArgs,
    /// Where the other hosts reach this host's listener (default: the listen address; its
    /// port on 127.0.0.1 when listening on every address).
    #[arg(long, value_name = "HOST:PORT")]
    advertise: Option<String>,
    /// Most apps this host takes.
    #[arg(long, value_name = "N", default_value_t = 100)]
    max_apps: u32,
    /// Where the apps keep their state (default: .kiln/hosts/NAME).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    verify: VerifyArgs,
    #[command(flatten)]
    compiler: super::compiler::CompilerArgs,
}

impl HostCommand {
    pub(crate) async fn run(self) -> anyhow::Result<i32> {
        let listener = self.listen.bind().await?;
        let address = listener.local_addr()?;
        let advertise = self.advertise.clone().unwrap_or_else(|| {
            if address.ip().is_unspecified() {
                format!("127.0.0.1:{}", address.port())
            } else {
                address.to_string()
            }
        });
        let name = self.name.clone().unwrap_or_else(default_name);
        let lattice = self.nats.open().await?;
        let runtime = Runtime::new(&RuntimeOptions {
            compiler: self.compiler.compiler,
            ..RuntimeOptions::default()
        })?;
        let state_dir = self
            .state_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(".kiln/hosts").join(&name));
        let registry = self.registry.pull_options(self.verify.key())?;
        let apps = Arc::new(AppHost::new(
            runtime.clone(),
            blob_store()?,
            registry,
            state_dir,
        ));
        let identity = HostIdentity {
            name: name.clone(),
            labels: self.labels.iter().cloned().collect(),
            address: advertise.clone(),
            capacity: self.max_apps,
        };
        let host = LatticeHost::new(lattice.clone(), apps, identity);
        println!(
            "Host {name} joined lattice {} at {} (reached at {advertise})",
            lattice.name(),
            self.nats.url()
        );
        println!("Serving http://{address}");
        let _admin = self.listen.serve_admin(&runtime).await?;
        let leave = CancellationToken::new();
        let agent = tokio::spawn(host.clone().run(leave.clone()));
        let stop_serving = CancellationToken::new();
        let server = tokio::spawn(serve(
            listener,
            host.http(),
            self.listen.server_options(),
            stop_serving.clone().cancelled_owned(),
        ));
        crate::signals::shutdown().await;
        leave.cancel();
        let _ = agent.await;
        tokio::time::sleep(LEAVE_GRACE).await;
        stop_serving.cancel();
        server.await??;
        Ok(0)
    }
}

/// The machine's name and this process's id.
fn default_name() -> String {
    let machine = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("{machine}-{}", std::process::id())
}
