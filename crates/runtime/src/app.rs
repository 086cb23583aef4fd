//! [`LoadedApp`]: an app's capabilities configured once, and its components loaded (compiled,
//! granted their capabilities and pre-linked) before anything listens. It knows no trigger:
//! triggers say which components they call ([`LoadedApp::load_components`]) and through which
//! export ([`AppComponents::get`]).

use std::collections::HashMap;
use std::sync::Arc;

use kiln_manifest::{AppSpec, ComponentSpec, ContentStore, DependencySource};

use crate::capabilities::capability::{AppContext, ComponentContext};
use crate::capabilities::outbound::LocalHttp;
use crate::code::CodeTier;
use crate::component::{Component, Export};
use crate::grants::Grants;
use crate::instance::InstanceRecipe;
use crate::limits::ComponentLimits;
use crate::loader::{Linked, Source, SourceDependency};
use crate::options::AppOptions;
use crate::store::{AppCapabilities, ComponentCapabilities};
use crate::{LoadError, Runtime};

/// An app whose capabilities are configured. Cheap to clone.
#[derive(Clone)]
pub struct LoadedApp {
    runtime: Runtime,
    spec: Arc<AppSpec>,
    options: Arc<AppOptions>,
    capabilities: Arc<AppCapabilities>,
}

/// Components of an app, loaded and granted, for triggers to take through their exports.
/// Dropped once the triggers have what they call, so that only they hold the loaded forms.
pub struct AppComponents {
    runtime: Runtime,
    loaded: HashMap<String, Prepared>,
}

/// One component, pre-linked and granted.
struct Prepared {
    linked: Linked,
    capabilities: Arc<ComponentCapabilities>,
    limits: kiln_manifest::Limits,
}

impl LoadedApp {
    /// Configures the app's capabilities (stores, databases, variables, pools) for `spec`.
    pub async fn configure(
        runtime: &Runtime,
        spec: AppSpec,
        options: &AppOptions,
    ) -> Result<Self, LoadError> {
        let capabilities = AppCapabilities::configure(&AppContext {
            spec: &spec,
            options,
        })
        .await?;
        Ok(Self {
            runtime: runtime.clone(),
            spec: Arc::new(spec),
            options: Arc::new(options.clone()),
            capabilities: Arc::new(capabilities),
        })
    }

    /// Loads the components `ids` names (each once; the manifest crate guarantees they exist),
    /// several at once: their Wasm and files read from `content` (by digest once the app is
    /// locked), compiled (or taken from the compile cache), granted and pre-linked. The first
    /// broken one in the order given is the error.
    pub fn load_components(
        &self,
        ids: &[&str],
        content: &dyn ContentStore,
    ) -> Result<AppComponents, LoadError> {
        let by_id: HashMap<&str, &ComponentSpec> = self
            .spec
            .components
            .iter()
            .map(|c| (c.id.as_str(), c))
            .collect();
        let mut seen = std::collections::HashSet::new();
        let components: Vec<&ComponentSpec> = ids
            .iter()
            .filter_map(|id| by_id.get(id).copied())
            .filter(|component| seen.insert(component.id.as_str()))
            .collect();
        // Compiling is most of a cold start: several components load at once.
        let prepared = crate::parallel::try_map(&components, |component| {
            let source = Source {
                path: component.source.local_path(content).map_err(|reason| {
                    LoadError::Content {
                        id: component.id.clone(),
                        reason,
                    }
                })?,
                digest: component.source.digest().map(str::to_string),
                dependencies: resolve_dependencies(&self.spec, component, content)?,
            };
            Ok(Prepared {
                capabilities: Arc::new(self.grant(component, content)?),
                linked: crate::loader::pre_link(
                    &self.runtime,
                    &component.id,
                    &source,
                    CodeTier::Baseline,
                )?,
                limits: merged_limits(&self.spec, component, &self.options),
            })
        })?;
        let loaded = components
            .iter()
            .map(|c| c.id.clone())
            .zip(prepared)
            .collect();
        Ok(AppComponents {
            runtime: self.runtime.clone(),
            loaded,
        })
    }

    /// Lets the app's components send requests to the app itself (`self`): `handler` serves
    /// them through the app's routes. Held weakly; set once.
    pub fn serve_local_requests_with(&self, handler: &Arc<dyn LocalHttp>) {
        self.capabilities.outbound_http.set(handler);
    }

