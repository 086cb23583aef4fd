//! [`Capability`]: the three phases every host interface family goes through, and what each
//! phase is given. The list of capabilities is in [`crate::store`], where the state of an
//! instance is made from it.

use std::future::Future;
use std::sync::Arc;

use kiln_manifest::{AppSpec, ComponentSpec};
use wasmtime::component::Linker;

use crate::grants::Grants;
use crate::options::AppOptions;
use crate::LoadError;

/// A family of host interfaces: its host functions, the state it builds once per app, what it
/// grants each component, and the cheap per-instance handles it hands each `Store`.
pub(crate) trait Capability {
    /// Built once per app: backends, pools, clients. Its default serves a lone component
    /// (`kiln serve`, `kiln run`), which an app configures nothing for.
    type AppState: Default + Send + Sync + 'static;
    /// What one component is granted, built once at load. Shared by its instances.
    type ComponentState: Send + Sync + 'static;
    /// One instance's state: handles only, made with no I/O.
    type InstanceState: Send + 'static;

    /// Adds the capability's host functions to `linker`; `get` finds its instance state.
    fn link<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut Self::InstanceState,
    ) -> anyhow::Result<()>;

    /// Reads the app's backends from its runtime config and opens them.
    fn configure_app(
        _app: &AppContext<'_>,
    ) -> impl Future<Output = Result<Self::AppState, LoadError>> + Send {
        async { Ok(Self::AppState::default()) }
    }

    /// What the component may reach of the app's backends, from its manifest entry; an error
    /// names the component and the entry to fix.
    fn configure_component(
        app: &Self::AppState,
        component: &ComponentContext<'_>,
    ) -> Result<Self::ComponentState, LoadError>;

    /// The state of one new instance of a component.
    fn new_instance(component: &Arc<Self::ComponentState>, id: &Arc<str>) -> Self::InstanceState;
}

/// What a capability configures an app from.
pub(crate) struct AppContext<'a> {
    /// The app.
    pub(crate) spec: &'a AppSpec,
    /// What the command line adds: state directory, runtime config, `--sqlite`.
    pub(crate) options: &'a AppOptions,
}

/// What a capability grants a component from.
pub(crate) struct ComponentContext<'a> {
    /// The component id.
    pub(crate) id: &'a Arc<str>,
    /// Its manifest entry (empty for a lone component).
    pub(crate) spec: &'a ComponentSpec,
    /// Its WASI grants: environment, directories, stdio and outbound network.
    pub(crate) grants: &'a Arc<Grants>,
}

impl ComponentContext<'_> {
    /// The load error refusing this component's manifest entry, for `reason`.
    pub(crate) fn refuse(&self, reason: String) -> LoadError {
        LoadError::Grant {
            id: self.id.to_string(),
            reason,
        }
    }
}
