//! A component composed with its dependencies (`[component.ID.dependencies]`) into one, with
//! wac-graph: each dependency is instantiated, its export that satisfies the import is passed to
//! the component's instantiation, and the component's exports are the composition's. What the
//! dependencies import themselves (WASI, Spin interfaces) the composition imports, so they run
//! with the component's grants when they inherit its configuration; otherwise each
//! configuration interface they import comes from a deny-all stand-in ([`crate::deny`]).

use anyhow::Context as _;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

/// One dependency to compose: the import it satisfies, its Wasm, and its export to use.
pub struct Dependency<'a> {
    /// The imports of the component it satisfies: one (`ns:pkg/iface@1.0.0`, `ns:pkg/iface`,
    /// or a plain name), or all of a package's (`ns:pkg`, `ns:pkg@1.0.0`), as Spin matches them.
    pub import: &'a str,
    /// Its export that satisfies them (default: each import's own name).
    pub export: Option<&'a str>,
    /// Where it came from, for errors.
    pub origin: String,
    /// The dependency component.
    pub wasm: Vec<u8>,
    /// Whether it may use the component's grants; otherwise the configuration interfaces it
    /// imports (outbound network, environment, files, stores, variables, ...) are denied.
    pub inherit_configuration: bool,
}

/// `component` (Wasm) with each of `dependencies` plugged into its import; the composed
/// component's bytes. An error names the dependency and the import or export that did not fit.
pub fn compose(component: &[u8], dependencies: Vec<Dependency<'_>>) -> anyhow::Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    let main = Package::from_bytes(
        "kiln:component",
        None,
        component.to_vec(),
        graph.types_mut(),
    )
    .context("reading the component")?;
    let main = graph.register_package(main)?;
    let instance = graph.instantiate(main);
    let imports: Vec<String> = graph.types()[graph[main].ty()]
        .imports
        .keys()
        .cloned()
        .collect();
    for (index, dependency) in dependencies.into_iter().enumerate() {
        let origin = &dependency.origin;
        let adapter = if dependency.inherit_configuration {
            None
        } else {
            crate::deny::deny_adapter(&dependency.wasm, origin)?
        };
        let package = Package::from_bytes(
            &format!("kiln:dependency{index}"),
            None,
            dependency.wasm,
            graph.types_mut(),
        )
        .with_context(|| format!("{origin} is not a component"))?;
        let package = graph.register_package(package)?;
        let provider = graph.instantiate(package);
        if let Some((adapter, denied)) = adapter {
            let adapter = Package::from_bytes(
                &format!("kiln:deny-adapter{index}"),
                None,
                adapter,
                graph.types_mut(),
            )?;
            let adapter = graph.register_package(adapter)?;
            let adapter = graph.instantiate(adapter);
            for import in denied {
                let denial = graph.alias_instance_export(adapter, &import)?;
                graph
                    .set_instantiation_argument(provider, &import, denial)
                    .with_context(|| format!("denying {import} to {origin}"))?;
            }
        }
        let matched: Vec<&String> = imports
            .iter()
            .filter(|name| matches_import(dependency.import, name))
            .collect();
        if matched.is_empty() {
            anyhow::bail!(
                "{origin}: the component imports nothing named {} (it imports {})",
                dependency.import,
                imports.join(", ")
            );
        }
        for import in matched {
            let wanted = dependency.export.unwrap_or(import);
            let export = graph
                .alias_instance_export(provider, wanted)
                .with_context(|| format!("{origin} does not export {wanted}"))?;
            graph
                .set_instantiation_argument(instance, import, export)
                .with_context(|| {
                    format!(
                        "{origin} cannot satisfy the import {import}: its {wanted} has other types"
                    )
                })?;
        }
    }
    let world = graph[main].ty();
    let exports: Vec<String> = graph.types()[world].exports.keys().cloned().collect();
    for name in exports {
        let export = graph.alias_instance_export(instance, &name)?;
        graph.export(export, name)?;
    }
    graph
        .encode(EncodeOptions::default())
        .context("encoding the composed component")
}

/// Whether the dependency name `dependency` names the component's import `import`: a plain
/// name only itself; `ns:pkg[/iface][@version]` each import of that package (and interface,
/// and version, when given).
fn matches_import(dependency: &str, import: &str) -> bool {
    if !dependency.contains(':') {
        return dependency == import;
    }
    let (package, interface, version) = name_parts(dependency);
    let (import_package, import_interface, import_version) = name_parts(import);
    package == import_package
        && interface.is_none_or(|i| Some(i) == import_interface)
        && version.is_none_or(|v| Some(v) == import_version)
}

/// `ns:pkg/iface@version` as its package, interface and version.
fn name_parts(name: &str) -> (&str, Option<&str>, Option<&str>) {
    let (path, version) = match name.split_once('@') {
        Some((path, version)) => (path, Some(version)),
        None => (name, None),
    };
    match path.split_once('/') {
        Some((package, interface)) => (package, Some(interface), version),
        None => (path, None, version),
    }
}

#[cfg(test)]
mod tests {
    use super::matches_import;

    #[test]
    fn dependency_names_match_imports_as_spin_matches_them() {
        for (dependency, import) in [
            ("foo:bar/baz@0.1.0", "foo:bar/baz@0.1.0"),
            ("foo:bar/baz", "foo:bar/baz@0.1.0"),
            ("foo:bar/baz", "foo:bar/baz"),
            ("foo:bar", "foo:bar/baz@0.1.0"),
            ("foo:bar@0.1.0", "foo:bar/baz@0.1.0"),
            ("foo-bar", "foo-bar"),
        ] {
            assert!(matches_import(dependency, import), "{dependency} {import}");
        }
        for (dependency, import) in [
            ("foo:bar/baz@0.1.0", "foo:bar/baz"),
            ("foo:bar/baz", "foo:bar/bub@0.1.0"),
            ("foo:bar", "foo:bub/bib"),
            ("foo:bar@0.1.0", "foo:bar/baz"),
            ("foo:bar/baz", "foo:bar/baz-bub"),
            ("foo-bar", "foo:bar/baz"),
        ] {
            assert!(!matches_import(dependency, import), "{dependency} {import}");
        }
    }
}
