//! Spin's locked application: the JSON (`spin.lock`) a Spin registry artifact carries, with
//! every component source and file named by its digest. [`LockedApp::from_app`] writes it for a
//! locked [`AppSpec`]; [`LockedApp::into_app`] reads it back, from kiln's artifacts and Spin's
//! alike. kiln's own limits travel in metadata Spin ignores (`kiln.limits`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use kiln_manifest::{
    AppSpec, ComponentSpec, Content, FileMount, Limits, TriggerSpec, VariableSpec,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A locked app as Spin writes and reads it (`spin_lock_version` 0 or 1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockedApp {
    /// 0 when nothing below needs understanding, as Spin writes it.
    pub spin_lock_version: u32,
    /// Fields a host must understand to run the app.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub must_understand: Vec<String>,
    /// `name`, `version`, `description`, `triggers` (settings by trigger type), ...
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// Features the host must have.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub host_requirements: Map<String, Value>,
    /// Application variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, LockedVariable>,
    /// Every trigger entry.
    pub triggers: Vec<LockedTrigger>,
    /// Every component.
    pub components: Vec<LockedComponent>,
}

/// An application variable: required when it has no default.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockedVariable {
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its value when nothing provides one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Never logged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

/// One `[[trigger.TYPE]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockedTrigger {
    /// The trigger id.
    pub id: String,
    /// `http`, `redis`, ...
    pub trigger_type: String,
    /// Its fields, with `component`.
    pub trigger_config: Value,
}

/// One component.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockedComponent {
    /// The component id.
    pub id: String,
    /// `description`, `allowed_outbound_hosts`, `key_value_stores`, `databases`, `ai_models`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// The Wasm.
    pub source: LockedSource,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Files the guest sees.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ContentPath>,
    /// Component variables: name to template.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, String>,
    /// Components composed into this one (not run by kiln yet).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub dependencies: Map<String, Value>,
    /// Features the host must have.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub host_requirements: Map<String, Value>,
}

/// A component's Wasm.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockedSource {
    /// `application/wasm`.
    pub content_type: String,
    /// Where the bytes are.
    #[serde(flatten)]
    pub content: ContentRef,
}

/// A file at a path of the guest's filesystem.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContentPath {
    /// Where the bytes are.
    #[serde(flatten)]
    pub content: ContentRef,
    /// The guest path, relative to `/`.
    pub path: String,
}

/// Content: by digest (a layer of the artifact), and small content also inline.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContentRef {
    /// A URL of the content (Spin's local apps; not in registry artifacts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The content itself, base64-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<String>,
    /// `sha256:HEX`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// Why a locked app cannot become an app kiln runs.
#[derive(Debug, thiserror::Error)]
pub enum LockedError {
    /// The app needs something kiln does not do.
    #[error("{0}")]
    Unsupported(String),
    /// The locked app is not well formed.
    #[error("the locked app is malformed: {0}")]
    Malformed(String),
}

/// Content a locked app carries inline: its digest and its bytes.
pub type Inline = (String, Vec<u8>);

/// Metadata key of kiln's own settings, which Spin ignores.
const KILN_METADATA: &str = "kiln";

