//! [`Trigger`]: what every trigger type does for an app. It reads its own part of the
//! manifest, says which components it calls (so they load before anything listens) and how
//! many of their instances it may hold at once (so the pool is sized for it), then turns its
//! events into calls of their exports, under the components' limits.

use futures::future::BoxFuture;
use kiln_manifest::{AppSpec, ManifestError};
use kiln_runtime::{AppComponents, ComponentLimits, LoadedApp};
use tokio_util::sync::CancellationToken;

use crate::http::{HttpBinding, ServerOptions};

/// A trigger type: its name (`TYPE` in `[[trigger.TYPE]]`) and how it reads an app.
pub struct TriggerType {
    /// `TYPE` in `[[trigger.TYPE]]`.
    pub name: &'static str,
    /// Reads the app's entries of this type (there is at least one) and checks them.
    pub configure: fn(&AppSpec) -> Result<Configured, ManifestError>,
}

/// A trigger read from an app's manifest, and what it warned about.
pub struct Configured {
    /// The trigger, ready to start.
    pub trigger: Box<dyn Trigger>,
    /// One line per warning (unknown fields), each with its `file:line:col`.
    pub warnings: Vec<String>,
}

/// One trigger type's entries of one app, checked and ready to start.
#[async_trait::async_trait]
pub trait Trigger: Send {
    /// The components it calls, in manifest order (an id may repeat).
    fn components(&self) -> Vec<&str>;

    /// The most instances of its components alive at once, when `limits` tells what each
    /// component runs under.
    fn instances_needed(&self, limits: &dyn Fn(&str) -> ComponentLimits) -> u32;

    /// Takes its components from `components` (checking that each exports what it calls)
    /// and gets ready to take events: binds, subscribes. What it returns takes events until
    /// `host.shutdown` is cancelled, then lets those in flight finish.
    async fn start(
        self: Box<Self>,
        app: &LoadedApp,
        components: &AppComponents,
        host: &TriggerHost,
    ) -> anyhow::Result<Started>;
}

/// A started trigger.
pub struct Started {
    /// What it serves or listens to, for the user: one line each.
    pub summary: Vec<String>,
    /// Takes events until the host shuts down (then `None`), or until the trigger has done
    /// all the app's work (a command): then `Some` exit code, and the host stops.
    pub running: BoxFuture<'static, anyhow::Result<Option<i32>>>,
}

/// What the host gives every trigger.
pub struct TriggerHost {
    /// Where the HTTP trigger serves its routes.
    pub http: HttpBinding,
    /// How the HTTP trigger treats its clients.
    pub server: ServerOptions,
    /// The arguments a command trigger passes its component (after the component id).
    pub args: Vec<String>,
    /// Cancelled when the host is asked to stop.
    pub shutdown: CancellationToken,
}

/// The error for an export's own error result (`result<_, error>`): the guest ran, and said
/// the event failed.
pub(crate) fn guest_answered(error: impl std::fmt::Debug) -> wasmtime::Error {
    wasmtime::format_err!("the guest answered with an error: {error:?}")
}
