//! A component composed with its dependencies (`[component.ID.dependencies]`) into one, with
//! wac-graph: each dependency is instantiated, its export that satisfies the import is passed to
//! the component's instantiation, and the component's exports are the composition's. What the
//! dependencies import themselves (WASI, Spin interfaces) the composition imports, so they run
//! with the component's grants.

use anyhow::Context as _;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

/// One dependency to compose: the import it satisfies, its Wasm, and its export to use.
pub struct Dependency<'a> {
    /// The import of the component it satisfies.
    pub import: &'a str,
    /// Its export that satisfies it.
    pub export: &'a str,
    /// Where it came from, for errors.
    pub origin: String,
    /// The dependency component.
    pub wasm: Vec<u8>,
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
    for (index, dependency) in dependencies.into_iter().enumerate() {
        let origin = &dependency.origin;
        let package = Package::from_bytes(
            &format!("kiln:dependency{index}"),
            None,
            dependency.wasm,
            graph.types_mut(),
        )
        .with_context(|| format!("{origin} is not a component"))?;
        let package = graph.register_package(package)?;
        let provider = graph.instantiate(package);
        let export = graph
            .alias_instance_export(provider, dependency.export)
            .with_context(|| format!("{origin} does not export {}", dependency.export))?;
        graph
            .set_instantiation_argument(instance, dependency.import, export)
            .with_context(|| {
                format!(
                    "{origin} cannot satisfy the import {}: does the component import it, with the same types?",
                    dependency.import
                )
            })?;
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
