//! Variables: `fermyon:spin/variables@2.0.0`, `spin:variables/variables@3.0.0` and
//! `wasi:config/store@0.2.0-draft-2024-09-27` (all three read the component's variables).
//!
//! Per app ([`AppVariables::resolve`]): each `[variables]` entry gets its value from, in order,
//! `--variable name=value`, the runtime config's variables providers in the order they are
//! written (`env` with its prefix; `vault`), the environment (`KILN_VARIABLE_NAME`, then
//! `SPIN_VARIABLE_NAME`), and its `default`; a required variable with no value stops the app. Per component: its
//! `variables` templates are rendered with those values. Per instance: a shared map, no work.
//! Values marked `secret` are never logged.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use kiln_manifest::{AppSpec, ComponentSpec, Template, VariableProvider};
use kiln_world::v2::variables as v2;
use kiln_world::v3::variables as v3;
use kiln_world::wasi::config_store as wasi_config;
use wasmtime::component::{Accessor, HasData, Linker};

use super::capability::{AppContext, Capability, ComponentContext};
use crate::LoadError;

/// A variables provider, ready to answer without I/O.
enum Source {
    /// `PREFIX_NAME` environment variables.
    Env { prefix: String },
    /// Values read ahead (from Vault), by variable name.
    Values(HashMap<String, String>),
}

/// The value of every application variable.
#[derive(Debug, Clone, Default)]
pub struct AppVariables {
    values: HashMap<String, String>,
}

impl AppVariables {
    /// Resolves the app's variables from `overrides` (`--variable`), `providers`, the
    /// environment and defaults. Vault is read here, once, for every declared variable.
    pub async fn resolve(
        app: &AppSpec,
        overrides: &[(String, String)],
        providers: &[VariableProvider],
    ) -> anyhow::Result<Self> {
        let mut sources = Vec::new();
        for provider in providers {
            sources.push(match provider {
                VariableProvider::Env { prefix } => Source::Env {
                    prefix: prefix.clone(),
                },
                VariableProvider::Vault {
                    url,
                    token,
                    mount,
                    prefix,
                } => {
                    let mut values = HashMap::new();
                    for name in app.variables.keys() {
                        let path = match prefix {
                            Some(prefix) => format!("{}/{name}", prefix.trim_end_matches('/')),
                            None => name.clone(),
                        };
                        let value = super::vault::read_value(url, token, mount, &path)
                            .await
                            .map_err(|e| e.context(format!("variable \"{name}\" from Vault")))?;
                        if let Some(value) = value {
                            values.insert(name.clone(), value);
                        }
                    }
                    Source::Values(values)
                }
            });
        }
        Self::resolve_with(app, overrides, &sources, |key| std::env::var(key).ok())
    }

    fn resolve_with(
        app: &AppSpec,
        overrides: &[(String, String)],
        sources: &[Source],
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        if let Some((name, _)) = overrides
            .iter()
            .find(|(name, _)| !app.variables.contains_key(name))
        {
            anyhow::bail!(
                "--variable {name}: the app declares no variable \"{name}\" in [variables]"
            );
        }
        let mut values = HashMap::new();
        for (name, spec) in &app.variables {
            let upper = name.to_ascii_uppercase();
            let value = overrides
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .or_else(|| {
                    sources.iter().find_map(|source| match source {
                        Source::Env { prefix } => env(&format!("{prefix}_{upper}")),
                        Source::Values(values) => values.get(name).cloned(),
                    })
                })
                .or_else(|| env(&format!("KILN_VARIABLE_{upper}")))
                .or_else(|| env(&format!("SPIN_VARIABLE_{upper}")))
                .or_else(|| spec.default.clone());
            match value {
                Some(value) => {
                    values.insert(name.clone(), value);
                }
                None if spec.required => anyhow::bail!(
                    "variable \"{name}\" is required and has no value: set it with --variable {name}=VALUE or KILN_VARIABLE_{upper}"
                ),
                None => {}
            }
        }
        Ok(Self { values })
    }

    /// Renders `template` (`"https://{{ host }}"`) with these values.
    pub fn render(&self, template: &str) -> anyhow::Result<String> {
        let template = Template::parse(template).map_err(|e| anyhow::anyhow!(e))?;
        template
            .render(|name| self.values.get(name).cloned())
            .map_err(|missing| anyhow::anyhow!("variable \"{missing}\" has no value"))
    }

    /// The component's own variables, rendered.
    pub fn for_component(&self, component: &ComponentSpec) -> anyhow::Result<VariablesGrant> {
        let mut values = BTreeMap::new();
        for (name, template) in &component.variables {
            let value = self
                .render(template)
                .map_err(|e| anyhow::anyhow!("component variable \"{name}\": {e}"))?;
            values.insert(name.clone(), value);
        }
        Ok(VariablesGrant {
            values: Arc::new(values),
        })
    }
}

/// The variables one component may read, with their values.
#[derive(Debug, Clone, Default)]
pub struct VariablesGrant {
    values: Arc<BTreeMap<String, String>>,
}

/// Why a variable could not be read; each interface has its own error type with these cases.
enum Lookup {
    InvalidName(String),
    Undefined(String),
}

impl VariablesGrant {
    fn lookup(&self, name: &str) -> Result<String, Lookup> {
        if !kiln_manifest::is_variable_name(name) {
            return Err(Lookup::InvalidName(format!(
                "\"{name}\" is not a valid variable name: use lower_snake_case"
            )));
        }
        self.values
            .get(name)
            .cloned()
            .ok_or_else(|| Lookup::Undefined(format!("no variable for \"{name}\"")))
    }
}

/// Per-instance state.
pub struct VariablesInstance {
    grant: Arc<VariablesGrant>,
}

