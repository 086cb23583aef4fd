//! Reading a Wasm file and compiling it (through the cache), with errors that name the component.

use std::path::Path;

use crate::cache::Compiled;
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
    let compiled = match runtime.cache() {
        Some(cache) => cache.load_or_compile(runtime.engine(), wasm),
        None => T::compile(runtime.engine(), wasm).map_err(anyhow::Error::from),
    };
    compiled.map_err(|reason| LoadError::Compile {
        id: id.to_string(),
        path: path.to_path_buf(),
        reason,
    })
}

/// Reads and compiles the component at `path`; a core module is refused.
pub(crate) fn load_component(
    runtime: &Runtime,
    id: &str,
    path: &Path,
) -> Result<wasmtime::component::Component, LoadError> {
    let (wasm, kind) = read_wasm(id, path)?;
    if kind == WasmKind::CoreModule {
        return Err(LoadError::CoreModule {
            id: id.to_string(),
            path: path.to_path_buf(),
        });
    }
    compile(runtime, id, path, &wasm)
}
