//! [`AppHost`]: one host's apps, started and stopped by name. This is the single host's API
//! that the lattice drives: start a release of a deployment (pull it, load it, start its
//! triggers), swap in a new release with no request dropped, stop one after its requests in
//! flight finish, and say what runs. Nothing here knows of NATS or of who asked.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use kiln_oci::{BlobStore, RegistryOptions};
use kiln_runtime::{AppOptions, LoadedApp, Runtime};
use kiln_trigger::http::RequestHandler;
use kiln_trigger::AppTriggers;
use tokio_util::sync::CancellationToken;

use crate::deployment::Release;
use crate::report::AppReport;

/// How long a stopping app's requests in flight may take before its triggers stop anyway.
const DRAIN_GRACE: Duration = Duration::from_secs(10);
/// How long after a failed start the same release is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// The apps one host runs, by deployment name.
pub struct AppHost {
    runtime: Runtime,
    blobs: BlobStore,
    registry: RegistryOptions,
    state_dir: PathBuf,
    apps: Mutex<HashMap<String, Slot>>,
    /// The serving release of each deployment, read by every request without a lock;
    /// replaced whenever `apps` changes what serves.
    serving: ArcSwap<HashMap<String, Arc<RunningApp>>>,
}

/// One deployment's state on this host.
#[derive(Default)]
struct Slot {
    serving: Option<Arc<RunningApp>>,
    starting: Option<String>,
    failed: Option<Failed>,
}

/// A release that did not start.
struct Failed {
    release: String,
    error: String,
    at: Instant,
}

/// A started release of a deployment. Each request holds a reference while it runs, so that a
/// stop waits for them.
pub struct RunningApp {
    release: String,
    handler: Option<Arc<RequestHandler>>,
    shutdown: CancellationToken,
    /// Kept alive as long as the app runs or a request holds it.
    _app: LoadedApp,
}

impl RunningApp {
    /// The handler of its HTTP routes, if it has any.
    pub fn http(&self) -> Option<&Arc<RequestHandler>> {
        self.handler.as_ref()
    }
}

impl AppHost {
    /// A host running apps on `runtime`, pulling them with `registry` into `blobs`, each
    /// app's state under `state_dir/DEPLOYMENT`.
    pub fn new(
        runtime: Runtime,
        blobs: BlobStore,
        registry: RegistryOptions,
        state_dir: PathBuf,
    ) -> Self {
        Self {
            runtime,
            blobs,
            registry,
            state_dir,
            apps: Mutex::new(HashMap::new()),
            serving: ArcSwap::default(),
        }
    }

    /// The serving release of `deployment`, for one request.
    pub fn get(&self, deployment: &str) -> Option<Arc<RunningApp>> {
        self.serving.load().get(deployment).cloned()
    }

    /// Publishes what serves now to the requests (`apps` is the locked state).
    fn publish(&self, apps: &HashMap<String, Slot>) {
        let serving = apps
            .iter()
            .filter_map(|(name, slot)| Some((name.clone(), slot.serving.clone()?)))
            .collect();
        self.serving.store(Arc::new(serving));
    }

    /// What runs, starts and failed, by deployment.
    pub fn report(&self) -> BTreeMap<String, AppReport> {
        let apps = self.apps.lock().expect("apps lock");
        apps.iter()
            .map(|(name, slot)| {
                let report = AppReport {
                    running: slot.serving.as_ref().map(|app| app.release.clone()),
                    starting: slot.starting.clone(),
                    failed: (slot.failed.as_ref()).map(|f| (f.release.clone(), f.error.clone())),
                };
                (name.clone(), report)
            })
            .collect()
    }

