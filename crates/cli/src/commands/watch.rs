//! `kiln watch`: builds and runs an app, and on every saved change rebuilds just the component
//! whose files changed and swaps the new version in, on the same listener: requests in flight
//! finish on the old version, new ones get the new. An HTTP component is swapped in place in
//! the running app (the other components, the triggers and the stores carry on untouched); a
//! component another trigger calls or another component depends on, or a changed manifest
//! (routes, grants), loads the whole app again and swaps it the same way. A build that fails
//! leaves the old version serving.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use clap::Args;
use hyper::body::Incoming;
use kiln_build::watch::{Change, Watcher};
use kiln_manifest::{AppSpec, DependencySource, LoadedManifest, LocalFiles, RuntimeConfig};
use kiln_runtime::{
    plain_response, AppOptions, HttpExport, HttpResponse, LoadedApp, Runtime, RuntimeOptions,
};
use kiln_trigger::http::{serve, HttpService, RequestHandler};
use kiln_trigger::AppTriggers;
use tokio_util::sync::CancellationToken;

use super::listen::ListenArgs;
use super::print_warnings;

/// How often the watched files are looked at.
const POLL: Duration = Duration::from_millis(50);

#[derive(Args)]
pub(crate) struct WatchCommand {
    /// The manifest, or a directory holding kiln.toml or spin.toml.
    #[arg(short = 'f', long = "from", default_value = ".")]
    manifest: PathBuf,
    #[command(flatten)]
    listen: ListenArgs,
    /// Where key-value stores, SQLite databases and variables live (Spin's runtime-config.toml).
    #[arg(long = "runtime-config-file", value_name = "FILE")]
    runtime_config_file: Option<PathBuf>,
}

/// The app version being served: its HTTP handler, swapped whole on every reload.
#[derive(Default)]
struct Current(ArcSwapOption<RequestHandler>);

impl HttpService for Current {
    async fn call(&self, request: hyper::Request<Incoming>, client: SocketAddr) -> HttpResponse {
        match self.0.load_full() {
            Some(handler) => handler.handle(request, client).await,
            None => plain_response(503),
        }
    }
}

/// One loaded version of the app, running until its token is cancelled.
struct Version {
    handler: Option<Arc<RequestHandler>>,
    shutdown: CancellationToken,
    /// The app as loaded: a changed HTTP component is loaded into it again.
    loaded: LoadedApp,
}

impl WatchCommand {
    pub(crate) async fn run(self) -> anyhow::Result<i32> {
        let runtime_config = match &self.runtime_config_file {
            Some(path) => RuntimeConfig::load(path)?,
            None => RuntimeConfig::default(),
        };
        let mut app = load(&self.manifest)?;
        super::fetch::remote(&mut app).await?;
        kiln_build::build_app(&app)?;
        let runtime = Runtime::new(&RuntimeOptions::default())?;
        let listener = self.listen.bind().await?;
        let current = Arc::new(Current::default());
        let mut version = start(&runtime, &app, &runtime_config).await?;
        current.0.store(version.handler.clone());
        println!("Serving http://{}", listener.local_addr()?);
        println!("Watching {} for changes", app.manifest_path.display());
        let stop = CancellationToken::new();
        let server = tokio::spawn(serve(
            listener,
            current.clone(),
            self.listen.server_options(),
            stop.clone().cancelled_owned(),
        ));
        let mut watcher = Watcher::new(&app.manifest_path, &app.components);
        let mut signals = std::pin::pin!(crate::signals::shutdown());
        loop {
            tokio::select! {
                _ = &mut signals => break,
                _ = tokio::time::sleep(POLL) => {}
            }
            let Some(change) = watcher.poll() else {
                continue;
            };
            let saved = watcher.saved();
            // A build takes seconds: the serving tasks move to other threads meanwhile.
            let Some(next) = tokio::task::block_in_place(|| self.rebuild(&change, &app)) else {
                continue;
            };
            if let (Change::Components(ids), Some(handler)) = (&change, &version.handler) {
                if ids.iter().all(|id| swappable(&app, id)) {
                    match swap(&version.loaded, handler, ids) {
                        Ok(()) => println!(
                            "Swapped {} in place: {} ms from save to serving",
                            ids.join(", "),
                            saved.elapsed().unwrap_or_default().as_millis()
                        ),
                        Err(e) => eprintln!("error: {e:#}\nThe previous version keeps serving."),
                    }
                    continue;
                }
            }
            match start(&runtime, &next, &runtime_config).await {
                Ok(started) => {
                    current.0.store(started.handler.clone());
                    let old = std::mem::replace(&mut version, started);
                    retire(old);
                    let took = saved.elapsed().unwrap_or_default();
                    println!(
                        "Serving the new version of {}: {} ms from save to serving",
                        what(&change),
                        took.as_millis()
                    );
                    app = next;
                    watcher = Watcher::new(&app.manifest_path, &app.components);
                }
                Err(e) => eprintln!("error: {e:#}\nThe previous version keeps serving."),
            }
        }
        stop.cancel();
        server.await??;
        version.shutdown.cancel();
        Ok(0)
    }

