use std::path::PathBuf;

/// Why a component could not be loaded. Each variant names the component and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The source file does not exist or cannot be read.
    #[error("component \"{id}\": cannot read {}: {reason}: build it (kiln build) or fix `source`", path.display())]
    Unreadable {
        /// Component id.
        id: String,
        /// The source path.
        path: PathBuf,
        /// The I/O error.
        reason: std::io::Error,
    },
    /// The file is not WebAssembly at all.
    #[error("component \"{id}\": {} is not a WebAssembly file", path.display())]
    NotWasm {
        /// Component id.
        id: String,
        /// The source path.
        path: PathBuf,
    },
    /// A core module where a component is needed.
    #[error("component \"{id}\": {} is a core WebAssembly module, not a component, and carries no component type to adapt it with: build it for wasm32-wasip2", path.display())]
    CoreModule {
        /// Component id.
        id: String,
        /// The source path.
        path: PathBuf,
    },
    /// The component did not compile.
    #[error("component \"{id}\": {} does not compile: {reason:#}", path.display())]
    Compile {
        /// Component id.
        id: String,
        /// The source path.
        path: PathBuf,
        /// wasmtime's error.
        reason: anyhow::Error,
    },
    /// The component imports something kiln does not provide.
    #[error(
        "component \"{id}\": {reason:#}: kiln does not provide this import{}",
        prerelease_hint(reason)
    )]
    MissingImport {
        /// Component id.
        id: String,
        /// wasmtime's error, naming the import.
        reason: anyhow::Error,
    },
    /// The component does not export what its trigger calls.
    #[error("component \"{id}\" does not export {export}: is it built as {what}?")]
    MissingExport {
        /// Component id.
        id: String,
        /// The export looked for.
        export: &'static str,
        /// The kind of component expected.
        what: &'static str,
    },
    /// An app-level capability could not be configured (variables, stores).
    #[error("{what}: {reason:#}")]
    Configure {
        /// What was being configured.
        what: &'static str,
        /// Why it failed.
        reason: anyhow::Error,
    },
    /// A component is granted something that cannot be given.
    #[error("component \"{id}\": {reason}")]
    Grant {
        /// Component id.
        id: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The component's files could not be prepared.
    #[error("component \"{id}\": preparing its files: {reason:#}")]
    Files {
        /// Component id.
        id: String,
        /// The I/O error.
        reason: anyhow::Error,
    },
    /// The source changed on disk after kiln loaded it, and its compiled form is gone.
    #[error("component \"{id}\": {} changed after kiln started and its compiled form is no longer in the compile cache: restart kiln to serve the new version", path.display())]
    Changed {
        /// Component id.
        id: String,
        /// The source path.
        path: PathBuf,
    },
    /// The component has no compile cache entry to load again from.
    #[error("component \"{id}\" has no compile cache entry")]
    NotCached {
        /// Component id.
        id: String,
    },
    /// A trigger asked for a component it did not name when the app's components were loaded.
    #[error(
        "component \"{id}\" was not loaded: its trigger must name it among the components it calls"
    )]
    NotLoaded {
        /// Component id.
        id: String,
    },
    /// The content store does not have the component's Wasm.
    #[error("component \"{id}\": {reason}")]
    Content {
        /// Component id.
        id: String,
        /// What the store said.
        reason: kiln_manifest::ContentError,
    },
}

/// What to do about a missing import that names a WASI 0.3 release candidate (as components
/// built with Spin's Python SDK 4 and 5 do); nothing for other imports.
fn prerelease_hint(reason: &anyhow::Error) -> String {
    let text = format!("{reason:#}");
    let Some(start) = text.find("@0.3.0-rc-") else {
        return String::new();
    };
    let version: String = text[start + 1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    format!(
        " (the component was built for the WASI {version} release candidate; kiln runs WASI 0.2 and 0.3.0: rebuild it with a toolchain for one of those, such as Spin's Python SDK 3.4.1 with componentize-py 0.17.2)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_release_candidate_import_says_what_to_build_with() {
        let missing = LoadError::MissingImport {
            id: "py".into(),
            reason: anyhow::anyhow!(
                "component imports instance `wasi:http/types@0.3.0-rc-2026-03-15`, but a matching implementation was not found in the linker"
            ),
        };
        let text = missing.to_string();
        assert!(
            text.contains("built for the WASI 0.3.0-rc-2026-03-15 release candidate; kiln runs WASI 0.2 and 0.3.0"),
            "{text}"
        );
        let other = LoadError::MissingImport {
            id: "x".into(),
            reason: anyhow::anyhow!("component imports instance `my:pkg/thing@1.0.0`"),
        };
        assert!(other
            .to_string()
            .ends_with("kiln does not provide this import"));
    }
}