    /// Makes this host run exactly `wanted` (deployment → release id and release): starts
    /// what is missing or of another release (in the background; the old release serves until
    /// the new one does) and stops what is no longer wanted. A release that failed to start is
    /// tried again after a pause.
    pub fn converge(self: &Arc<Self>, wanted: &BTreeMap<String, (String, Release)>) {
        let mut apps = self.apps.lock().expect("apps lock");
        for (name, (id, release)) in wanted {
            let slot = apps.entry(name.clone()).or_default();
            let serving = slot.serving.as_ref().is_some_and(|app| app.release == *id);
            let busy = slot.starting.is_some();
            let failed_lately = slot
                .failed
                .as_ref()
                .is_some_and(|f| f.release == *id && f.at.elapsed() < RETRY_AFTER);
            if serving || busy || failed_lately {
                continue;
            }
            slot.starting = Some(id.clone());
            let (host, name, id, release) =
                (self.clone(), name.clone(), id.clone(), release.clone());
            tokio::spawn(async move { host.start(&name, &id, &release).await });
        }
        let unwanted: Vec<String> = apps
            .iter()
            .filter(|(name, slot)| !wanted.contains_key(*name) && slot.starting.is_none())
            .map(|(name, _)| name.clone())
            .collect();
        for name in &unwanted {
            if let Some(app) = apps.remove(name).and_then(|slot| slot.serving) {
                tracing::info!("stopping deployment {name} (release {})", app.release);
                tokio::spawn(drain(name.clone(), app));
            }
        }
        if !unwanted.is_empty() {
            self.publish(&apps);
        }
    }

    /// Starts release `id` of `deployment`, then swaps it in for the release serving now,
    /// which stops once its requests in flight are done.
    async fn start(&self, deployment: &str, id: &str, release: &Release) {
        tracing::info!(
            "starting deployment {deployment} release {id} ({})",
            release.app
        );
        let started = self.load(deployment, id, release).await;
        let mut apps = self.apps.lock().expect("apps lock");
        let slot = apps.entry(deployment.to_string()).or_default();
        slot.starting = None;
        match started {
            Ok(app) => {
                tracing::info!("deployment {deployment} release {id} serving");
                slot.failed = None;
                let old = slot.serving.replace(Arc::new(app));
                self.publish(&apps);
                if let Some(old) = old {
                    tokio::spawn(drain(deployment.to_string(), old));
                }
            }
            Err(e) => {
                let error = format!("{e:#}");
                tracing::error!("deployment {deployment} release {id} did not start: {error}");
                slot.failed = Some(Failed {
                    release: id.to_string(),
                    error,
                    at: Instant::now(),
                });
            }
        }
    }

    /// Pulls, loads and starts the triggers of release `id` of `deployment`.
    async fn load(
        &self,
        deployment: &str,
        id: &str,
        release: &Release,
    ) -> anyhow::Result<RunningApp> {
        let dir = self.state_dir.join(deployment);
        let pulled =
            kiln_oci::pull(&release.app, &self.blobs, dir.clone(), &self.registry, &()).await?;
        // Compiled code runs as native code: it is taken only from a verified artifact.
        if self.registry.verify.is_some() {
            for compiled in &pulled.precompiled {
                let (source, engine) = (&compiled.source, &compiled.engine);
                self.runtime
                    .take_precompiled(source, engine, &compiled.bytes);
            }
        }
        let triggers = AppTriggers::configure(&pulled.app)?;
        let options = AppOptions {
            state_dir: dir.join(".kiln"),
            variables: release.variables.clone().into_iter().collect(),
            limits: release.limits,
            ..AppOptions::default()
        };
        let app = LoadedApp::configure(&self.runtime, pulled.app, &options).await?;
        // Compiling takes a while: let the other tasks of this thread move elsewhere meanwhile.
        let components = tokio::task::block_in_place(|| {
            app.load_components(&triggers.components(), &self.blobs)
        })?;
        let (name, id_owned) = (deployment.to_string(), id.to_string());
        let mounted = triggers
            .start_mounted(&app, &components, move |e| {
                tracing::error!("deployment {name} release {id_owned}: a trigger failed: {e:#}");
            })
            .await?;
        Ok(RunningApp {
            release: id.to_string(),
            handler: mounted.handler,
            shutdown: mounted.shutdown,
            _app: app,
        })
    }
}

/// Lets the requests `app` is serving finish (for up to [`DRAIN_GRACE`]), then stops its
/// triggers.
async fn drain(deployment: String, app: Arc<RunningApp>) {
    let deadline = Instant::now() + DRAIN_GRACE;
    while Arc::strong_count(&app) > 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.shutdown.cancel();
    tracing::info!("deployment {deployment} release {} stopped", app.release);
}
