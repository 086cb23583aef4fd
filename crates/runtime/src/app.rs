//! [`LoadedApp`]: every component an app's triggers call, compiled, granted its capabilities and
//! pre-linked, all checked before anything listens.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use kiln_manifest::{AppSpec, ComponentSpec, Limits, RuntimeConfig};

use crate::capabilities::key_value::{configure_stores, KeyValueStores};
use crate::capabilities::outbound::{AllowedHost, LocalHttp, LocalHttpSlot};
use crate::capabilities::sqlite::{configure_databases, SqliteDatabases};
use crate::capabilities::variables::AppVariables;
use crate::capabilities::ServerConnections;
use crate::grants::{DirGrant, Grants, GuestStdio, Outbound};
use crate::guest_logs::GuestLogs;
use crate::http::HttpComponent;
use crate::limits::ComponentLimits;
use crate::message::MessageComponent;
use crate::{LoadError, Runtime};

/// How to load an app: where its state lives, and what the command line adds.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// The app's state directory (`.kiln/` beside the manifest): embedded stores, staged files.
    pub state_dir: PathBuf,
    /// `--variable name=value` pairs, in order (later ones win).
    pub variables: Vec<(String, String)>,
    /// SQL run on the `default` database before serving (`--sqlite`).
    pub sqlite_statements: Vec<String>,
    /// Where stores and databases live (`--runtime-config-file`); empty: the embedded defaults.
    pub runtime_config: RuntimeConfig,
    /// Limits for components whose manifest sets none (the command line's); kiln's defaults
    /// fill in the rest.
    pub limits: Limits,
}

/// An app ready to serve. Cheap to clone.
#[derive(Clone)]
pub struct LoadedApp {
    spec: Arc<AppSpec>,
    components: Arc<HashMap<String, LoadedComponent>>,
    redis_triggers: Arc<Vec<RedisSubscription>>,
    local_http: LocalHttpSlot,
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

/// The capability state an app configures once and its components share.
struct AppCapabilities {
    variables: AppVariables,
    key_value: KeyValueStores,
    sqlite: SqliteDatabases,
    local_http: LocalHttpSlot,
    connections: ServerConnections,
}

impl LoadedApp {
    /// Configures the app's capabilities and loads every component an HTTP trigger refers to.
    pub async fn load(
        runtime: &Runtime,
        spec: AppSpec,
        options: &AppOptions,
    ) -> Result<Self, LoadError> {
        let capabilities = AppCapabilities::configure(&spec, options).await?;
        let by_id: HashMap<&str, &ComponentSpec> =
            spec.components.iter().map(|c| (c.id.as_str(), c)).collect();
        let http_components = http_components(&spec);
        // Compiling is most of a cold start: several components load at once.
        let loaded = crate::parallel::try_map(&http_components, |component| {
            let grants = capabilities.grants_for(component, options)?;
            let limits = limits_for(&spec, component, options);
            HttpComponent::load(runtime, &component.id, &component.source, grants, limits)
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
                let grants = capabilities.grants_for(component, options)?;
                let limits = limits_for(&spec, component, options);
                let handler = MessageComponent::load(
                    runtime,
                    &component.id,
                    &component.source,
                    grants,
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
            local_http: capabilities.local_http,
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
        self.local_http.set(handler);
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

impl AppCapabilities {
    async fn configure(spec: &AppSpec, options: &AppOptions) -> Result<Self, LoadError> {
        let configure = |what: &'static str| move |reason| LoadError::Configure { what, reason };
        let variables = AppVariables::resolve(
            spec,
            &options.variables,
            &options.runtime_config.variable_providers,
        )
        .await
        .map_err(configure("variables"))?;
        let uses = |labels: fn(&ComponentSpec) -> &Vec<String>| {
            spec.components.iter().any(|c| !labels(c).is_empty())
        };
        let config = &options.runtime_config;
        let key_value = configure_stores(
            &options.state_dir,
            uses(|c| &c.key_value_stores),
            &config.key_value_stores,
        )
        .map_err(configure("key-value stores"))?;
        let sqlite = configure_databases(
            &options.state_dir,
            uses(|c| &c.sqlite_databases) || !options.sqlite_statements.is_empty(),
            &config.sqlite_databases,
        )
        .map_err(configure("SQLite databases"))?;
        if let Some(default) = sqlite.get("default") {
            for statement in &options.sqlite_statements {
                default
                    .execute_batch(statement)
                    .await
                    .map_err(|e| LoadError::Configure {
                        what: "--sqlite",
                        reason: e.context(format!("running `{statement}` on the default database")),
                    })?;
            }
        }
        Ok(Self {
            variables,
            key_value,
            sqlite,
            local_http: LocalHttpSlot::default(),
            connections: ServerConnections::default(),
        })
    }

    /// What the manifest grants `component`: its environment, its files (read-only at `/`), its
    /// outbound hosts, stores, databases and variables.
    fn grants_for(
        &self,
        component: &ComponentSpec,
        options: &AppOptions,
    ) -> Result<Grants, LoadError> {
        let id = &component.id;
        let grant_error = |reason: String| LoadError::Grant {
            id: id.clone(),
            reason,
        };
        for label in &component.key_value_stores {
            if self.key_value.get(label).is_none() {
                return Err(grant_error(format!(
                    "key_value_stores: store \"{label}\" is not defined: kiln provides \"default\"; define others as [key_value_store.{label}] in a file passed with --runtime-config-file"
                )));
            }
        }
        for label in &component.sqlite_databases {
            if self.sqlite.get(label).is_none() {
                return Err(grant_error(format!(
                    "sqlite_databases: database \"{label}\" is not defined: kiln provides \"default\"; define others as [sqlite_database.{label}] in a file passed with --runtime-config-file"
                )));
            }
        }
        let mut dirs = Vec::new();
        if !component.files.is_empty() {
            let root = crate::files::stage(&options.state_dir, id, &component.files).map_err(
                |reason| LoadError::Files {
                    id: id.clone(),
                    reason,
                },
            )?;
            dirs.push(DirGrant {
                host: root,
                guest: "/".into(),
                read_only: true,
            });
        }
        let mut hosts = Vec::new();
        for entry in &component.allowed_outbound_hosts {
            let rendered = self
                .variables
                .render(entry)
                .map_err(|e| grant_error(format!("allowed_outbound_hosts \"{entry}\": {e:#}")))?;
            hosts.push(
                AllowedHost::parse(&rendered)
                    .map_err(|e| grant_error(format!("allowed_outbound_hosts: {e}")))?,
            );
        }
        let variables = self
            .variables
            .for_component(component)
            .map_err(|e| grant_error(format!("{e:#}")))?;
        let log_dir = options.state_dir.join("logs");
        let logs = GuestLogs::open(&log_dir, id).map_err(|e| {
            grant_error(format!(
                "opening its log files in {}: {e}",
                log_dir.display()
            ))
        })?;
        Ok(Grants {
            env: component.environment.clone(),
            dirs,
            outbound: if hosts.is_empty() {
                Outbound::Denied
            } else {
                Outbound::AllowList(hosts)
            },
            stdio: GuestStdio::Logged(logs),
            key_value: self.key_value.grant(&component.key_value_stores),
            sqlite: self.sqlite.grant(&component.sqlite_databases),
            variables,
            local_http: self.local_http.clone(),
            connections: self.connections.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use kiln_manifest::LoadedManifest;

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
