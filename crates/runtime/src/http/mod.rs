//! HTTP components, pre-linked at load, and the call that serves one request. Both generations of
//! `wasi:http` are served: a 0.2 `incoming-handler` gets a fresh instance per request
//! ([`p2`]); a 0.3 `handler` (async, as Spin SDK 7 builds them) runs on instances that may take
//! several requests at once and be reused, as `wasmtime serve` runs them ([`p3`]).
//!
//! A component whose compiled form is in the compile cache may be unloaded when it goes unused
//! and the runtime's budget of loaded components is full ([`crate::residency`]); its next
//! request loads it again from the cache.

mod body;
mod p2;
mod p3;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use arc_swap::ArcSwapOption;
use bytes::Bytes;
use wasmtime::component::InstancePre;

use crate::fault::{Failure, FailureKind};
use crate::grants::Grants;
use crate::instance::{InstanceRecipe, Report};
use crate::limits::ComponentLimits;
use crate::metrics::ComponentMetrics;
use crate::residency::Resident;
use crate::store::{ComponentCapabilities, StoreState};
use crate::{LoadError, Runtime};

/// A response produced by a guest; its body streams from the still-running instance.
pub type HttpResponse = hyper::Response<wasmtime_wasi_http::WasiBody>;

/// An HTTP component ready to serve: compiled, linked and type-checked at load. Cheap to clone.
#[derive(Clone)]
pub struct HttpComponent {
    inner: Arc<Inner>,
}

struct Inner {
    recipe: InstanceRecipe,
    /// The loaded form; `None` while unloaded.
    handler: ArcSwapOption<Handler>,
    /// Taken while the component loads again, so it loads once however many requests wait.
    loading: tokio::sync::Mutex<()>,
    /// Where it loads again from: the source file, and its compile cache entry.
    source: PathBuf,
    cached: Option<PathBuf>,
    last_used: AtomicU64,
}

enum Handler {
    P2(p2::P2Handler),
    P3(p3::P3Handler),
}

impl Handler {
    /// The handler the component's exports call for: 0.3 if it has it, else 0.2.
    fn new(recipe: &InstanceRecipe, pre: InstancePre<StoreState>) -> Result<Self, LoadError> {
        if let Ok(pre) = wasmtime_wasi_http::p3::bindings::ServicePre::new(pre.clone()) {
            return Ok(Handler::P3(p3::P3Handler::new(recipe.clone(), pre)));
        }
        match wasmtime_wasi_http::p2::bindings::ProxyPre::new(pre) {
            Ok(pre) => Ok(Handler::P2(p2::P2Handler::new(recipe.clone(), pre))),
            Err(_) => Err(LoadError::MissingExport {
                id: recipe.id.to_string(),
                export: "wasi:http/incoming-handler@0.2 or wasi:http/handler@0.3",
                what: "an HTTP component (a wasi:http/proxy or wasi:http/service world)",
            }),
        }
    }
}

impl HttpComponent {
    /// Reads, compiles (or takes from the cache) and pre-links the component at `path`; fails
    /// if it imports what kiln lacks or exports no HTTP handler. Its instances run with
    /// `grants` and nothing of any app, held to `limits` (`kiln serve`).
    pub fn load(
        runtime: &Runtime,
        id: &str,
        path: &Path,
        grants: Grants,
        limits: ComponentLimits,
    ) -> Result<Self, LoadError> {
        let capabilities = ComponentCapabilities::standalone(&id.into(), grants)?;
        Self::load_granted(runtime, id, path, capabilities, limits)
    }

    /// [`Self::load`] for a component of an app, granted `capabilities`.
    pub(crate) fn load_granted(
        runtime: &Runtime,
        id: &str,
        path: &Path,
        capabilities: ComponentCapabilities,
        limits: ComponentLimits,
    ) -> Result<Self, LoadError> {
        let linked = crate::loader::pre_link(runtime, id, path)?;
        let recipe = InstanceRecipe::new(runtime, id, capabilities, limits);
        let handler = Handler::new(&recipe, linked.pre)?;
        let inner = Arc::new(Inner {
            last_used: AtomicU64::new(runtime.residency().now()),
            recipe,
            handler: ArcSwapOption::from_pointee(handler),
            loading: tokio::sync::Mutex::new(()),
            source: path.to_path_buf(),
            cached: linked.cached,
        });
        // Only a component that loads again cheaply may be unloaded.
        if inner.cached.is_some() {
            runtime
                .residency()
                .admit(Arc::downgrade(&inner) as Weak<dyn Resident>);
        }
        Ok(Self { inner })
    }

    /// The component id.
    pub fn id(&self) -> &str {
        &self.inner.recipe.id
    }

    /// The limits the component runs under.
    pub fn limits(&self) -> &ComponentLimits {
        &self.inner.recipe.limits
    }

    /// The component's metrics, for the trigger to count what it answered.
    pub fn metrics(&self) -> &ComponentMetrics {
        &self.inner.recipe.metrics
    }

