//! `kiln inspect`: a component's WIT world (imports and exports, with versions), which of its
//! imports the manifest's grants cover, which will be denied at run time for want of a grant,
//! and which kiln does not provide at all; its size and source digest.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use kiln_manifest::{digest_of, ComponentSpec, ContentStore};
use kiln_runtime::needs::Grant;
use kiln_runtime::Runtime;
use serde::Serialize;
use wit_component::{DecodedWasm, WitPrinter};

/// What `kiln inspect` found out about one component.
#[derive(Debug, Serialize)]
pub struct Inspection {
    /// The component id.
    pub id: String,
    /// Where its Wasm was read from.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its content digest (`sha256:...`).
    pub digest: String,
    /// Its world's name.
    pub world: String,
    /// The dependencies it is composed with (by the imports they satisfy); its exports and
    /// imports are then the composition's, as kiln loads it.
    pub composed_with: Vec<String>,
    /// What it exports.
    pub exports: Vec<String>,
    /// What it imports, each judged against the manifest's grants.
    pub imports: Vec<Import>,
    /// Its world as WIT text, with the packages it uses.
    #[serde(skip)]
    pub wit: String,
}

/// One import and what becomes of it at run time.
#[derive(Debug, Serialize)]
pub struct Import {
    /// Its name (`fermyon:spin/key-value@2.0.0`).
    pub name: String,
    /// Provided, granted, denied or missing.
    pub status: ImportStatus,
    /// The grant that covers it, or what to add, or why kiln lacks it.
    pub detail: String,
}

/// What becomes of an import at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportStatus {
    /// kiln provides it and it needs no grant.
    Provided,
    /// It needs a grant, and the manifest gives one.
    Granted,
    /// It needs a grant the manifest does not give: its calls fail (access denied).
    Denied,
    /// kiln does not provide it: the component does not load.
    Missing,
}

impl ImportStatus {
    /// The word `kiln inspect` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Provided => "provided",
            ImportStatus::Granted => "granted",
            ImportStatus::Denied => "denied",
            ImportStatus::Missing => "missing",
        }
    }
}

/// Inspects `component`, reading its Wasm from `content`; `runtime` tells which imports kiln
/// provides. A component with dependencies is judged by `composed`, its composition with them
/// (what kiln loads).
pub fn inspect(
    runtime: &Runtime,
    component: &ComponentSpec,
    content: &dyn ContentStore,
    composed: Option<&[u8]>,
) -> anyhow::Result<Inspection> {
    let id = &component.id;
    let path = component
        .source
        .local_path(content)
        .with_context(|| format!("component \"{id}\""))?;
    let wasm = std::fs::read(&path).with_context(|| {
        format!(
            "component \"{id}\": cannot read {}: build it first (kiln build)",
            path.display()
        )
    })?;
    let loaded = composed.unwrap_or(&wasm);
    let (resolve, world_id) = match wit_component::decode(loaded)
        .with_context(|| format!("component \"{id}\": {} is not a component", path.display()))?
    {
        DecodedWasm::Component(resolve, world) => (resolve, world),
        DecodedWasm::WitPackage(..) => anyhow::bail!(
            "component \"{id}\": {} is a WIT package, not a component",
            path.display()
        ),
    };
    let unprovided = runtime.unprovided_imports(id, &path, loaded)?;
    let world = &resolve.worlds[world_id];
    let name_of = |key: &wit_parser::WorldKey, item: &wit_parser::WorldItem| {
        match item {
            wit_parser::WorldItem::Interface { id, .. } => resolve.id_of(*id),
            wit_parser::WorldItem::Function(f) => Some(f.name.clone()),
            wit_parser::WorldItem::Type { .. } => None,
        }
        .or_else(|| match key {
            wit_parser::WorldKey::Name(name) => Some(name.clone()),
            wit_parser::WorldKey::Interface(_) => None,
        })
    };
    let exports = world
        .exports
        .iter()
        .filter_map(|(key, item)| name_of(key, item))
        .collect();
    let imports = world
        .imports
        .iter()
        .filter(|(_, item)| !matches!(item, wit_parser::WorldItem::Type { .. }))
        .filter_map(|(key, item)| name_of(key, item))
        .map(|name| match unprovided.iter().find(|u| u.name == name) {
            Some(missing) => {
                // wasmtime names the import first; what is wrong with it follows.
                let reason = missing.reason.rsplit("linker: ").next().unwrap_or_default();
                Import {
                    name,
                    status: ImportStatus::Missing,
                    detail: format!(
                        "kiln does not provide it ({reason}): the component will not load"
                    ),
                }
            }
            None => judge(name, component),
        })
        .collect();
    let mut printer = WitPrinter::default();
    let package = world
        .package
        .context("the component's world has no package")?;
    let others: Vec<_> = resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|p| *p != package)
        .collect();
    printer.print(&resolve, package, &others)?;
    Ok(Inspection {
        id: id.clone(),
        path,
        size: wasm.len() as u64,
        digest: digest_of(&wasm),
        world: world.name.clone(),
        composed_with: match composed {
            Some(_) => component
                .dependencies
                .iter()
                .map(|d| d.import.clone())
                .collect(),
            None => Vec::new(),
        },
        exports,
        imports,
        wit: printer.output.to_string(),
    })
}

