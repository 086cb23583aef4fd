//! [`Plugin`]: a loaded plugin and its calls. Every call takes one of the plugin's slots,
//! gets an instance (fresh, or a kept one), gives the host functions their data, and runs under
//! the plugin's deadline (and fuel budget); a failed call's instance is thrown away.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use kiln_runtime::{InstanceRecipe, StoreState};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{ComponentExportIndex, Instance, InstancePre, Val};
use wasmtime::Store;

use crate::config::{PluginConfig, Reuse};
use crate::error::{CallError, CallLimits};

/// A loaded plugin: compiled, pre-linked and granted. Cheap to clone; `Send + Sync`, so many
/// tasks and threads may call it at once (up to its `max_concurrent`).
pub struct Plugin<D = ()> {
    inner: Arc<Inner>,
    _data: PhantomData<fn(D)>,
}

impl<D> Clone for Plugin<D> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            _data: PhantomData,
        }
    }
}

struct Inner {
    name: Arc<str>,
    recipe: InstanceRecipe,
    pre: InstancePre<StoreState>,
    /// Its exported functions by the names [`Plugin::functions`] gives, found once at load.
    functions: BTreeMap<String, ComponentExportIndex>,
    fuel: Option<u64>,
    /// Idle instances, when they are kept ([`Reuse::Kept`]).
    kept: Option<Mutex<Vec<Live>>>,
}

/// An instance and its store.
struct Live {
    store: Store<StoreState>,
    instance: Instance,
}

impl<D: Send + 'static> Plugin<D> {
    pub(crate) fn new(
        name: &str,
        recipe: InstanceRecipe,
        pre: InstancePre<StoreState>,
        config: &PluginConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                name: name.into(),
                recipe,
                functions: exported_functions(&pre),
                pre,
                fuel: config.fuel,
                kept: (config.reuse == Reuse::Kept).then(Mutex::default),
            }),
            _data: PhantomData,
        }
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The functions it exports, as [`Self::call_func`] names them: `name` for a function of
    /// its world, `interface#name` for one of an exported interface (`my:pkg/filter@1.0.0#apply`).
    pub fn functions(&self) -> Vec<String> {
        self.inner.functions.keys().cloned().collect()
    }

    /// Calls the exported function `function` (named as [`Self::functions`] lists it) with
    /// `args`, for hosts that learn a plugin's world at run time; `data` is what the host's
    /// own functions work on during the call.
    pub async fn call_func(
        &self,
        data: D,
        function: &str,
        args: &[Val],
    ) -> Result<Vec<Val>, CallError> {
        let Some(&index) = self.inner.functions.get(function) else {
            return Err(CallError::NoSuchFunction {
                plugin: self.name().to_string(),
                function: function.to_string(),
                exports: self.functions().join(", "),
            });
        };
        self.run(data, async move |store, instance| {
            let func = instance
                .get_func(&mut *store, index)
                .ok_or_else(|| wasmtime::format_err!("export \"{function}\" is not a function"))?;
            let mut results = vec![Val::Bool(false); func.ty(&*store).results().len()];
            func.call_async(&mut *store, args, &mut results).await?;
            Ok(results)
        })
        .await
    }

    /// Runs `call` on an instance of the plugin: the one place a call gets its slot, its
    /// instance, its data, its fuel and its deadline, and where a failure is classified.
    pub(crate) async fn run<R>(
        &self,
        data: D,
        call: impl AsyncFnOnce(&mut Store<StoreState>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let inner = &self.inner;
        let limits = inner.recipe.limits();
        let report = CallLimits {
            plugin: &inner.name,
            timeout: limits.timeout,
            max_concurrent: limits.max_concurrent(),
            fuel: inner.fuel,
        };
        let deadline = limits.deadline();
        let _slot = inner
            .recipe
            .acquire_slot()
            .await
            .map_err(|_| report.busy())?;
        let outcome = tokio::time::timeout_at(deadline, async {
            let mut live = self.instance().await?;
            live.store.data_mut().set_host_data(data);
            if let Some(budget) = inner.fuel {
                live.store.set_fuel(budget)?;
            }
            let result = call(&mut live.store, &live.instance).await?;
            Ok((live, result))
        })
        .await;
        match outcome {
            Ok(Ok((live, result))) => {
                if let Some(kept) = &inner.kept {
                    kept.lock().unwrap_or_else(|e| e.into_inner()).push(live);
                }
                Ok(result)
            }
            Ok(Err(error)) => Err(report.guest_error(error)),
            Err(_) => Err(report.timed_out()),
        }
    }

    /// A kept idle instance, else a new one.
    async fn instance(&self) -> wasmtime::Result<Live> {
        let inner = &self.inner;
        if let Some(kept) = &inner.kept {
            if let Some(live) = kept.lock().unwrap_or_else(|e| e.into_inner()).pop() {
                return Ok(live);
            }
        }
        let mut store = inner
            .recipe
            .new_store()
            .map_err(wasmtime::Error::from_anyhow)?;
        let instance = inner.pre.instantiate_async(&mut store).await?;
        Ok(Live { store, instance })
    }

    /// The pre-linked plugin, for bindings to find their exports in.
    pub(crate) fn pre(&self) -> &InstancePre<StoreState> {
        &self.inner.pre
    }
}

/// The functions `pre` exports, by name (`name`, or `interface#name` inside an exported
/// interface), with their export indices.
fn exported_functions(pre: &InstancePre<StoreState>) -> BTreeMap<String, ComponentExportIndex> {
    let component = pre.component();
    let engine = component.engine();
    let mut functions = BTreeMap::new();
    for (name, item) in component.component_type().exports(engine) {
        match item.ty {
            ComponentItem::ComponentFunc(_) => {
                if let Some(index) = component.get_export_index(None, name) {
                    functions.insert(name.to_string(), index);
                }
            }
            ComponentItem::ComponentInstance(instance) => {
                let Some(parent) = component.get_export_index(None, name) else {
                    continue;
                };
                for (function, item) in instance.exports(engine) {
                    let index = component.get_export_index(Some(&parent), function);
                    if let (ComponentItem::ComponentFunc(_), Some(index)) = (item.ty, index) {
                        functions.insert(format!("{name}#{function}"), index);
                    }
                }
            }
            _ => {}
        }
    }
    functions
}
