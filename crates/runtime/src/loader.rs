//! Reading a Wasm file and compiling it (through the cache), with errors that name the component.

use std::path::Path;

use wasmtime::component::InstancePre;

use crate::cache::Compiled;
use crate::store::StoreState;
use crate::{LoadError, Runtime};

/// What a Wasm binary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WasmKind {
    Component,
    CoreModule,
}

/// Reads `path` and tells a component from a core module by the binary header.
pub(crate) fn read_wasm(id: &str, path: &Path) -> Result<(Vec<u8>, WasmKind), LoadError> {
    let bytes = std::fs::read(path).map_err(|reason| LoadError::Unreadable {
        id: id.to_string(),
        path: path.to_path_buf(),
        reason,
    })?;
    let kind = match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => WasmKind::CoreModule,
        Some([0, b'a', b's', b'm', _, _, 1, 0]) => WasmKind::Component,
        _ => {
            return Err(LoadError::NotWasm {
                id: id.to_string(),
                path: path.to_path_buf(),
            })
        }
    };
    Ok((bytes, kind))
}

/// Compiles `wasm` (or takes it from the compile cache).
pub(crate) fn compile<T: Compiled>(
    runtime: &Runtime,
    id: &str,
    path: &Path,
    wasm: &[u8],
) -> Result<T, LoadError> {
    cached(runtime, wasm, || Ok(T::compile(runtime.engine(), wasm)?)).map_err(|reason| {
        LoadError::Compile {
            id: id.to_string(),
            path: path.to_path_buf(),
            reason,
        }
    })
}

/// What `build` makes from the Wasm file `wasm`, through the compile cache when there is one.
fn cached<T: Compiled>(
    runtime: &Runtime,
    wasm: &[u8],
    build: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    match runtime.cache() {
        Some(cache) => cache.load_or_build(runtime.engine(), wasm, build),
        None => build(),
    }
}

/// Reads, compiles and pre-links the component at `path`: fails if it imports what kiln lacks.
pub(crate) fn pre_link(
    runtime: &Runtime,
    id: &str,
    path: &Path,
) -> Result<InstancePre<StoreState>, LoadError> {
    let component = load_component(runtime, id, path)?;
    runtime
        .linker()
        .instantiate_pre(&component)
        .map_err(|e| LoadError::MissingImport {
            id: id.to_string(),
            reason: e.into(),
        })
}

/// Reads and compiles the component at `path`. A core module is adapted into a component when
/// it carries its component type (a Spin app built for `wasm32-wasip1`), and refused otherwise.
pub(crate) fn load_component(
    runtime: &Runtime,
    id: &str,
    path: &Path,
) -> Result<wasmtime::component::Component, LoadError> {
    let (wasm, kind) = read_wasm(id, path)?;
    if kind == WasmKind::Component {
        return compile(runtime, id, path, &wasm);
    }
    if !crate::componentize::has_component_type(&wasm) {
        return Err(LoadError::CoreModule {
            id: id.to_string(),
            path: path.to_path_buf(),
        });
    }
    // Keyed by the module's bytes, so the adapter runs only when the cache misses.
    cached(runtime, &wasm, || {
        let component = crate::componentize::componentize(&wasm)?;
        Ok(wasmtime::component::Component::new(
            runtime.engine(),
            &component,
        )?)
    })
    .map_err(|reason| LoadError::Compile {
        id: id.to_string(),
        path: path.to_path_buf(),
        reason,
    })
}