impl LockedApp {
    /// The locked form of `app`, whose sources and files must be named by digest
    /// ([`AppSpec::lock`]); content is not inlined (the artifact's assembly does that).
    pub fn from_app(app: &AppSpec) -> Result<Self, LockedError> {
        if let Some(component) = app.components.iter().find(|c| !c.dependencies.is_empty()) {
            return Err(LockedError::Unsupported(format!(
                "component \"{}\" has dependencies: compose it first (kiln registry push does; kiln compose -f MANIFEST {} -o composed.wasm)",
                component.id, component.id
            )));
        }
        let mut metadata = Map::new();
        metadata.insert("name".into(), app.name.clone().into());
        for (key, value) in [("version", &app.version), ("description", &app.description)] {
            if !value.is_empty() {
                metadata.insert(key.into(), value.clone().into());
            }
        }
        let settings: Map<String, Value> = app
            .trigger_settings
            .iter()
            .map(|(kind, table)| (kind.clone(), Value::Object(table.clone())))
            .collect();
        metadata.insert("triggers".into(), Value::Object(settings));
        // Spin also keeps the settings of an app's only trigger type under `trigger`.
        let mut kinds: Vec<&str> = app
            .triggers
            .iter()
            .map(|t| t.trigger_type.as_str())
            .collect();
        kinds.dedup();
        if let [kind] = kinds[..] {
            let mut single = app.trigger_settings.get(kind).cloned().unwrap_or_default();
            single.insert("type".into(), kind.into());
            metadata.insert("trigger".into(), Value::Object(single));
        }
        if let Some(limits) = limits_metadata(&app.limits) {
            metadata.insert(KILN_METADATA.into(), limits);
        }
        let variables = app
            .variables
            .iter()
            .map(|(name, v)| {
                let variable = LockedVariable {
                    description: None,
                    default: v.default.clone(),
                    secret: v.secret,
                };
                (name.clone(), variable)
            })
            .collect();
        let triggers = app
            .triggers
            .iter()
            .map(|t| {
                let mut config = t.config.clone();
                config.insert("component".into(), t.component.clone().into());
                LockedTrigger {
                    id: t.id.clone(),
                    trigger_type: t.trigger_type.clone(),
                    trigger_config: Value::Object(config),
                }
            })
            .collect();
        let components = app
            .components
            .iter()
            .map(locked_component)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            spin_lock_version: 0,
            must_understand: Vec::new(),
            metadata,
            host_requirements: Map::new(),
            variables,
            triggers,
            components,
        })
    }

    /// The app this locked app describes, named `origin` (the reference it came from) and
    /// keeping its state under `base_dir`; with the content it carried inline, by digest.
    pub fn into_app(
        self,
        origin: &str,
        base_dir: PathBuf,
    ) -> Result<(AppSpec, Vec<Inline>), LockedError> {
        if let Some(field) = self.must_understand.first() {
            return Err(LockedError::Unsupported(format!(
                "the app needs the host to understand \"{field}\", which kiln does not"
            )));
        }
        if let Some(feature) = self.host_requirements.keys().next() {
            return Err(LockedError::Unsupported(format!(
                "the app requires the host feature \"{feature}\", which kiln does not have"
            )));
        }
        let text = |key: &str| {
            self.metadata
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let mut inline = Vec::new();
        let components = self
            .components
            .into_iter()
            .map(|c| component_spec(c, &mut inline))
            .collect::<Result<_, _>>()?;
        let mut per_type: BTreeMap<String, usize> = BTreeMap::new();
        let triggers = self
            .triggers
            .into_iter()
            .map(|t| {
                let Value::Object(mut config) = t.trigger_config else {
                    return Err(LockedError::Malformed(format!(
                        "trigger \"{}\" has no table of fields",
                        t.id
                    )));
                };
                let Some(Value::String(component)) = config.remove("component") else {
                    return Err(LockedError::Unsupported(format!(
                        "trigger \"{}\" names no single component",
                        t.id
                    )));
                };
                let index = per_type.entry(t.trigger_type.clone()).or_default();
                let spec = TriggerSpec {
                    trigger_type: t.trigger_type,
                    index: *index,
                    id: t.id,
                    component,
                    config,
                };
                *index += 1;
                Ok(spec)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let trigger_settings = trigger_settings(&self.metadata);
        let limits = self
            .metadata
            .get(KILN_METADATA)
            .map(read_limits)
            .transpose()?
            .unwrap_or_default();
        let variables = self
            .variables
            .into_iter()
            .map(|(name, v)| {
                let spec = VariableSpec {
                    required: v.default.is_none(),
                    default: v.default,
                    secret: v.secret,
                };
                (name, spec)
            })
            .collect();
        let app = AppSpec {
            name: text("name"),
            version: text("version"),
            description: text("description"),
            manifest_path: PathBuf::from(origin),
            base_dir,
            variables,
            components,
            triggers,
            trigger_settings,
            limits,
            manifest_text: None,
        };
        Ok((app, inline))
    }
}

/// `[application.trigger.TYPE]` tables, from `triggers` (or, as older Spin apps have it, the
/// single `trigger` with its `type`).
fn trigger_settings(metadata: &Map<String, Value>) -> BTreeMap<String, Map<String, Value>> {
    let mut settings = BTreeMap::new();
    if let Some(Value::Object(all)) = metadata.get("triggers") {
        for (kind, table) in all {
            if let Value::Object(table) = table {
                settings.insert(kind.clone(), table.clone());
            }
        }
    } else if let Some(Value::Object(single)) = metadata.get("trigger") {
        let mut single = single.clone();
        if let Some(Value::String(kind)) = single.remove("type") {
            settings.insert(kind, single);
        }
    }
    settings
}

fn limits_metadata(limits: &Limits) -> Option<Value> {
    (*limits != Limits::default()).then(|| serde_json::json!({ "limits": limits }))
}

fn read_limits(kiln: &Value) -> Result<Limits, LockedError> {
    match kiln.get("limits") {
        Some(limits) => serde_json::from_value(limits.clone())
            .map_err(|e| LockedError::Malformed(format!("kiln.limits: {e}"))),
        None => Ok(Limits::default()),
    }
}

fn digest_of(content: &Content, what: &str) -> Result<String, LockedError> {
    match content {
        Content::Digest(digest) => Ok(digest.clone()),
        Content::File(path) => Err(LockedError::Malformed(format!(
            "{what} {} is not named by its digest: lock the app first",
            path.display()
        ))),
        Content::Remote(source) => Err(LockedError::Malformed(format!(
            "{what} {source} was not fetched: fetch it before locking the app"
        ))),
    }
}

fn locked_component(component: &ComponentSpec) -> Result<LockedComponent, LockedError> {
    let mut metadata = Map::new();
    if !component.description.is_empty() {
        metadata.insert("description".into(), component.description.clone().into());
    }
    for (key, values) in [
        ("allowed_outbound_hosts", &component.allowed_outbound_hosts),
        ("key_value_stores", &component.key_value_stores),
        ("databases", &component.sqlite_databases),
        ("ai_models", &component.ai_models),
    ] {
        metadata.insert(key.into(), values.clone().into());
    }
    if let Some(limits) = limits_metadata(&component.limits) {
        metadata.insert(KILN_METADATA.into(), limits);
    }
    let source = LockedSource {
        content_type: "application/wasm".into(),
        content: ContentRef {
            digest: Some(digest_of(&component.source, "the source")?),
            ..ContentRef::default()
        },
    };
    let files = component
        .files
        .iter()
        .map(|mount| {
            Ok(ContentPath {
                content: ContentRef {
                    digest: Some(digest_of(&mount.content, "the file")?),
                    ..ContentRef::default()
                },
                path: mount.guest.trim_start_matches('/').to_string(),
            })
        })
        .collect::<Result<_, LockedError>>()?;
    Ok(LockedComponent {
        id: component.id.clone(),
        metadata,
        source,
        env: component.environment.iter().cloned().collect(),
        files,
        config: component.variables.clone(),
        dependencies: Map::new(),
        host_requirements: Map::new(),
    })
}

fn component_spec(
    component: LockedComponent,
    inline: &mut Vec<Inline>,
) -> Result<ComponentSpec, LockedError> {
    let id = component.id;
    if !component.dependencies.is_empty() {
        return Err(LockedError::Unsupported(format!(
            "component \"{id}\" has dependencies to compose, which kiln does not do yet: push it composed (spin registry push composes by default)"
        )));
    }
    if let Some(feature) = component.host_requirements.keys().next() {
        return Err(LockedError::Unsupported(format!(
            "component \"{id}\" requires the host feature \"{feature}\", which kiln does not have"
        )));
    }
    let mut content = |what: String, content: ContentRef| -> Result<Content, LockedError> {
        let Some(digest) = content.digest else {
            return Err(LockedError::Malformed(format!("{what} has no digest")));
        };
        if let Some(data) = content.inline {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|e| LockedError::Malformed(format!("{what}: inline content: {e}")))?;
            inline.push((digest.clone(), bytes));
        }
        Ok(Content::Digest(digest))
    };
    let source = content(
        format!("component \"{id}\"'s source"),
        component.source.content,
    )?;
    let files = component
        .files
        .into_iter()
        .map(|file| {
            let guest = format!("/{}", file.path.trim_start_matches('/'));
            let content = content(format!("component \"{id}\"'s file {guest}"), file.content)?;
            Ok(FileMount { content, guest })
        })
        .collect::<Result<_, LockedError>>()?;
    let strings = |key: &str| -> Vec<String> {
        match component.metadata.get(key) {
            Some(Value::Array(values)) => values
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        }
    };
    let limits = component
        .metadata
        .get(KILN_METADATA)
        .map(read_limits)
        .transpose()?
        .unwrap_or_default();
    Ok(ComponentSpec {
        source,
        description: component
            .metadata
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        environment: component.env.into_iter().collect(),
        files,
        allowed_outbound_hosts: strings("allowed_outbound_hosts"),
        key_value_stores: strings("key_value_stores"),
        sqlite_databases: strings("databases"),
        ai_models: strings("ai_models"),
        variables: component.config,
        build: None,
        limits,
        dependencies: Vec::new(),
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A locked app as Spin's registry push writes it (trimmed to what kiln reads).
    const SPIN_LOCKED: &str = r#"{
      "spin_lock_version": 0,
      "metadata": {
        "name": "spin-app", "version": "0.1.0",
        "trigger": { "type": "http", "base": "/" },
        "origin": "file:///tmp/spin.toml"
      },
      "variables": { "token": { "secret": true }, "greeting": { "default": "hi" } },
      "triggers": [
        { "id": "trigger-api", "trigger_type": "http",
          "trigger_config": { "component": "api", "route": "/api/...", "executor": { "type": "spin" } } }
      ],
      "components": [
        { "id": "api",
          "metadata": { "allowed_outbound_hosts": ["https://example.com"], "key_value_stores": ["default"], "databases": [] },
          "source": { "content_type": "application/wasm", "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111" },
          "env": { "MODE": "prod" },
          "files": [ { "inline": "aGk=", "digest": "sha256:8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4", "path": "static/hi.txt" } ],
          "config": { "token": "{{ token }}" } }
      ]
    }"#;

    #[test]
    fn a_spin_locked_app_becomes_an_app() {
        let locked: LockedApp = serde_json::from_str(SPIN_LOCKED).unwrap();
        let (app, inline) = locked
            .into_app("registry/app:v1", PathBuf::from("/state"))
            .unwrap();
        assert_eq!(
            (app.name.as_str(), app.version.as_str()),
            ("spin-app", "0.1.0")
        );
        assert_eq!(app.trigger_settings["http"]["base"], "/");
        assert!(app.variables["token"].required && app.variables["token"].secret);
        assert_eq!(app.variables["greeting"].default.as_deref(), Some("hi"));
        let trigger = &app.triggers[0];
        assert_eq!((trigger.component.as_str(), trigger.index), ("api", 0));
        assert_eq!(trigger.config["route"], "/api/...");
        assert!(!trigger.config.contains_key("component"));
        let api = &app.components[0];
        assert_eq!(api.allowed_outbound_hosts, ["https://example.com"]);
        assert_eq!(api.key_value_stores, ["default"]);
        assert_eq!(api.environment, [("MODE".to_string(), "prod".to_string())]);
        assert_eq!(api.files[0].guest, "/static/hi.txt");
        assert_eq!(api.variables["token"], "{{ token }}");
        assert_eq!(inline, [(digest("hi"), b"hi".to_vec())]);
    }

    fn digest(text: &str) -> String {
        kiln_manifest::digest_of(text.as_bytes())
    }

    #[test]
    fn an_app_round_trips_through_its_locked_form() {
        let locked: LockedApp = serde_json::from_str(SPIN_LOCKED).unwrap();
        let (mut app, _) = locked
            .into_app("registry/app:v1", PathBuf::from("/state"))
            .unwrap();
        app.components[0].limits.max_concurrent = Some(3);
        let again = LockedApp::from_app(&app).unwrap();
        let json = serde_json::to_value(&again).unwrap();
        assert_eq!(json["metadata"]["trigger"]["type"], "http");
        assert_eq!(
            json["components"][0]["metadata"]["kiln"]["limits"]["max_concurrent"],
            3
        );
        let (back, _) = again
            .into_app("registry/app:v1", PathBuf::from("/state"))
            .unwrap();
        assert_eq!(back.components[0].limits.max_concurrent, Some(3));
        assert_eq!(back.components[0].files, app.components[0].files);
        assert_eq!(back.triggers[0].config, app.triggers[0].config);
        assert_eq!(back.variables, app.variables);
    }

    #[test]
    fn what_kiln_cannot_run_is_refused_with_the_reason() {
        let mut locked: LockedApp = serde_json::from_str(SPIN_LOCKED).unwrap();
        locked
            .host_requirements
            .insert("local_service_chaining".into(), "required".into());
        let refused = locked.into_app("r", PathBuf::new()).unwrap_err();
        assert!(
            refused.to_string().contains("local_service_chaining"),
            "{refused}"
        );

        let mut locked: LockedApp = serde_json::from_str(SPIN_LOCKED).unwrap();
        locked.components[0]
            .dependencies
            .insert("dep".into(), Value::Null);
        let refused = locked.into_app("r", PathBuf::new()).unwrap_err();
        assert!(
            refused.to_string().contains("dependencies to compose"),
            "{refused}"
        );
    }
}
