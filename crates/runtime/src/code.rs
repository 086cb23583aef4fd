//! Which code a component runs, and where it comes from: the compile cache, else a compile by
//! the baseline compiler when the caller accepts its code, else Cranelift ([`crate::tiering`]).

use std::path::PathBuf;
use std::sync::Weak;

use wasmtime::component::Component;

use crate::backend::Backend;
use crate::tiering::Optimizable;
use crate::Runtime;

/// The code a component runs: Winch's baseline or Cranelift's optimized code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeTier {
    Baseline,
    Optimized,
}

/// A compiled component with its compile cache entry and the tier of its code.
pub(crate) struct CompiledCode {
    pub(crate) component: Component,
    pub(crate) cached: Option<PathBuf>,
    pub(crate) tier: CodeTier,
}

impl Runtime {
    /// The engine, linker and cache that make and run code of `tier`; `None` for baseline
    /// code when this runtime does not tier (or Winch is unavailable).
    pub(crate) fn backend(&self, tier: CodeTier) -> Option<&Backend> {
        match tier {
            CodeTier::Optimized => Some(self.optimized()),
            CodeTier::Baseline => self.tiering()?.baseline(),
        }
    }

    /// The compiled component cached under `key`: its optimized code if the cache has it,
    /// else its baseline code when `accept` allows it.
    pub(crate) fn lookup_code(&self, key: &str, accept: CodeTier) -> Option<CompiledCode> {
        let tiers: &[CodeTier] = match accept {
            CodeTier::Optimized => &[CodeTier::Optimized],
            CodeTier::Baseline => &[CodeTier::Optimized, CodeTier::Baseline],
        };
        tiers.iter().find_map(|&tier| {
            let backend = self.backend(tier)?;
            let (component, path) = backend.cache.as_ref()?.lookup(&backend.engine, key)?;
            Some(CompiledCode {
                component,
                cached: Some(path),
                tier,
            })
        })
    }

    /// `wasm`, cached under `key`: from the cache ([`Self::lookup_code`]), else compiled by the
    /// baseline compiler when `accept` allows it and it can, else optimized.
    pub(crate) fn compile_code(
        &self,
        wasm: &[u8],
        key: &str,
        accept: CodeTier,
    ) -> anyhow::Result<CompiledCode> {
        if let Some(code) = self.lookup_code(key, accept) {
            return Ok(code);
        }
        let baseline = (accept == CodeTier::Baseline)
            .then(|| self.backend(CodeTier::Baseline))
            .flatten();
        if let Some(backend) = baseline {
            match backend.compile(wasm, key) {
                Ok((component, cached)) => {
                    return Ok(CompiledCode {
                        component,
                        cached,
                        tier: CodeTier::Baseline,
                    })
                }
                // Winch lacks a few proposals (tail calls, exceptions, GC): Cranelift has them.
                Err(e) => tracing::debug!("baseline compiler refused it ({e:#}): optimizing now"),
            }
        }
        let (component, cached) = self.optimized().compile(wasm, key)?;
        Ok(CompiledCode {
            component,
            cached,
            tier: CodeTier::Optimized,
        })
    }

    /// Has `component`, which runs baseline code, optimized in the background.
    pub(crate) fn optimize_later(&self, component: Weak<dyn Optimizable>) {
        if let Some(tiering) = self.tiering() {
            tiering.optimize_later(component);
        }
    }
}