    /// Rebuilds what `change` touched; the app to load next, or `None` (after saying why)
    /// when a build or the manifest failed.
    fn rebuild(&self, change: &Change, app: &AppSpec) -> Option<AppSpec> {
        let next = match change {
            Change::Manifest => match load(&self.manifest).and_then(|mut next| {
                // Called off the serving threads (block_in_place): the download may block.
                let fetch = super::fetch::remote(&mut next);
                tokio::runtime::Handle::current().block_on(fetch)?;
                Ok(next)
            }) {
                Ok(next) => next,
                Err(e) => {
                    eprintln!("error: {e:#}\nThe previous version keeps serving.");
                    return None;
                }
            },
            Change::Components(_) => app.clone(),
        };
        let ids: Vec<&str> = match change {
            Change::Components(ids) => ids.iter().map(String::as_str).collect(),
            Change::Manifest => Vec::new(),
        };
        for component in next
            .components
            .iter()
            .filter(|c| ids.contains(&c.id.as_str()))
        {
            let started = Instant::now();
            match kiln_build::build_component(component) {
                Ok(true) => println!(
                    "Built {} in {} ms",
                    component.id,
                    started.elapsed().as_millis()
                ),
                Ok(false) => {}
                Err(e) => {
                    eprintln!("error: {e:#}\nThe previous version keeps serving.");
                    return None;
                }
            }
        }
        Some(next)
    }
}

fn load(manifest: &std::path::Path) -> anyhow::Result<AppSpec> {
    let loaded = LoadedManifest::load(manifest)?;
    print_warnings(&loaded.warnings);
    Ok(loaded.app)
}

/// Loads `app` and starts its triggers, its HTTP handler mounted rather than listening. What
/// did not change comes from the compile cache.
async fn start(
    runtime: &Runtime,
    app: &AppSpec,
    runtime_config: &RuntimeConfig,
) -> anyhow::Result<Version> {
    let triggers = AppTriggers::configure(app)?;
    let options = AppOptions {
        runtime_config: runtime_config.clone(),
        state_dir: app.base_dir.join(".kiln"),
        ..AppOptions::default()
    };
    let loaded = LoadedApp::configure(runtime, app.clone(), &options).await?;
    let components = tokio::task::block_in_place(|| {
        loaded.load_components(&triggers.components(), &LocalFiles::default())
    })?;
    let mounted = triggers
        .start_mounted(&loaded, &components, |e| {
            eprintln!("error: a trigger failed: {e:#}")
        })
        .await?;
    Ok(Version {
        handler: mounted.handler,
        shutdown: mounted.shutdown,
        loaded,
    })
}

/// Whether component `id` of `app` can be swapped inside the running app: only HTTP routes
/// call it, and no other component is composed with it.
fn swappable(app: &AppSpec, id: &str) -> bool {
    let mut callers = app.triggers.iter().filter(|t| t.component == id).peekable();
    let http_only =
        callers.peek().is_some() && callers.all(|t| t.trigger_type == kiln_trigger::http::TYPE);
    let a_dependency = app
        .components
        .iter()
        .flat_map(|c| &c.dependencies)
        .any(|d| matches!(&d.source, DependencySource::Component(other) if other == id));
    http_only && !a_dependency
}

/// Loads the components `ids` of the running app again (the others stay as they are) and
/// puts each in place of its old version in `handler`.
fn swap(loaded: &LoadedApp, handler: &RequestHandler, ids: &[String]) -> anyhow::Result<()> {
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let components =
        tokio::task::block_in_place(|| loaded.load_components(&ids, &LocalFiles::default()))?;
    for id in ids {
        handler.replace_component(components.get::<HttpExport>(id)?);
    }
    Ok(())
}

/// Stops an old version once the requests it is serving are done (or after 10 s).
fn retire(old: Version) {
    tokio::spawn(async move {
        let deadline = Instant::now() + Duration::from_secs(10);
        while old
            .handler
            .as_ref()
            .is_some_and(|handler| Arc::strong_count(handler) > 1)
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        old.shutdown.cancel();
    });
}

fn what(change: &Change) -> String {
    match change {
        Change::Manifest => "the app".into(),
        Change::Components(ids) => ids.join(", "),
    }
}
