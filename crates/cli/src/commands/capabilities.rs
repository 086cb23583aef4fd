//! The capability flags `kiln run` and `kiln serve` share.

use clap::Args;
use kiln_runtime::{DirGrant, Grants, GuestStdio, Outbound};

/// What the guest may touch. Nothing is granted unless a flag says so.
#[derive(Args)]
pub(crate) struct CapabilityArgs {
    /// Grant a host directory: HOST[::GUEST], with `:ro` appended for read-only.
    #[arg(long = "dir", value_name = "HOST[::GUEST][:ro]", value_parser = DirGrant::parse)]
    dirs: Vec<DirGrant>,
    /// Set an environment variable (KEY=VALUE), or pass one through from kiln's (KEY).
    #[arg(long = "env", value_name = "KEY[=VALUE]")]
    env: Vec<String>,
    /// Allow outbound network access: HTTP and sockets, to any host.
    #[arg(long)]
    allow_outbound: bool,
}

impl CapabilityArgs {
    /// The grants these flags describe.
    pub(crate) fn grants(&self) -> anyhow::Result<Grants> {
        let mut env = Vec::new();
        for spec in &self.env {
            match spec.split_once('=') {
                Some((key, value)) => env.push((key.to_string(), value.to_string())),
                None => match std::env::var(spec) {
                    Ok(value) => env.push((spec.clone(), value)),
                    Err(_) => anyhow::bail!(
                        "--env {spec}: kiln's environment has no {spec} to pass through"
                    ),
                },
            }
        }
        for dir in &self.dirs {
            if !dir.host.is_dir() {
                anyhow::bail!("--dir {}: no such directory", dir.host.display());
            }
        }
        Ok(Grants {
            env,
            dirs: self.dirs.clone(),
            outbound: if self.allow_outbound {
                Outbound::AllowAll
            } else {
                Outbound::Denied
            },
            stdio: GuestStdio::Inherit,
        })
    }
}
