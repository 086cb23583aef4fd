//! Which imports of a component kiln does not provide, all of them at once (pre-linking stops
//! at the first): the component is pre-linked against a copy of kiln's linker, and each import
//! the linker names as missing is stubbed with traps, until it links.

use std::path::Path;

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{LinkerInstance, ResourceType};

use crate::store::StoreState;
use crate::{LoadError, Runtime};

/// An import of a component that kiln's linker does not satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnprovidedImport {
    /// The import's name (`acme:billing/invoices@1.0.0`).
    pub name: String,
    /// wasmtime's reason (missing, or a function or type that does not match).
    pub reason: String,
}

impl Runtime {
    /// Compiles the component `wasm` (read from `path`; `id` names it in errors) and lists
    /// the imports kiln does not provide; empty when it links.
    pub fn unprovided_imports(
        &self,
        id: &str,
        path: &Path,
        wasm: &[u8],
    ) -> Result<Vec<UnprovidedImport>, LoadError> {
        let component = crate::loader::compile_component(self, id, path, wasm)?;
        let engine = self.engine();
        let ty = component.component_type();
        let names: Vec<&str> = ty.imports(engine).map(|(name, _)| name).collect();
        let mut linker = self.new_linker();
        linker.allow_shadowing(true);
        let mut unprovided = Vec::new();
        // Each round stubs one more import; one round per import at most.
        for _ in 0..=names.len() {
            let Err(error) = linker.instantiate_pre(&component) else {
                break;
            };
            let reason = format!("{:#}", anyhow::Error::from(error));
            let named = names.iter().find(|name| {
                reason.contains(&format!("`{name}`"))
                    && !unprovided
                        .iter()
                        .any(|u: &UnprovidedImport| u.name == **name)
            });
            let Some(name) = named else {
                unprovided.push(UnprovidedImport {
                    name: "(unnamed)".into(),
                    reason,
                });
                break;
            };
            unprovided.push(UnprovidedImport {
                name: name.to_string(),
                reason,
            });
            let item = ty.get_import(engine, name).map(|import| import.ty);
            if let Some(item) = item {
                stub(&mut linker.root(), name, &item, engine).map_err(|e| {
                    LoadError::MissingImport {
                        id: id.to_string(),
                        reason: e.into(),
                    }
                })?;
            }
        }
        Ok(unprovided)
    }
}

/// Defines `item` as `name` in `linker` with functions that trap and resources of no state.
fn stub(
    linker: &mut LinkerInstance<'_, StoreState>,
    name: &str,
    item: &ComponentItem,
    engine: &wasmtime::Engine,
) -> wasmtime::Result<()> {
    match item {
        ComponentItem::ComponentFunc(func) if func.async_() => linker
            .func_new_concurrent(name, |_, _, _, _| {
                Box::pin(async { wasmtime::bail!("not provided") })
            }),
        ComponentItem::ComponentFunc(_) => {
            linker.func_new(name, |_, _, _, _| wasmtime::bail!("not provided"))
        }
        ComponentItem::ComponentInstance(instance) => {
            let mut inner = linker.instance(name)?;
            for (export, item) in instance.exports(engine) {
                stub(&mut inner, export, &item.ty, engine)?;
            }
            Ok(())
        }
        ComponentItem::Resource(_) => {
            linker.resource(name, ResourceType::host::<()>(), |_, _| Ok(()))
        }
        _ => Ok(()),
    }
}
