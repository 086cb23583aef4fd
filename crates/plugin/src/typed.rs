//! Typed calls: a plugin called through the host's own `wasmtime::component::bindgen!` world
//! ([`Bindings`], usually implemented with [`bindings!`](crate::bindings!)), checked against
//! that world once when the [`TypedPlugin`] is made.

use std::sync::Arc;

use kiln_runtime::StoreState;
use wasmtime::component::{Instance, InstancePre};
use wasmtime::Store;

use crate::error::{CallError, PluginError};
use crate::plugin::Plugin;

/// A `bindgen!` world's generated type, as kiln makes it for each call: its export indices are
/// looked up once per plugin ([`Self::indices`]), then bound to each instance ([`Self::load`]).
/// Implement it with [`bindings!`](crate::bindings!).
pub trait Bindings: Sized + Send + Sync + 'static {
    /// The world's `...Indices` type.
    type Indices: Send + Sync + 'static;

    /// Finds the world's exports in the pre-linked plugin; an error names what is missing.
    fn indices(pre: &InstancePre<StoreState>) -> wasmtime::Result<Self::Indices>;

    /// The world's exports of `instance`.
    fn load(
        indices: &Self::Indices,
        store: &mut Store<StoreState>,
        instance: &Instance,
    ) -> wasmtime::Result<Self>;
}

/// Implements [`Bindings`] for a `bindgen!` world: `bindings!(Filter)` for a world named
/// `filter` (whose generated types are `Filter` and `FilterIndices`), or
/// `bindings!(Filter, FilterIndices)` to name the indices type.
#[macro_export]
macro_rules! bindings {
    ($world:ty, $indices:ty) => {
        impl $crate::Bindings for $world {
            type Indices = $indices;

            fn indices(
                pre: &$crate::wasmtime::component::InstancePre<$crate::StoreState>,
            ) -> $crate::wasmtime::Result<$indices> {
                <$indices>::new(pre)
            }

            fn load(
                indices: &$indices,
                store: &mut $crate::wasmtime::Store<$crate::StoreState>,
                instance: &$crate::wasmtime::component::Instance,
            ) -> $crate::wasmtime::Result<Self> {
                indices.load(store, instance)
            }
        }
    };
}

/// A plugin called through the host's world `B`. Cheap to clone; `Send + Sync`.
pub struct TypedPlugin<B: Bindings, D = ()> {
    plugin: Plugin<D>,
    indices: Arc<B::Indices>,
}

impl<B: Bindings, D> Clone for TypedPlugin<B, D> {
    fn clone(&self) -> Self {
        Self {
            plugin: self.plugin.clone(),
            indices: self.indices.clone(),
        }
    }
}

impl<D: Send + 'static> Plugin<D> {
    /// This plugin, called through the world `B`: fails, naming the export, when the plugin
    /// lacks one of the world's exports or has it with another type.
    pub fn typed<B: Bindings>(&self) -> Result<TypedPlugin<B, D>, PluginError> {
        let indices = B::indices(self.pre()).map_err(|reason| PluginError::World {
            plugin: self.name().to_string(),
            world: std::any::type_name::<B>(),
            reason: reason.into(),
        })?;
        Ok(TypedPlugin {
            plugin: self.clone(),
            indices: Arc::new(indices),
        })
    }
}

impl<B: Bindings, D: Send + 'static> TypedPlugin<B, D> {
    /// The plugin.
    pub fn plugin(&self) -> &Plugin<D> {
        &self.plugin
    }

    /// Calls the plugin: `call` gets the world's exports and the store to pass them, and
    /// `data` is what the host's own functions work on meanwhile.
    ///
    /// ```ignore
    /// let out = filter.call(session, async |filter, store| {
    ///     filter.call_apply(store, &request).await
    /// }).await?;
    /// ```
    pub async fn call<R>(
        &self,
        data: D,
        call: impl AsyncFnOnce(&B, &mut Store<StoreState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let indices = &self.indices;
        self.plugin
            .run(data, async move |store, instance| {
                let bindings = B::load(indices, store, instance)?;
                call(&bindings, store).await
            })
            .await
    }
}
