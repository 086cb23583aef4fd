//! kiln's many-host mode: hosts joined through NATS into a lattice that runs declarative
//! deployments, as wasmCloud does, with NATS as the engine and no cluster protocol of its own.
//!
//! - Desired state: [`Deployment`]s in a JetStream key-value bucket ([`Lattice`]).
//! - Actual state: each host's heartbeat ([`HostReport`]) in another bucket; a host whose
//!   heartbeat stops changing is dead to the others ([`report::HostsView`]).
//! - One reconciler at a time: whichever host holds a lease (a compare-and-set key that ages
//!   out unless renewed) [`placement::plan`]s each deployment over the live hosts and writes
//!   the [`Placement`]s, again by compare-and-set.
//! - Each host ([`LatticeHost`]) runs what is placed on it through the single host's API
//!   ([`AppHost`]), and serves any deployment on its HTTP listener: here when it runs it,
//!   else forwarded to a host that does ([`routing`]).

pub mod apps;
mod bucket;
pub mod deployment;
mod forward;
mod host;
mod lattice;
pub mod placement;
mod reconciler;
pub mod report;
pub mod routing;
mod status;

pub use apps::AppHost;
pub use bucket::{Entries, Stored};
pub use deployment::{Deployment, Labels, Release, Spread};
pub use host::{HostIdentity, LatticeHost};
pub use lattice::{Lattice, NatsOptions};
pub use placement::Placement;
pub use report::HostReport;
pub use status::{DeploymentStatus, LatticeStatus};
