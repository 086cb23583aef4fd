//! Components an embedder loads one at a time (the `kiln-plugin` library): compiled from bytes
//! it hands over, granted what it says rather than what a manifest says, and pre-linked with
//! its own linker (kiln's host interfaces plus the imports it implements). The embedder makes
//! its own calls; this module gives it the instance recipe (grants, limits, metrics) that a
//! trigger's component has.

use std::path::Path;
use std::sync::Arc;

use kiln_manifest::ComponentSpec;
use wasmtime::component::{InstancePre, Linker};

use crate::capabilities::capability::ComponentContext;
use crate::capabilities::key_value::KeyValueStores;
use crate::grants::Grants;
use crate::instance::InstanceRecipe;
use crate::limits::ComponentLimits;
use crate::store::{AppCapabilities, ComponentCapabilities, StoreState};
use crate::{LoadError, Runtime};

/// The key-value stores an embedder defines once, by label, for the components it loads to be
/// granted. Cheap to clone.
#[derive(Clone, Default)]
pub struct EmbedderStores {
    capabilities: Arc<AppCapabilities>,
}

impl EmbedderStores {
    /// The stores `key_value` defines (see
    /// [`configure_stores`](crate::capabilities::key_value::configure_stores)).
    pub fn new(key_value: KeyValueStores) -> Self {
        Self {
            capabilities: Arc::new(AppCapabilities {
                key_value,
                ..AppCapabilities::default()
            }),
        }
    }
}

impl InstanceRecipe {
    /// The recipe of the component `id` that an embedder loads: granted `grants` and the
    /// `key_value_stores` labels of `stores` (each must be defined there), held to `limits`.
    pub fn embedded(
        runtime: &Runtime,
        id: &str,
        grants: Grants,
        key_value_stores: Vec<String>,
        stores: &EmbedderStores,
        limits: ComponentLimits,
    ) -> Result<Self, LoadError> {
        let spec = ComponentSpec {
            id: id.to_string(),
            key_value_stores,
            ..ComponentSpec::default()
        };
        let capabilities = ComponentCapabilities::configure(
            &stores.capabilities,
            &ComponentContext {
                id: &id.into(),
                spec: &spec,
                grants: &Arc::new(grants),
            },
        )?;
        Ok(Self::new(runtime, id, Arc::new(capabilities), limits))
    }
}

impl Runtime {
    /// Compiles the component `wasm` (or takes it from the compile cache) and pre-links it with
    /// `linker` (made by [`Runtime::new_linker`]). `id` and `path` (where the bytes came from)
    /// name it in errors: not a component, does not compile, or imports what `linker` lacks.
    pub fn pre_link_with(
        &self,
        linker: &Linker<StoreState>,
        id: &str,
        path: &Path,
        wasm: &[u8],
    ) -> Result<InstancePre<StoreState>, LoadError> {
        let component = crate::loader::compile_component(self, id, path, wasm)?;
        linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::MissingImport {
                id: id.to_string(),
                reason: e.into(),
            })
    }
}
