//! [`LatticeHost`]: the agent that joins one host's [`AppHost`] to a lattice. It beats (its
//! labels, address and apps into the hosts bucket), follows the placements (starting and
//! stopping its apps to match, learning where the others serve theirs), and takes its turn at
//! reconciling when it holds the lease. It drives the host only through the host's API.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tokio_util::sync::CancellationToken;

use crate::apps::AppHost;
use crate::deployment::{Labels, Release};
use crate::lattice::Lattice;
use crate::reconciler::reconcile;
use crate::report::{HostReport, HostsView, HEARTBEAT};
use crate::routing::{LatticeHttp, Routing};

/// How often the lease is renewed (or sought) and the lattice reconciled.
const RECONCILE_EVERY: Duration = Duration::from_millis(500);
/// The reconciler acts only on a view of the hosts read this recently.
const FRESH_VIEW: Duration = Duration::from_secs(1);

/// Who a host is in its lattice.
#[derive(Debug, Clone)]
pub struct HostIdentity {
    /// Its name, unique in the lattice.
    pub name: String,
    /// Its labels, for placement.
    pub labels: Labels,
    /// Where other hosts reach its HTTP listener (`HOST:PORT`).
    pub address: String,
    /// Most apps it takes.
    pub capacity: u32,
}

/// One host in a lattice.
pub struct LatticeHost {
    lattice: Lattice,
    apps: Arc<AppHost>,
    identity: HostIdentity,
    routing: Arc<ArcSwap<Routing>>,
    view: Mutex<View>,
}

/// What this host last read of the other hosts.
#[derive(Default)]
struct View {
    hosts: HostsView,
    read_at: Option<Instant>,
}

impl LatticeHost {
    /// `apps` joined to `lattice` as `identity`.
    pub fn new(lattice: Lattice, apps: Arc<AppHost>, identity: HostIdentity) -> Arc<Self> {
        Arc::new(Self {
            lattice,
            apps,
            identity,
            routing: Arc::default(),
            view: Mutex::default(),
        })
    }

    /// The HTTP service of its listener: its own apps, and the others' forwarded.
    pub fn http(&self) -> Arc<LatticeHttp> {
        Arc::new(LatticeHttp::new(self.apps.clone(), self.routing.clone()))
    }

    /// Beats, follows and reconciles until `shutdown`; then leaves the lattice (its apps'
    /// replicas are placed elsewhere at once).
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let beating = tokio::spawn(self.clone().beat(shutdown.clone()));
        let leading = tokio::spawn(self.clone().lead(shutdown.clone()));
        let mut tick = tokio::time::interval(HEARTBEAT);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => self.follow().await,
                () = shutdown.cancelled() => break,
            }
        }
        let _ = beating.await;
        let _ = leading.await;
        if let Err(e) = self.lattice.leave(&self.identity.name).await {
            tracing::warn!("could not remove this host's heartbeat: {e:#}");
        }
    }

    /// Puts a heartbeat every [`HEARTBEAT`].
    async fn beat(self: Arc<Self>, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(HEARTBEAT);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut beat = 0;
        while !shutdown.is_cancelled() {
            tokio::select! {
                _ = tick.tick() => {}
                () = shutdown.cancelled() => break,
            }
            beat += 1;
            let report = HostReport {
                name: self.identity.name.clone(),
                labels: self.identity.labels.clone(),
                address: self.identity.address.clone(),
                capacity: self.identity.capacity,
                apps: self.apps.report(),
                beat,
            };
            if let Err(e) = self.lattice.beat(&report).await {
                tracing::warn!("heartbeat not stored: {e:#}");
            }
        }
    }

    /// Reads the hosts and the placements: runs what is placed here, and learns where the
    /// rest is served.
    async fn follow(&self) {
        let now = Instant::now();
        match self.lattice.hosts().await {
            Ok(read) => {
                let mut view = self.view.lock().expect("view lock");
                view.hosts.update(read, now);
                view.read_at = Some(now);
            }
            Err(e) => {
                tracing::debug!("reading the hosts: {e:#}");
                self.view.lock().expect("view lock").hosts.lost_sight();
                return;
            }
        }
        let placements = match self.lattice.placements().await {
            Ok(placements) => placements,
            Err(e) => {
                tracing::debug!("reading the placements: {e:#}");
                return;
            }
        };
        let mut routing = Routing::default();
        let mut wanted: BTreeMap<String, (String, Release)> = BTreeMap::new();
        for (deployment, placement) in &placements {
            let Ok(placement) = placement else { continue };
            let placement = &placement.value;
            let name: Arc<str> = Arc::from(deployment.as_str());
            routing.names.insert(deployment.clone(), name.clone());
            for release in placement.releases.values() {
                for host in &release.hosts {
                    routing
                        .names
                        .insert(host.to_ascii_lowercase(), name.clone());
                }
            }
            let mine = placement.replicas.get(&self.identity.name);
            if let Some(release) = mine.and_then(|id| Some((id, placement.releases.get(id)?))) {
                wanted.insert(deployment.clone(), (release.0.clone(), release.1.clone()));
            }
        }
        {
            let view = self.view.lock().expect("view lock");
            for host in view.hosts.alive(now) {
                if host.name == self.identity.name {
                    continue;
                }
                for (deployment, app) in &host.apps {
                    if app.running.is_some() {
                        let holders = routing.holders.entry(deployment.clone()).or_default();
                        holders.push(host.address.clone());
                    }
                }
            }
        }
        self.routing.store(Arc::new(routing));
        self.apps.converge(&wanted);
    }

    /// Seeks or renews the reconciler's lease every [`RECONCILE_EVERY`], and reconciles while
    /// it holds it; gives it up at shutdown.
    async fn lead(self: Arc<Self>, shutdown: CancellationToken) {
        let mut held: Option<u64> = None;
        let mut tick = tokio::time::interval(RECONCILE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = shutdown.cancelled() => break,
            }
            let lease = match self.lattice.lead(&self.identity.name, held).await {
                Ok(lease) => lease,
                Err(e) => {
                    tracing::debug!("the reconciler's lease: {e:#}");
                    None
                }
            };
            match (held, lease) {
                (None, Some(_)) => tracing::info!("this host reconciles the lattice"),
                (Some(_), None) => tracing::info!("this host no longer reconciles the lattice"),
                _ => {}
            }
            held = lease;
            if held.is_some() {
                let alive = {
                    let view = self.view.lock().expect("view lock");
                    let now = Instant::now();
                    let fresh = view.read_at.is_some_and(|at| now - at < FRESH_VIEW);
                    let alive: Vec<HostReport> = view.hosts.alive(now).cloned().collect();
                    // A view without this host's own heartbeat is older than this host.
                    let complete = alive.iter().any(|h| h.name == self.identity.name);
                    (fresh && complete).then_some(alive)
                };
                if let Some(alive) = alive {
                    if let Err(e) = reconcile(&self.lattice, &alive).await {
                        tracing::warn!("reconciling: {e:#}");
                    }
                }
            }
        }
        if let Some(revision) = held {
            let _ = self.lattice.resign(revision).await;
        }
    }
}
