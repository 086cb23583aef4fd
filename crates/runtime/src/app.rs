//! [`LoadedApp`]: every component an app's triggers call, compiled, granted its capabilities and
//! pre-linked, all checked before anything listens.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use kiln_manifest::{AppSpec, ComponentSpec};

use crate::capabilities::capability::{AppContext, ComponentContext};
use crate::capabilities::outbound::LocalHttp;
use crate::grants::Grants;
use crate::http::HttpComponent;
use crate::limits::ComponentLimits;
use crate::message::MessageComponent;
use crate::options::AppOptions;
use crate::store::{AppCapabilities, ComponentCapabilities};
use crate::{LoadError, Runtime};

/// An app ready to serve. Cheap to clone.
#[derive(Clone)]
pub struct LoadedApp {
    spec: Arc<AppSpec>,
    components: Arc<HashMap<String, LoadedComponent>>,
    redis_triggers: Arc<Vec<RedisSubscription>>,
    capabilities: Arc<AppCapabilities>,
}

/// One loaded component.
#[derive(Clone)]
pub struct LoadedComponent {
    /// The component as an HTTP handler.
    pub http: HttpComponent,
}

/// A Redis trigger, ready to subscribe: its address rendered, its component loaded.
#[derive(Clone)]
pub struct RedisSubscription {
    /// The server, `redis://host:port`.
    pub address: String,
    /// The channel.
    pub channel: String,
    /// The component each message goes to.
    pub handler: MessageComponent,
}

impl LoadedApp {
    /// Configures the app's capabilities and loads every component an HTTP trigger refers to.
    pub async fn load(
        runtime: &Runtime,
        spec: AppSpec,
        options: &AppOptions,
    ) -> Result<Self, LoadError> {
        let capabilities = AppCapabilities::configure(&AppContext {
            spec: &spec,
            options,
        })
        .await?;
        let by_id: HashMap<&str, &ComponentSpec> =
            spec.components.iter().map(|c| (c.id.as_str(), c)).collect();
        let http_components = http_components(&spec);
        // Compiling is most of a cold start: several components load at once.
        let loaded = crate::parallel::try_map(&http_components, |component| {
            let granted = grant(&capabilities, component, options)?;
            let limits = limits_for(&spec, component, options);
            HttpComponent::load_granted(runtime, &component.id, &component.source, granted, limits)
        })?;
        let components: HashMap<String, LoadedComponent> = http_components
            .iter()
            .zip(loaded)
            .map(|(component, http)| (component.id.clone(), LoadedComponent { http }))
            .collect();
        let mut message_handlers = HashMap::new();
        let mut redis_triggers = Vec::new();
        for trigger in &spec.redis_triggers {
            let Some(component) = by_id.get(trigger.component.as_str()) else {
                continue; // the manifest crate guarantees this exists
            };
            if !message_handlers.contains_key(&component.id) {
                let granted = grant(&capabilities, component, options)?;
                let limits = limits_for(&spec, component, options);
                let handler = MessageComponent::load(
                    runtime,
                    &component.id,
                    &component.source,
                    granted,
                    limits,
                )?;
                message_handlers.insert(component.id.clone(), handler);
            }
            let address = capabilities
                .variables
                .render(&trigger.address)
                .map_err(|e| LoadError::Grant {
                    id: component.id.clone(),
                    reason: format!("redis trigger address \"{}\": {e:#}", trigger.address),
                })?;
            redis_triggers.push(RedisSubscription {
                address,
                channel: trigger.channel.clone(),
                handler: message_handlers[&component.id].clone(),
            });
        }
        Ok(Self {
            spec: Arc::new(spec),
            components: Arc::new(components),
            redis_triggers: Arc::new(redis_triggers),
            capabilities: Arc::new(capabilities),
        })
    }

