//! [`AppOptions`]: what the command line adds to an app when it is loaded.

use std::path::PathBuf;

use kiln_manifest::{Limits, RuntimeConfig};

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