/// Variables: the app's values, resolved once; each component's variables, rendered at load.
pub(crate) struct Variables;

impl Capability for Variables {
    type AppState = AppVariables;
    type ComponentState = VariablesGrant;
    type InstanceState = VariablesInstance;

    fn link<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut VariablesInstance,
    ) -> anyhow::Result<()> {
        v2::add_to_linker::<_, HasVariables>(linker, get)?;
        v3::add_to_linker::<_, HasVariables>(linker, get)?;
        wasi_config::add_to_linker::<_, HasVariables>(linker, get)?;
        Ok(())
    }

    async fn configure_app(app: &AppContext<'_>) -> Result<AppVariables, LoadError> {
        let options = app.options;
        let providers = &options.runtime_config.variable_providers;
        AppVariables::resolve(app.spec, &options.variables, providers)
            .await
            .map_err(|reason| LoadError::Configure {
                what: "variables",
                reason,
            })
    }

    fn configure_component(
        variables: &AppVariables,
        component: &ComponentContext<'_>,
    ) -> Result<VariablesGrant, LoadError> {
        variables
            .for_component(component.spec)
            .map_err(|e| component.refuse(format!("{e:#}")))
    }

    fn new_instance(grant: &Arc<VariablesGrant>, _id: &Arc<str>) -> VariablesInstance {
        VariablesInstance {
            grant: grant.clone(),
        }
    }
}

/// `HasData` marker for linking.
pub(crate) struct HasVariables;

impl HasData for HasVariables {
    type Data<'a> = &'a mut VariablesInstance;
}

impl v2::Host for VariablesInstance {
    async fn get(&mut self, name: String) -> anyhow::Result<Result<String, v2::Error>> {
        Ok(self.grant.lookup(&name).map_err(|e| match e {
            Lookup::InvalidName(m) => v2::Error::InvalidName(m),
            Lookup::Undefined(m) => v2::Error::Undefined(m),
        }))
    }
}

impl v3::Host for VariablesInstance {}

impl wasi_config::Host for VariablesInstance {
    async fn get(
        &mut self,
        key: String,
    ) -> anyhow::Result<Result<Option<String>, wasi_config::Error>> {
        Ok(Ok(self.grant.values.get(&key).cloned()))
    }

    async fn get_all(
        &mut self,
    ) -> anyhow::Result<Result<Vec<(String, String)>, wasi_config::Error>> {
        Ok(Ok(self
            .grant
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()))
    }
}

impl<T> v3::HostWithStore<T> for HasVariables {
    async fn get(
        accessor: &Accessor<T, Self>,
        name: String,
    ) -> anyhow::Result<Result<String, v3::Error>> {
        let grant = accessor.with(|mut access| access.get().grant.clone());
        Ok(grant.lookup(&name).map_err(|e| match e {
            Lookup::InvalidName(m) => v3::Error::InvalidName(m),
            Lookup::Undefined(m) => v3::Error::Undefined(m),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_manifest::LoadedManifest;

    fn app() -> AppSpec {
        let text = r#"spin_manifest_version = 2
[application]
name = "v"
[variables]
host = { default = "example.com" }
token = { required = true, secret = true }
port = { default = "80" }
[[trigger.http]]
route = "/..."
component = "c"
[component.c]
source = "c.wasm"
variables = { url = "https://{{ host }}:{{ port }}/", token = "{{ token }}" }
"#;
        LoadedManifest::from_text(std::path::Path::new("/app/spin.toml"), text)
            .unwrap()
            .app
    }

    #[test]
    fn overrides_beat_the_environment_which_beats_defaults() {
        let env = |key: &str| match key {
            "KILN_VARIABLE_PORT" => Some("8080".to_string()),
            "SPIN_VARIABLE_PORT" => Some("9090".to_string()),
            "SPIN_VARIABLE_TOKEN" => Some("from-env".to_string()),
            _ => None,
        };
        let vars =
            AppVariables::resolve_with(&app(), &[("host".into(), "cli.test".into())], &[], env)
                .unwrap();
        let grant = vars.for_component(app().component("c").unwrap()).unwrap();
        assert_eq!(grant.values["url"], "https://cli.test:8080/");
        assert_eq!(grant.values["token"], "from-env");
    }

    #[test]
    fn providers_come_in_their_order_before_the_environment() {
        let env = |key: &str| match key {
            "MYAPP_PORT" => Some("1".to_string()),
            "KILN_VARIABLE_PORT" => Some("2".to_string()),
            "KILN_VARIABLE_TOKEN" => Some("from-env".to_string()),
            _ => None,
        };
        let vault = Source::Values(HashMap::from([
            ("port".to_string(), "3".to_string()),
            ("host".to_string(), "vault.test".to_string()),
        ]));
        let env_first = [
            Source::Env {
                prefix: "MYAPP".into(),
            },
            vault,
        ];
        let vars = AppVariables::resolve_with(&app(), &[], &env_first, env).unwrap();
        let grant = vars.for_component(app().component("c").unwrap()).unwrap();
        assert_eq!(grant.values["url"], "https://vault.test:1/");
        assert_eq!(grant.values["token"], "from-env");
    }

    #[test]
    fn a_required_variable_without_a_value_stops_the_app() {
        let error = AppVariables::resolve_with(&app(), &[], &[], |_| None)
            .unwrap_err()
            .to_string();
        assert!(error.contains("variable \"token\" is required"), "{error}");
    }

    #[test]
    fn an_undeclared_override_is_an_error() {
        let error =
            AppVariables::resolve_with(&app(), &[("nope".into(), "x".into())], &[], |_| None)
                .unwrap_err()
                .to_string();
        assert!(error.contains("declares no variable \"nope\""), "{error}");
    }
}
