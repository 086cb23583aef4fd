//! The manifest as written: Spin manifest v2, deserialized as-is. [`crate::validate`] turns it
//! into an [`crate::AppSpec`]. Unknown fields are collected by `serde_ignored` and reported as
//! warnings, so a manifest written for a newer Spin still loads.

use indexmap::IndexMap;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(crate) struct RawManifest {
    pub(crate) spin_manifest_version: Option<toml::Value>,
    pub(crate) application: RawApplication,
    #[serde(default)]
    pub(crate) variables: IndexMap<String, RawVariable>,
    #[serde(default, rename = "trigger")]
    pub(crate) triggers: IndexMap<String, Vec<RawTrigger>>,
    #[serde(default, rename = "component")]
    pub(crate) components: IndexMap<String, RawComponent>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawApplication {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) version: String,
    #[serde(default)]
    pub(crate) description: String,
    // Accepted so they are not reported as unknown; kiln does not use them.
    #[serde(default)]
    #[allow(dead_code)]
    pub(crate) authors: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    pub(crate) targets: Vec<toml::Value>,
    #[serde(default, rename = "trigger")]
    pub(crate) trigger_configs: IndexMap<String, toml::Table>,
    /// Settings for tools: kiln reads `tool.kiln`, other tools' tables are ignored.
    #[serde(default)]
    pub(crate) tool: IndexMap<String, toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVariable {
    #[serde(default)]
    pub(crate) default: Option<String>,
    #[serde(default)]
    pub(crate) required: bool,
    #[serde(default)]
    pub(crate) secret: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawTrigger {
    #[serde(default)]
    pub(crate) id: Option<String>,
    /// A component id, or an inline component table.
    #[serde(default)]
    pub(crate) component: Option<toml::Value>,
    #[serde(default)]
    pub(crate) components: Option<toml::Table>,
    /// Trigger-type-specific fields (`route`, `executor`, `channel`, ...), for the trigger to read.
    #[serde(flatten)]
    pub(crate) config: toml::Table,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawComponent {
    pub(crate) source: RawSource,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) variables: IndexMap<String, String>,
    #[serde(default)]
    pub(crate) environment: IndexMap<String, String>,
    #[serde(default)]
    pub(crate) files: Vec<RawFileMount>,
    #[serde(default)]
    pub(crate) exclude_files: Vec<String>,
    #[serde(default)]
    pub(crate) allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub(crate) allowed_http_hosts: Vec<String>,
    #[serde(default)]
    pub(crate) key_value_stores: Vec<String>,
    #[serde(default)]
    pub(crate) sqlite_databases: Vec<String>,
    #[serde(default)]
    pub(crate) ai_models: Vec<String>,
    #[serde(default)]
    pub(crate) build: Option<RawBuild>,
    /// Settings for tools: kiln reads `tool.kiln`, other tools' tables are ignored.
    #[serde(default)]
    pub(crate) tool: IndexMap<String, toml::Table>,
    /// Whether the component's dependencies may use its grants; by default they get none.
    #[serde(default)]
    pub(crate) dependencies_inherit_configuration: bool,
    #[serde(default)]
    pub(crate) dependencies: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "source must be a path such as \"app.wasm\", { url, digest }, or { registry, package, version }"
)]
pub(crate) enum RawSource {
    Local(String),
    Remote {
        url: String,
        digest: String,
    },
    Registry {
        registry: Option<String>,
        package: String,
        version: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "each files entry must be a glob such as \"static/**/*\", or { source = \"dir\", destination = \"/\" }"
)]
pub(crate) enum RawFileMount {
    Pattern(String),
    Placement { source: String, destination: String },
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawBuild {
    pub(crate) command: RawCommands,
    #[serde(default)]
    pub(crate) workdir: Option<String>,
    #[serde(default)]
    pub(crate) watch: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "build command must be a string or a list of strings"
)]
pub(crate) enum RawCommands {
    One(String),
    Many(Vec<String>),
}
