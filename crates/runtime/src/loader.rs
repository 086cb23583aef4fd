//! Reading a Wasm file and compiling it (through the cache), with errors that name the component.

use std::path::{Path, PathBuf};

use kiln_manifest::digest_of;
use wasmtime::component::InstancePre;

use crate::backend::Backend;
use crate::cache::Compiled;
use crate::code::{CodeTier, CompiledCode};
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
    let kind = wasm_kind(id, path, &bytes)?;
    Ok((bytes, kind))
}

/// What the Wasm binary `bytes` (read from `path`) is, by its header.
fn wasm_kind(id: &str, path: &Path, bytes: &[u8]) -> Result<WasmKind, LoadError> {
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => Ok(WasmKind::CoreModule),
        Some([0, b'a', b's', b'm', _, _, 1, 0]) => Ok(WasmKind::Component),
        _ => Err(LoadError::NotWasm {
            id: id.to_string(),
            path: path.to_path_buf(),
        }),
    }
}

/// Compiles the component `wasm`, read from `path` (or takes it from the compile cache); a
/// core module, or bytes that are not Wasm, are refused.
pub(crate) fn compile_component(
    runtime: &Runtime,
    id: &str,
    path: &Path,
    wasm: &[u8],
) -> Result<wasmtime::component::Component, LoadError> {
    match wasm_kind(id, path, wasm)? {
        WasmKind::Component => compile(runtime, id, path, wasm),
        WasmKind::CoreModule => Err(LoadError::CoreModule {
            id: id.to_string(),
            path: path.to_path_buf(),
        }),
    }
}

/// Compiles `wasm` (or takes it from the compile cache).
pub(crate) fn compile<T: Compiled>(
    runtime: &Runtime,
    id: &str,
    path: &Path,
    wasm: &[u8],
) -> Result<T, LoadError> {
    runtime
        .optimized()
        .compile(wasm, &digest_of(wasm))
        .map(|(compiled, _)| compiled)
        .map_err(|reason| LoadError::Compile {
            id: id.to_string(),
            path: path.to_path_buf(),
            reason,
        })
}

/// Where a component's Wasm is read from: a local file and, when the app named it by digest,
/// the digest it must have.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub(crate) path: PathBuf,
    pub(crate) digest: Option<String>,
    /// Components composed into it at load (`[component.ID.dependencies]`).
    pub(crate) dependencies: Vec<SourceDependency>,
}

/// A dependency of a component, resolved to a file.
#[derive(Debug, Clone)]
pub(crate) struct SourceDependency {
    /// The imports it satisfies (a name, or a package's: [`crate::compose::Dependency`]).
    pub(crate) import: String,
    /// Its export that satisfies them, when not each import's own name.
    pub(crate) export: Option<String>,
    /// Its Wasm file.
    pub(crate) path: PathBuf,
    /// Whether it may use the component's grants; otherwise its configuration imports are
    /// denied.
    pub(crate) inherit_configuration: bool,
}

/// A component pre-linked with kiln's host capabilities.
#[derive(Clone)]
pub(crate) struct Linked {
    /// The pre-linked component.
    pub(crate) pre: InstancePre<StoreState>,
    /// Its compiled form in the compile cache, to link it again from ([`relink`]).
    pub(crate) cached: Option<CachedCode>,
    /// Whether it runs baseline code, to be optimized in the background.
    pub(crate) tier: CodeTier,
    /// Where it was read from, with the digest it had: what it loads again from.
    pub(crate) source: Source,
}

/// A compiled component's entry in the compile cache.
#[derive(Debug, Clone)]
pub(crate) struct CachedCode {
    pub(crate) path: PathBuf,
    pub(crate) tier: CodeTier,
}

/// Reads, compiles and pre-links the component at `source`, with code of `accept`'s tier or
/// better: fails if it imports what kiln lacks, or if its content is not the digest named.
pub(crate) fn pre_link(
    runtime: &Runtime,
    id: &str,
    source: &Source,
    accept: CodeTier,
) -> Result<Linked, LoadError> {
    let (code, digest) = load_component(runtime, id, source, accept)?;
    Ok(Linked {
        pre: link(
            backend(runtime, id, &source.path, code.tier)?,
            id,
            &code.component,
        )?,
        cached: code.cached.map(|path| CachedCode {
            path,
            tier: code.tier,
        }),
        tier: code.tier,
        source: Source {
            path: source.path.clone(),
            digest: Some(digest),
            dependencies: source.dependencies.clone(),
        },
    })
}

/// Pre-links a component again from its compiled form `cached`, written by [`pre_link`].
pub(crate) fn relink(
    runtime: &Runtime,
    id: &str,
    cached: &CachedCode,
) -> Result<InstancePre<StoreState>, LoadError> {
    let backend = backend(runtime, id, &cached.path, cached.tier)?;
    let component =
        crate::cache::load(&backend.engine, &cached.path).map_err(|e| LoadError::Compile {
            id: id.to_string(),
            path: cached.path.clone(),
            reason: e.into(),
        })?;
    link(backend, id, &component)
}

/// The engine and linker of code of `tier`, for the component `id` read from `path`.
fn backend<'a>(
    runtime: &'a Runtime,
    id: &str,
    path: &Path,
    tier: CodeTier,
) -> Result<&'a Backend, LoadError> {
    runtime.backend(tier).ok_or_else(|| LoadError::Compile {
        id: id.to_string(),
        path: path.to_path_buf(),
        reason: anyhow::anyhow!("its code's compiler ({tier:?}) is not available"),
    })
}

