//! kiln's application manifest: the Spin manifest v2 schema (`spin.toml`, and `kiln.toml` which is
//! the same schema), its validation with `file:line` errors, and [`AppSpec`], the one fully
//! resolved form of an app that every other crate consumes; and the runtime config file
//! ([`RuntimeConfig`], Spin's `runtime-config.toml`).
//!
//! Nothing outside this crate reads TOML. This crate never imports the runtime or a trigger.

mod content;
mod error;
mod files;
mod limits;
mod load;
mod locate;
mod runtime_config;
mod schema;
mod spec;
mod template;
mod trigger;
mod validate;

pub use content::{
    digest_of, Content, ContentError, ContentStore, LocalFiles, LockError, RemoteSource,
};
pub use error::{Location, ManifestError};
pub use limits::{parse_duration, parse_size, Limits};
pub use load::{find_manifest, LoadedManifest, MANIFEST_NAMES};
pub use locate::Key;
pub use runtime_config::{
    KeyValueStoreConfig, RuntimeConfig, SqliteDatabaseConfig, VariableProvider,
};
pub use spec::{
    AppSpec, BuildSpec, ComponentSpec, DependencySource, DependencySpec, FileMount, VariableSpec,
};
pub use template::{is_variable_name, Template, TemplatePart};
pub use trigger::TriggerSpec;
