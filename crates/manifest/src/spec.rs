//! [`AppSpec`]: an app with every reference resolved and every rule checked. It is what
//! `kiln up`, the runtime and the triggers consume; it is serializable so it can travel (OCI,
//! lattice) without the manifest that produced it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{Content, Limits, TriggerSpec};

/// A validated, fully resolved application.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppSpec {
    /// `application.name`.
    pub name: String,
    /// `application.version` (may be empty).
    pub version: String,
    /// `application.description` (may be empty).
    pub description: String,
    /// The manifest this app was loaded from.
    pub manifest_path: PathBuf,
    /// The directory relative paths in the manifest are resolved against.
    pub base_dir: PathBuf,
    /// Application variables by name, in manifest order.
    pub variables: BTreeMap<String, VariableSpec>,
    /// Components in manifest order (inline trigger components included).
    pub components: Vec<ComponentSpec>,
    /// Every `[[trigger.TYPE]]` entry, in manifest order; each trigger reads its own fields.
    pub triggers: Vec<TriggerSpec>,
    /// `[application.trigger.TYPE]` tables: settings a trigger type shares across its entries.
    pub trigger_settings: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    /// `[application.tool.kiln.limits]`: limits for every component that sets none of its own.
    pub limits: Limits,
    /// The manifest's text, to give errors found later their line and column; absent in a
    /// spec that travelled without its manifest.
    #[serde(skip)]
    pub manifest_text: Option<Arc<str>>,
}

impl AppSpec {
    /// The component with this id.
    pub fn component(&self, id: &str) -> Option<&ComponentSpec> {
        self.components.iter().find(|c| c.id == id)
    }
}

/// An application variable (`[variables]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariableSpec {
    /// Value used when no provider supplies one.
    pub default: Option<String>,
    /// Whether the app refuses to start without a value.
    pub required: bool,
    /// Whether the value must never be logged.
    pub secret: bool,
}

/// One component and everything it is granted. Its default grants nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ComponentSpec {
    /// The component id (`[component.ID]`).
    pub id: String,
    /// The Wasm file: a checkout's file until the app is locked ([`AppSpec::lock`]), then
    /// its digest.
    pub source: Content,
    /// `description` (may be empty).
    pub description: String,
    /// Environment variables the guest sees, in manifest order.
    pub environment: Vec<(String, String)>,
    /// Files the guest may read, resolved to single files.
    pub files: Vec<FileMount>,
    /// `allowed_outbound_hosts` (and the deprecated `allowed_http_hosts`, converted).
    pub allowed_outbound_hosts: Vec<String>,
    /// Key-value store labels the component may open.
    pub key_value_stores: Vec<String>,
    /// SQLite database labels the component may open.
    pub sqlite_databases: Vec<String>,
    /// AI model names the component may use.
    pub ai_models: Vec<String>,
    /// Component variables: name to template (`"{{ app_var }}"`).
    pub variables: BTreeMap<String, String>,
    /// How to build the component, if the manifest says.
    pub build: Option<BuildSpec>,
    /// `[component.ID.tool.kiln.limits]`.
    pub limits: Limits,
    /// `[component.ID.dependencies]`: components that satisfy some of its imports, composed
    /// into it at load.
    pub dependencies: Vec<DependencySpec>,
}

/// One of a component's dependencies: the import it satisfies, and what satisfies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencySpec {
    /// The import (`my:pkg/iface@1.0.0`).
    pub import: String,
    /// The component that provides it.
    pub source: DependencySource,
    /// The export of that component which satisfies it (default: the import's name).
    pub export: Option<String>,
    /// Whether it may use the component's grants (`dependencies_inherit_configuration`);
    /// otherwise the configuration interfaces it imports are denied.
    pub inherit_configuration: bool,
}

/// Where a dependency comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DependencySource {
    /// A Wasm file of the checkout (`{ path = "..." }`).
    File(std::path::PathBuf),
    /// Another component of the app (`{ component = "id" }`): its source.
    Component(String),
    /// A component to download (`{ url, digest }`), which must have that digest. Fetched
    /// before the app loads, and then named by its file.
    Url {
        /// Where it is.
        url: String,
        /// `sha256:HEX`.
        digest: String,
    },
    /// A package version from a registry (`"1.2.0"` or `{ version, registry, package }`), the
    /// highest its version requirement allows. Fetched before the app loads, and then named
    /// by its file.
    Registry {
        /// The package (`ns:name`): given, or the import's package.
        package: String,
        /// The version requirement (Cargo's syntax: `1.2.0` is `^1.2.0`).
        version: String,
        /// The registry, when not the one wasm-pkg's config maps the namespace to.
        registry: Option<String>,
    },
}

/// One file made visible to a guest: a regular file of the app at a guest path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMount {
    /// The file.
    pub content: Content,
    /// Absolute guest path, `/`-separated.
    pub guest: String,
}

/// `[component.ID.build]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildSpec {
    /// Shell commands, run in order.
    pub commands: Vec<String>,
    /// Absolute directory the commands run in.
    pub workdir: PathBuf,
    /// Globs (relative to `workdir`) whose changes call for a rebuild.
    pub watch: Vec<String>,
}