/// `component` pre-linked with the linker of the engine that compiled it.
fn link(
    backend: &Backend,
    id: &str,
    component: &wasmtime::component::Component,
) -> Result<InstancePre<StoreState>, LoadError> {
    backend
        .linker
        .instantiate_pre(component)
        .map_err(|e| LoadError::MissingImport {
            id: id.to_string(),
            reason: e.into(),
        })
}

/// The compiled component at `source` (code of `accept`'s tier or better), with its digest.
/// A known digest finds the compiled form without reading the source. A core module is
/// adapted into a component when it carries its component type (a Spin app built for
/// `wasm32-wasip1`), and refused otherwise.
pub(crate) fn load_component(
    runtime: &Runtime,
    id: &str,
    source: &Source,
    accept: CodeTier,
) -> Result<(CompiledCode, String), LoadError> {
    // A composed component is cached under its composition's key, not its source's digest.
    if let (Some(digest), []) = (&source.digest, source.dependencies.as_slice()) {
        if let Some(code) = runtime.lookup_code(digest, accept) {
            return Ok((code, digest.clone()));
        }
    }
    let path = &source.path;
    let (wasm, kind) = read_wasm(id, path)?;
    let digest = digest_of(&wasm);
    if source.digest.as_ref().is_some_and(|named| *named != digest) {
        return Err(LoadError::Changed {
            id: id.to_string(),
            path: path.clone(),
        });
    }
    let (key, component) = if !source.dependencies.is_empty() {
        // Cached by what goes into the composition, so a reload neither composes nor compiles.
        let dependencies = read_dependencies(id, &source.dependencies)?;
        let key = composition_key(&digest, &dependencies);
        if let Some(code) = runtime.lookup_code(&key, accept) {
            return Ok((code, digest));
        }
        (key, compose_read(id, &wasm, dependencies)?)
    } else if kind == WasmKind::Component {
        (digest.clone(), wasm)
    } else if crate::componentize::has_component_type(&wasm) {
        // Keyed by the module's digest, so the adapter runs only when the cache misses.
        if let Some(code) = runtime.lookup_code(&digest, accept) {
            return Ok((code, digest));
        }
        let component =
            crate::componentize::componentize(&wasm).map_err(|reason| LoadError::Compile {
                id: id.to_string(),
                path: path.clone(),
                reason,
            })?;
        (digest.clone(), component)
    } else {
        return Err(LoadError::CoreModule {
            id: id.to_string(),
            path: path.clone(),
        });
    };
    let code = runtime
        .compile_code(&component, &key, accept)
        .map_err(|reason| LoadError::Compile {
            id: id.to_string(),
            path: path.clone(),
            reason,
        })?;
    Ok((code, digest))
}

/// `wasm` composed with `dependencies`; an error names the component and the dependency.
pub(crate) fn compose(
    id: &str,
    wasm: &[u8],
    dependencies: &[SourceDependency],
) -> Result<Vec<u8>, LoadError> {
    compose_read(id, wasm, read_dependencies(id, dependencies)?)
}

/// What composing its dependencies went wrong with, for component `id`.
fn dependency_error(id: &str, reason: anyhow::Error) -> LoadError {
    LoadError::Grant {
        id: id.to_string(),
        reason: format!("composing its dependencies: {reason:#}"),
    }
}

/// Each of `dependencies` with its Wasm.
fn read_dependencies<'a>(
    id: &str,
    dependencies: &'a [SourceDependency],
) -> Result<Vec<(&'a SourceDependency, Vec<u8>)>, LoadError> {
    dependencies
        .iter()
        .map(|dependency| {
            let wasm = std::fs::read(&dependency.path).map_err(|e| {
                dependency_error(
                    id,
                    anyhow::anyhow!(
                        "dependency \"{}\": cannot read {}: {e}",
                        dependency.import,
                        dependency.path.display()
                    ),
                )
            })?;
            Ok((dependency, wasm))
        })
        .collect()
}

/// The compile cache's name for the composition of the component `digest` with
/// `dependencies`: everything that decides the composed bytes, kiln's version included.
fn composition_key(digest: &str, dependencies: &[(&SourceDependency, Vec<u8>)]) -> String {
    let mut key = format!("kiln {} composes {digest}", env!("CARGO_PKG_VERSION"));
    for (dependency, wasm) in dependencies {
        key.push_str(&format!(
            "\n{} {:?} {} {}",
            dependency.import,
            dependency.export,
            dependency.inherit_configuration,
            digest_of(wasm)
        ));
    }
    digest_of(key.as_bytes())
}

/// `wasm` composed with its read `dependencies`.
fn compose_read(
    id: &str,
    wasm: &[u8],
    dependencies: Vec<(&SourceDependency, Vec<u8>)>,
) -> Result<Vec<u8>, LoadError> {
    let resolved = dependencies
        .into_iter()
        .map(|(dependency, wasm)| crate::compose::Dependency {
            import: &dependency.import,
            export: dependency.export.as_deref(),
            origin: format!(
                "dependency \"{}\" ({})",
                dependency.import,
                dependency.path.display()
            ),
            wasm,
            inherit_configuration: dependency.inherit_configuration,
        })
        .collect();
    crate::compose::compose(wasm, resolved).map_err(|e| dependency_error(id, e))
}