    /// Most instances of `spec`'s components alive at once when loaded with `options`, what
    /// a runtime's pool must hold ([`crate::RuntimeOptions::sized_for`]): each HTTP
    /// component's [`ComponentLimits::instances_needed`], and one for each Redis trigger,
    /// whose messages run one at a time.
    pub fn instances_needed(spec: &AppSpec, options: &AppOptions) -> u32 {
        let http = http_components(spec)
            .into_iter()
            .map(|c| limits_for(spec, c, options).instances_needed());
        let redis = spec.redis_triggers.iter().map(|_| 1);
        http.chain(redis).fold(0, u32::saturating_add)
    }

    /// Lets the app's components send requests to the app itself (`self`): `handler` serves
    /// them through the app's routes. Held weakly; set once.
    pub fn serve_local_requests_with(&self, handler: &Arc<dyn LocalHttp>) {
        self.capabilities.outbound_http.set(handler);
    }

    /// The app as specified.
    pub fn spec(&self) -> &AppSpec {
        &self.spec
    }

    /// The app's Redis triggers, in manifest order.
    pub fn redis_triggers(&self) -> &[RedisSubscription] {
        &self.redis_triggers
    }

    /// A loaded component by id.
    pub fn component(&self, id: &str) -> Option<&LoadedComponent> {
        self.components.get(id)
    }
}

/// The components `spec`'s HTTP triggers call, each once, in trigger order.
fn http_components(spec: &AppSpec) -> Vec<&ComponentSpec> {
    let by_id: HashMap<&str, &ComponentSpec> =
        spec.components.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut seen = HashSet::new();
    spec.http_triggers
        .iter()
        // The manifest crate guarantees the component exists.
        .filter_map(|trigger| by_id.get(trigger.component.as_str()).copied())
        .filter(|component| seen.insert(component.id.as_str()))
        .collect()
}

/// A component's limits: its own, then the app's, then the command line's, then kiln's.
fn limits_for(spec: &AppSpec, component: &ComponentSpec, options: &AppOptions) -> ComponentLimits {
    ComponentLimits::resolve(component.limits.or(spec.limits).or(options.limits))
}

/// What `app`'s capabilities grant `component`: its WASI grants from its manifest entry (with
/// the app's variables rendered into it), then every capability's own.
fn grant(
    app: &AppCapabilities,
    component: &ComponentSpec,
    options: &AppOptions,
) -> Result<ComponentCapabilities, LoadError> {
    let render = |template: &str| app.variables.render(template);
    let grants = Grants::for_component(component, render, &options.state_dir)?;
    ComponentCapabilities::configure(
        app,
        &ComponentContext {
            id: &component.id.as_str().into(),
            spec: component,
            grants: &Arc::new(grants),
        },
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use kiln_manifest::{Limits, LoadedManifest};

    use super::*;

    #[test]
    fn an_app_needs_each_http_components_requests_and_one_per_redis_trigger() {
        let manifest = r#"
spin_manifest_version = 2
[application]
name = "sizes"
[application.trigger.redis]
address = "redis://127.0.0.1:6379"
[[trigger.http]]
route = "/a/..."
component = "busy"
[[trigger.http]]
route = "/b/..."
component = "busy"
[[trigger.http]]
route = "/..."
component = "default"
[[trigger.redis]]
channel = "events"
component = "listener"
[component.busy]
source = "busy.wasm"
[component.busy.tool.kiln.limits]
max_concurrent = 8
[component.default]
source = "default.wasm"
[component.listener]
source = "listener.wasm"
[component.unused]
source = "unused.wasm"
"#;
        let spec = LoadedManifest::from_text(Path::new("spin.toml"), manifest)
            .expect("a valid manifest")
            .app;
        let default = crate::limits::DEFAULT_LIMITS.max_concurrent.unwrap();
        let expected = (8 + 1) + (default + 1) + 1;
        assert_eq!(
            LoadedApp::instances_needed(&spec, &AppOptions::default()),
            expected
        );
        let options = AppOptions {
            limits: Limits {
                max_concurrent: Some(3),
                ..Limits::default()
            },
            ..AppOptions::default()
        };
        assert_eq!(
            LoadedApp::instances_needed(&spec, &options),
            (8 + 1) + (3 + 1) + 1
        );
    }
}
