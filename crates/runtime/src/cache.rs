//! On-disk cache of compiled components, keyed by the SHA-256 digest of the Wasm bytes (the
//! digest an app's locked spec names them by) and the engine's compatibility hash, so a second start of the same app compiles nothing.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::component::Component;
use wasmtime::{Engine, Module};

/// Something compiled from Wasm bytes that can be cached: a component or a core module.
pub(crate) trait Compiled: Sized {
    fn compile(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Self>;
    /// # Safety
    /// `path` must hold the output of [`Compiled::serialize`] for this engine's configuration.
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self>;
    fn serialize(&self) -> wasmtime::Result<Vec<u8>>;
}

impl Compiled for Component {
    fn compile(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Self> {
        Component::new(engine, wasm)
    }
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        unsafe { Component::deserialize_file(engine, path) }
    }
    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        Component::serialize(self)
    }
}

impl Compiled for Module {
    fn compile(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Self> {
        Module::new(engine, wasm)
    }
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        unsafe { Module::deserialize_file(engine, path) }
    }
    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        Module::serialize(self)
    }
}

/// A directory of `.cwasm` files.
pub(crate) struct CompileCache {
    dir: PathBuf,
    engine_tag: String,
}

impl CompileCache {
    pub(crate) fn new(dir: PathBuf, engine: &Engine) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Self {
            dir,
            engine_tag: format!("{:016x}", hasher.finish()),
        }
    }

    /// The tag of this engine's compiled code, part of every entry's name.
    pub(crate) fn engine_tag(&self) -> &str {
        &self.engine_tag
    }

    /// Writes `compiled`, made elsewhere by an engine with this tag, as the entry of `digest`.
    pub(crate) fn install(&self, digest: &str, compiled: &[u8]) -> anyhow::Result<()> {
        write_atomically(&self.path_for(digest), compiled)
    }

    /// Where the compiled form of the Wasm file whose digest is `digest` (`sha256:HEX`) is
    /// kept.
    pub(crate) fn path_for(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.dir.join(format!("{hex}-{}.cwasm", self.engine_tag))
    }

    /// The compiled form of the Wasm file named by `digest`, if the cache has it.
    pub(crate) fn lookup<T: Compiled>(
        &self,
        engine: &Engine,
        digest: &str,
    ) -> Option<(T, PathBuf)> {
        let path = self.path_for(digest);
        if !path.is_file() {
            return None;
        }
        match load(engine, &path) {
            Ok(compiled) => Some((compiled, path)),
            Err(e) => {
                tracing::warn!("ignoring unreadable cache entry {}: {e}", path.display());
                None
            }
        }
    }

    /// The compiled form of the Wasm file named by `digest`: from the cache when present,
    /// else made by `build` and stored; with the cache entry's path when it is on disk. A
    /// cache that cannot be read or written only costs a compilation.
    pub(crate) fn load_or_build<T: Compiled>(
        &self,
        engine: &Engine,
        digest: &str,
        build: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<(T, Option<PathBuf>)> {
        if let Some((compiled, path)) = self.lookup(engine, digest) {
            return Ok((compiled, Some(path)));
        }
        let path = self.path_for(digest);
        let compiled = build()?;
        tracing::debug!("compiled, caching as {}", path.display());
        match store(&path, &compiled) {
            Ok(()) => Ok((compiled, Some(path))),
            Err(e) => {
                tracing::warn!("cannot write compile cache {}: {e:#}", path.display());
                Ok((compiled, None))
            }
        }
    }
}

/// The compiled form kept at `path`, a cache entry this engine wrote.
pub(crate) fn load<T: Compiled>(engine: &Engine, path: &Path) -> wasmtime::Result<T> {
    // SAFETY: cache entries are written by `Compiled::serialize` under this engine's
    // configuration (the engine tag is part of their names), in a directory only kiln writes:
    // by this host, or from a precompiled layer of an artifact whose signature was verified.
    let compiled = unsafe { T::deserialize_file(engine, path) }?;
    tracing::debug!("loaded from the compile cache: {}", path.display());
    Ok(compiled)
}

/// Writes atomically: a reader never sees a half-written file.
fn store(path: &Path, compiled: &impl Compiled) -> anyhow::Result<()> {
    write_atomically(path, &compiled.serialize()?)
}

/// Writes `bytes` at `path` so that a reader never sees half of them.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut file, bytes)?;
    file.persist(path)?;
    Ok(())
}
