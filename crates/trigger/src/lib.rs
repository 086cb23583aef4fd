//! kiln's triggers: each turns an outside event into a call of a component export.
//!
//! [`http`]: a hyper server that routes requests to `wasi:http` components. [`redis`]: Redis
//! channel subscriptions whose messages go to `inbound-redis` components. [`cron`]: schedules
//! that run `handle-cron-event` components. [`nats`]: NATS subjects whose messages go to
//! `wasmcloud:messaging/handler` components. [`mqtt`]: MQTT topics whose messages go to
//! `handle-message` components (the spin-trigger-mqtt world). [`command`]: `wasi:cli/run`
//! components run once. Each is a
//! [`Trigger`]; [`TRIGGERS`] lists them, and [`AppTriggers`] runs whichever an app has. This
//! crate uses the runtime and the manifest; it never reads TOML itself.

pub mod command;
pub mod cron;
mod dispatch;
pub mod http;
pub mod mqtt;
pub mod nats;
pub mod redis;
mod trigger;

use futures::future::BoxFuture;
use futures::StreamExt;
use kiln_manifest::{AppSpec, Key, ManifestError};
use kiln_runtime::{AppComponents, AppOptions, ComponentLimits, LoadedApp};

pub use trigger::{Configured, Started, Trigger, TriggerHost, TriggerType};

/// Every trigger type kiln runs. A trigger type is its module and one line here.
pub const TRIGGERS: &[TriggerType] = &[
    http::TRIGGER,
    redis::TRIGGER,
    cron::TRIGGER,
    nats::TRIGGER,
    mqtt::TRIGGER,
    command::TRIGGER,
];

/// The triggers of one app, each read from its manifest.
pub struct AppTriggers {
    triggers: Vec<Box<dyn Trigger>>,
    /// One line per warning, each with its `file:line:col`.
    pub warnings: Vec<String>,
}

impl AppTriggers {
    /// Reads every trigger of `app`; a trigger type kiln does not run is an error, and so is
    /// an app with no trigger at all.
    pub fn configure(app: &AppSpec) -> Result<Self, ManifestError> {
        if let Some(unknown) = app
            .triggers
            .iter()
            .find(|t| !TRIGGERS.iter().any(|known| known.name == t.trigger_type))
        {
            let kind = unknown.trigger_type.as_str();
            return Err(app.error_at(
                &[Key::from("trigger"), Key::from(kind)],
                format!(
                    "trigger type \"{kind}\" is not supported: kiln runs {}",
                    listed(" and ")
                ),
            ));
        }
        let (mut triggers, mut warnings) = (Vec::new(), Vec::new());
        for kind in TRIGGERS {
            if app.triggers_of(kind.name).next().is_some() {
                let configured = (kind.configure)(app)?;
                triggers.push(configured.trigger);
                warnings.extend(configured.warnings);
            }
        }
        if triggers.is_empty() {
            return Err(ManifestError::Invalid {
                location: kiln_manifest::Location {
                    path: app.manifest_path.clone(),
                    line_col: None,
                },
                message: format!("the app has no {}: nothing to run", listed(" or ")),
            });
        }
        Ok(Self { triggers, warnings })
    }

    /// Every component the triggers call, in trigger order (an id may repeat).
    pub fn components(&self) -> Vec<&str> {
        self.triggers.iter().flat_map(|t| t.components()).collect()
    }

    /// The most instances of `app`'s components alive at once when loaded with `options`:
    /// what a runtime's pool must hold ([`kiln_runtime::RuntimeOptions::sized_for`]).
    pub fn instances_needed(&self, app: &AppSpec, options: &AppOptions) -> u32 {
        let limits = |id: &str| match app.component(id) {
            Some(component) => ComponentLimits::for_component(app, component, options),
            None => ComponentLimits::resolve(options.limits),
        };
        self.triggers
            .iter()
            .map(|t| t.instances_needed(&limits))
            .fold(0, u32::saturating_add)
    }

    /// Starts every trigger, in [`TRIGGERS`] order; returns what each prints, and a future
    /// that runs them all until `host.shutdown`, or until one has done all the app's work
    /// (a command), and then gives kiln's exit code. It fails if a trigger does.
    pub async fn start(
        self,
        app: &LoadedApp,
        components: &AppComponents,
        host: &TriggerHost,
    ) -> anyhow::Result<(Vec<String>, BoxFuture<'static, anyhow::Result<i32>>)> {
        let mut summary = Vec::new();
        let mut running = futures::stream::FuturesUnordered::new();
        for trigger in self.triggers {
            let started = trigger.start(app, components, host).await?;
            summary.extend(started.summary);
            running.push(started.running);
        }
        let shutdown = host.shutdown.clone();
        let all = async move {
            let mut code = 0;
            while let Some(ended) = running.next().await {
                if let Some(exit) = ended? {
                    code = exit;
                    shutdown.cancel();
                }
            }
            Ok(code)
        };
        Ok((summary, Box::pin(all)))
    }

    /// Starts every trigger for a host that serves the app's HTTP handler on a listener of
    /// its own (a lattice host, `kiln watch`): the handler is mounted, not bound. The triggers
    /// run in a task until the returned token is cancelled; a trigger that fails is handed to
    /// `failed`.
    pub async fn start_mounted(
        self,
        app: &LoadedApp,
        components: &AppComponents,
        failed: impl FnOnce(anyhow::Error) + Send + 'static,
    ) -> anyhow::Result<Mounted> {
        let mount = http::HttpMount::default();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let host = TriggerHost {
            http: http::HttpBinding::Mount(mount.clone()),
            server: http::ServerOptions::default(),
            args: Vec::new(),
            shutdown: shutdown.clone(),
        };
        let (_, running) = self.start(app, components, &host).await?;
        tokio::spawn(async move {
            if let Err(e) = running.await {
                failed(e);
            }
        });
        Ok(Mounted {
            handler: mount.get().cloned(),
            shutdown,
        })
    }
}

/// An app's triggers started by [`AppTriggers::start_mounted`].
pub struct Mounted {
    /// Its HTTP handler, if it has HTTP routes.
    pub handler: Option<std::sync::Arc<http::RequestHandler>>,
    /// Stops its triggers when cancelled.
    pub shutdown: tokio_util::sync::CancellationToken,
}

/// `[[trigger.http]]`, `[[trigger.redis]]`, ... joined, the last two by `last`.
fn listed(last: &str) -> String {
    let names: Vec<String> = TRIGGERS
        .iter()
        .map(|t| format!("[[trigger.{}]]", t.name))
        .collect();
    match names.split_last() {
        Some((tail, [])) => tail.clone(),
        Some((tail, init)) => format!("{}{last}{tail}", init.join(", ")),
        None => String::new(),
    }
}