    /// Serves `request`, which arrived through `route` (named in logs; shared, so a request
    /// costs no copy of it). The request URI must carry scheme and authority. Every failure is
    /// logged and counted here; its kind tells the status to answer with.
    pub async fn handle<B>(
        &self,
        request: hyper::Request<B>,
        route: &Arc<str>,
    ) -> Result<HttpResponse, Failure>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let recipe = &self.inner.recipe;
        let report = recipe.report("request", route);
        let deadline = recipe.limits.deadline();
        let result = async {
            let Some(slot) = recipe.limits.acquire_slot().await else {
                return Err(Failure::msg(
                    FailureKind::Busy,
                    format_args!(
                        "all {} request slots of the component stayed busy (max_concurrent)",
                        recipe.limits.max_concurrent()
                    ),
                ));
            };
            let handler = self.inner.loaded().await?;
            let (request, body_too_large) =
                body::cap_request(request, recipe.limits.max_request_body)?;
            let response = match &*handler {
                Handler::P2(handler) => handler.handle(request, slot, deadline, &report).await,
                Handler::P3(handler) => handler.handle(request, slot, deadline, &report).await,
            };
            if body_too_large.load(Ordering::Relaxed) {
                // The guest saw a truncated body: whatever it answered, the client sent too much.
                return Err(body::too_large(recipe.limits.max_request_body));
            }
            response
        }
        .await;
        if let Err(failure) = &result {
            if !failure.reported {
                report.failure(failure);
            }
        }
        result
    }
}

impl Inner {
    /// The loaded handler, loading it again from the compile cache if it was unloaded.
    async fn loaded(self: &Arc<Self>) -> Result<Arc<Handler>, Failure> {
        let now = self.recipe.runtime.residency().now();
        // Written only when it changes: requests on other threads keep reading a shared line.
        if self.last_used.load(Ordering::Relaxed) != now {
            self.last_used.store(now, Ordering::Relaxed);
        }
        if let Some(handler) = self.handler.load_full() {
            return Ok(handler);
        }
        let _loading = self.loading.lock().await;
        if let Some(handler) = self.handler.load_full() {
            return Ok(handler);
        }
        let inner = self.clone();
        let reloaded = tokio::task::spawn_blocking(move || inner.reload())
            .await
            .map_err(|e| Failure::new(FailureKind::LoadFailed, e))?
            .map_err(|e| Failure::new(FailureKind::LoadFailed, e))?;
        let handler = Arc::new(reloaded);
        self.recipe.metrics.record_reload();
        self.handler.store(Some(handler.clone()));
        let weak = Arc::downgrade(self);
        self.recipe
            .runtime
            .residency()
            .admit(weak as Weak<dyn Resident>);
        Ok(handler)
    }

    /// Links the component again from its compile cache entry; if that is gone, compiles its
    /// source again, provided the source is still what was loaded at start.
    fn reload(&self) -> Result<Handler, LoadError> {
        let (runtime, id) = (&self.recipe.runtime, &*self.recipe.id);
        let relinked = match &self.cached {
            Some(cached) => crate::loader::relink(runtime, id, cached),
            None => Err(LoadError::NotCached { id: id.to_string() }),
        };
        let pre = match relinked {
            Ok(pre) => pre,
            Err(e) => {
                tracing::warn!(component_id = %id, "{e}; compiling it again");
                let linked = crate::loader::pre_link(runtime, id, &self.source)?;
                if linked.cached != self.cached {
                    return Err(LoadError::Changed {
                        id: id.to_string(),
                        path: self.source.clone(),
                    });
                }
                linked.pre
            }
        };
        Handler::new(&self.recipe, pre)
    }
}

impl Resident for Inner {
    fn last_used(&self) -> u64 {
        self.last_used.load(Ordering::Relaxed)
    }

    fn unload(&self) -> Option<Box<dyn Send>> {
        let handler = self.handler.swap(None)?;
        Some(Box::new(handler))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http_body_util::Empty;

    use super::*;
    use crate::RuntimeOptions;

    fn get(path: &str) -> hyper::Request<Empty<Bytes>> {
        hyper::Request::get(format!("http://localhost{path}"))
            .body(Empty::new())
            .expect("a valid request")
    }

    #[tokio::test]
    async fn a_request_past_a_full_instance_pool_is_refused_as_busy() {
        let runtime = Runtime::new(&RuntimeOptions {
            cache_dir: None,
            max_instances: 1,
            ..RuntimeOptions::default()
        })
        .expect("a runtime");
        let limits = ComponentLimits::resolve(kiln_manifest::Limits {
            max_concurrent: Some(2),
            ..kiln_manifest::Limits::default()
        });
        let component = HttpComponent::load(
            &runtime,
            "faults",
            kiln_test_guests::HTTP_FAULTS.as_ref(),
            Grants::default(),
            limits,
        )
        .expect("the guest loads");
        let route: Arc<str> = "/...".into();
        let sleeper = {
            let (component, route) = (component.clone(), route.clone());
            tokio::spawn(async move { component.handle(get("/sleep?ms=2000"), &route).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let refused = component
            .handle(get("/ok"), &route)
            .await
            .expect_err("the pool holds one instance");
        assert_eq!(refused.kind, FailureKind::Busy, "{:?}", refused.error);
        assert_eq!(refused.kind.status(), 503);
        sleeper.abort();
    }
}