    /// `template` with the app's variables rendered into it (`redis://{{ host }}:6379`).
    pub fn render(&self, template: &str) -> anyhow::Result<String> {
        self.capabilities.variables.render(template)
    }

    /// The app as specified.
    pub fn spec(&self) -> &AppSpec {
        &self.spec
    }

    /// What `self`'s capabilities grant `component`: its WASI grants from its manifest entry
    /// (with the app's variables rendered into it), then every capability's own.
    fn grant(
        &self,
        component: &ComponentSpec,
        content: &dyn ContentStore,
    ) -> Result<ComponentCapabilities, LoadError> {
        let render = |template: &str| self.capabilities.variables.render(template);
        let grants = Grants::for_component(component, render, &self.options.state_dir, content)?;
        ComponentCapabilities::configure(
            &self.capabilities,
            &ComponentContext {
                id: &component.id.as_str().into(),
                spec: component,
                grants: &Arc::new(grants),
            },
        )
    }
}

impl AppComponents {
    /// The component `id`, called through its export `E` (checked here). Each call makes a
    /// component of its own, with its own request slots.
    pub fn get<E: Export>(&self, id: &str) -> Result<Component<E>, LoadError> {
        let prepared = self
            .loaded
            .get(id)
            .ok_or_else(|| LoadError::NotLoaded { id: id.to_string() })?;
        let limits = ComponentLimits::resolve(prepared.limits);
        let recipe = InstanceRecipe::new(&self.runtime, id, prepared.capabilities.clone(), limits);
        Component::new(recipe, prepared.linked.clone())
    }

    /// The components `ids` names, each once (so every event for one component shares its
    /// request slots), by id.
    pub fn get_each<'a, E: Export>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashMap<String, Component<E>>, LoadError> {
        let mut components = HashMap::new();
        for id in ids {
            if !components.contains_key(id) {
                components.insert(id.to_string(), self.get(id)?);
            }
        }
        Ok(components)
    }
}

impl ComponentLimits {
    /// The limits `component` of `spec` runs under when loaded with `options`: its own, then
    /// the app's, then the command line's, then kiln's.
    pub fn for_component(spec: &AppSpec, component: &ComponentSpec, options: &AppOptions) -> Self {
        Self::resolve(merged_limits(spec, component, options))
    }
}

fn merged_limits(
    spec: &AppSpec,
    component: &ComponentSpec,
    options: &AppOptions,
) -> kiln_manifest::Limits {
    component.limits.or(spec.limits).or(options.limits)
}

/// `component`'s dependencies, each resolved to its Wasm file (another component's source,
/// for `{ component = "id" }`).
pub(crate) fn resolve_dependencies(
    app: &AppSpec,
    component: &ComponentSpec,
    content: &dyn ContentStore,
) -> Result<Vec<SourceDependency>, LoadError> {
    component
        .dependencies
        .iter()
        .map(|dependency| {
            let path = match &dependency.source {
                DependencySource::File(path) => path.clone(),
                DependencySource::Url { .. } | DependencySource::Registry { .. } => {
                    return Err(LoadError::Grant {
                        id: component.id.clone(),
                        reason: format!(
                            "dependency \"{}\" was not fetched before loading",
                            dependency.import
                        ),
                    })
                }
                DependencySource::Component(id) => app
                    .component(id)
                    .ok_or_else(|| LoadError::NotLoaded { id: id.clone() })?
                    .source
                    .local_path(content)
                    .map_err(|reason| LoadError::Content {
                        id: id.clone(),
                        reason,
                    })?,
            };
            Ok(SourceDependency {
                import: dependency.import.clone(),
                export: dependency.export.clone(),
                path,
                inherit_configuration: dependency.inherit_configuration,
            })
        })
        .collect()
}

/// The component `id` of `app` composed with its dependencies, as loading it composes it
/// (`kiln compose`).
pub fn compose_component(
    app: &AppSpec,
    id: &str,
    content: &dyn ContentStore,
) -> Result<Vec<u8>, LoadError> {
    let component = app
        .component(id)
        .ok_or_else(|| LoadError::NotLoaded { id: id.to_string() })?;
    let path = component
        .source
        .local_path(content)
        .map_err(|reason| LoadError::Content {
            id: id.to_string(),
            reason,
        })?;
    let (wasm, _) = crate::loader::read_wasm(id, &path)?;
    let dependencies = resolve_dependencies(app, component, content)?;
    crate::loader::compose(id, &wasm, &dependencies)
}