/// A lone Wasm file as a component with no grants, for `kiln inspect FILE.wasm`.
pub fn lone_component(path: &Path) -> ComponentSpec {
    ComponentSpec {
        id: path
            .file_stem()
            .map_or_else(|| "component".into(), |s| s.to_string_lossy().into_owned()),
        source: kiln_manifest::Content::File(path.to_path_buf()),
        ..ComponentSpec::default()
    }
}

/// How `component`'s manifest entry covers the import `name`, which kiln provides.
fn judge(name: String, component: &ComponentSpec) -> Import {
    let granted = |detail: String| (ImportStatus::Granted, detail);
    let denied = |detail: String| (ImportStatus::Denied, detail);
    let grant = kiln_runtime::needs::need(&name).map(|need| need.grant);
    let (status, detail) = match grant {
        None => (ImportStatus::Provided, String::new()),
        Some(Grant::Environment) if component.environment.is_empty() => (
            ImportStatus::Provided,
            "no environment variables granted".into(),
        ),
        Some(Grant::Environment) => {
            let names: Vec<&str> = component
                .environment
                .iter()
                .map(|(k, _)| k.as_str())
                .collect();
            granted(format!("environment: {}", names.join(", ")))
        }
        Some(Grant::Files) if component.files.is_empty() => {
            denied("no files granted: it sees no directories (add files = [...])".into())
        }
        Some(Grant::Files) => granted(format!(
            "files: {} mount(s), read-only",
            component.files.len()
        )),
        Some(Grant::Variables) => (
            ImportStatus::Provided,
            match component
                .variables
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
            {
                names if names.is_empty() => "no variables of its own".into(),
                names => format!("variables: {}", names.join(", ")),
            },
        ),
        Some(Grant::Outbound(schemes)) => {
            let entries: Vec<&str> = component
                .allowed_outbound_hosts
                .iter()
                .map(String::as_str)
                .filter(|entry| {
                    let scheme = entry.split("://").next().unwrap_or_default();
                    let to_self = *entry == "self" && schemes.contains(&"http");
                    scheme == "*" || schemes.contains(&scheme) || to_self
                })
                .collect();
            if entries.is_empty() {
                denied(format!(
                    "no {} destination granted (add \"{}://HOST:PORT\" to allowed_outbound_hosts)",
                    schemes.join("/"),
                    schemes[0]
                ))
            } else {
                granted(format!("allowed_outbound_hosts: {}", entries.join(", ")))
            }
        }
        Some(Grant::KeyValueStores) if component.key_value_stores.is_empty() => {
            denied("no store granted (add key_value_stores = [\"default\"])".into())
        }
        Some(Grant::KeyValueStores) => granted(format!(
            "key_value_stores: {}",
            component.key_value_stores.join(", ")
        )),
        Some(Grant::SqliteDatabases) if component.sqlite_databases.is_empty() => {
            denied("no database granted (add sqlite_databases = [\"default\"])".into())
        }
        Some(Grant::SqliteDatabases) => granted(format!(
            "sqlite_databases: {}",
            component.sqlite_databases.join(", ")
        )),
        Some(Grant::AiModels) => denied("kiln has no LLM backend: every call fails".into()),
    };
    Import {
        name,
        status,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_judged_by_the_grants_they_need() {
        let mut component = ComponentSpec {
            id: "app".into(),
            key_value_stores: vec!["default".into()],
            allowed_outbound_hosts: vec!["redis://cache:6379".into()],
            ..ComponentSpec::default()
        };
        let status = |name: &str, component: &ComponentSpec| judge(name.into(), component).status;
        assert_eq!(
            status("wasi:io/streams@0.2.0", &component),
            ImportStatus::Provided
        );
        assert_eq!(
            status("fermyon:spin/key-value@2.0.0", &component),
            ImportStatus::Granted
        );
        assert_eq!(
            status("spin:sqlite/sqlite@3.1.0", &component),
            ImportStatus::Denied
        );
        assert_eq!(
            status("fermyon:spin/redis@2.0.0", &component),
            ImportStatus::Granted
        );
        assert_eq!(
            status("wasi:http/outgoing-handler@0.2.0", &component),
            ImportStatus::Denied
        );
        assert_eq!(
            status("wasi:filesystem/types@0.2.0", &component),
            ImportStatus::Denied
        );
        // `self` reaches the app over HTTP only.
        let to_self = ComponentSpec {
            allowed_outbound_hosts: vec!["self".into()],
            ..ComponentSpec::default()
        };
        assert_eq!(
            status("wasi:http/outgoing-handler@0.2.0", &to_self),
            ImportStatus::Granted
        );
        assert_eq!(
            status("fermyon:spin/redis@2.0.0", &to_self),
            ImportStatus::Denied
        );
        component.allowed_outbound_hosts.push("*://*:*".into());
        assert_eq!(
            status("wasi:http/outgoing-handler@0.2.0", &component),
            ImportStatus::Granted
        );
        assert_eq!(
            status("wasi:sockets/tcp@0.2.0", &component),
            ImportStatus::Granted
        );
    }
}
