//! Precompiled components: compiled here to ship with an app (`kiln registry push
//! --precompile`), and taken into the compile cache when an app arrives with code compiled by
//! an engine like this one, so that it starts without compiling. Compiled code runs as native
//! code: it must come from a source the host trusts (kiln takes it only from a verified,
//! signed artifact).

use std::path::Path;

use crate::code::CodeTier;
use crate::loader::{load_component, Source};
use crate::{LoadError, Runtime};

impl Runtime {
    /// The tag of this engine's compiled code: code compiled by an engine with the same tag
    /// loads here. `None` without a compile cache.
    pub fn engine_tag(&self) -> Option<&str> {
        self.cache().map(|cache| cache.engine_tag())
    }

    /// The component at `path` (named `id` in errors) compiled as loading it would compile it
    /// (a core module adapted first): its compiled form, to ship.
    pub fn precompile(&self, id: &str, path: &Path) -> Result<Vec<u8>, LoadError> {
        let source = Source {
            path: path.to_path_buf(),
            digest: None,
            dependencies: Vec::new(),
        };
        let (code, _) = load_component(self, id, &source, CodeTier::Optimized)?;
        code.component.serialize().map_err(|e| LoadError::Compile {
            id: id.to_string(),
            path: path.to_path_buf(),
            reason: e.into(),
        })
    }

    /// Like [`Self::install_precompiled`], saying in the log what became of the code: taken,
    /// or compiled here instead (another engine's, or not installable).
    pub fn take_precompiled(&self, digest: &str, engine_tag: &str, compiled: &[u8]) {
        match self.install_precompiled(digest, engine_tag, compiled) {
            Ok(true) => {}
            Ok(false) => tracing::info!(
                "precompiled code for {digest} was made by another engine: compiling it here"
            ),
            Err(e) => tracing::warn!("precompiled code for {digest}: {e:#}; compiling it here"),
        }
    }

    /// Takes `compiled`, the compiled form of the Wasm named `digest` made by an engine tagged
    /// `engine_tag`, into the compile cache; `false` (nothing done) when the tags differ, so
    /// that the component compiles as usual. Only for code from a trusted source.
    pub fn install_precompiled(
        &self,
        digest: &str,
        engine_tag: &str,
        compiled: &[u8],
    ) -> anyhow::Result<bool> {
        match self.cache() {
            Some(cache) if cache.engine_tag() == engine_tag => {
                cache.install(digest, compiled)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Runtime, RuntimeOptions};

    #[test]
    fn code_from_another_engine_is_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = Runtime::new(&RuntimeOptions {
            cache_dir: Some(dir.path().to_path_buf()),
            ..RuntimeOptions::sized_for(1)
        })
        .unwrap();
        let digest = format!("sha256:{}", "ab".repeat(32));
        let taken = runtime
            .install_precompiled(&digest, "another-engine", b"not this engine's code")
            .unwrap();
        assert!(!taken);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing written"
        );

        let tag = runtime.engine_tag().unwrap().to_string();
        assert!(runtime.install_precompiled(&digest, &tag, b"code").unwrap());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
