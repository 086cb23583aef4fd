//! One module per subcommand.

mod build;
mod capabilities;
mod compiler;
mod compose;
mod deploy;
mod fetch;
mod host;
mod inspect;
mod lattice;
mod limits;
mod listen;
mod new;
mod progress;
mod registry;
mod run;
mod serve;
mod up;
mod watch;

use clap::Subcommand;

/// The subcommands.
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run a command component (wasi:cli/command) or a WASI preview 1 module.
    Run(run::RunCommand),
    /// Serve one wasi:http/proxy component on every path.
    Serve(serve::ServeCommand),
    /// Create an app from a template (kiln templates lists them).
    New(new::NewCommand),
    /// Add a component from a template to an app.
    Add(new::AddCommand),
    /// List the templates of kiln new and kiln add.
    Templates,
    /// Run an application from its manifest (kiln.toml or spin.toml).
    Up(up::UpCommand),
    /// Build and run an app, rebuilding and swapping in each component as its files change.
    Watch(watch::WatchCommand),
    /// Run the build command of each component of an application.
    Build(build::BuildCommand),
    /// Write a component composed with its dependencies as one component.
    Compose(compose::ComposeCommand),
    /// Show each component's WIT world and which imports its grants cover, deny, or kiln lacks.
    Inspect(inspect::InspectCommand),
    /// Push and pull applications as OCI artifacts.
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// Join a lattice of hosts (through NATS) and run what its deployments place here.
    Host(host::HostCommand),
    /// Deploy an app to a lattice: replicas spread over its hosts.
    Deploy(deploy::DeployCommand),
    /// Look at and change a lattice.
    #[command(subcommand)]
    Lattice(lattice::LatticeCommand),
}

impl Command {
    /// Runs the subcommand; returns the process exit code.
    pub(crate) async fn run(self) -> anyhow::Result<i32> {
        match self {
            Command::Run(c) => c.run().await,
            Command::Serve(c) => c.run().await,
            Command::Up(c) => c.run().await,
            Command::New(c) => c.run(),
            Command::Add(c) => c.run(),
            Command::Templates => Ok(new::list_templates()),
            Command::Build(c) => c.run(),
            Command::Watch(c) => c.run().await,
            Command::Inspect(c) => c.run().await,
            Command::Compose(c) => c.run().await,
            Command::Registry(c) => c.run().await,
            Command::Host(c) => c.run().await,
            Command::Deploy(c) => c.run().await,
            Command::Lattice(c) => c.run().await,
        }
    }
}

/// Prints each warning (unknown fields, with their place) on stderr.
pub(crate) fn print_warnings(warnings: &[String]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}
