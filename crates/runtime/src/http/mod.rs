//! HTTP components, pre-linked once, and the call that serves one request. Both generations of
//! `wasi:http` are served: a 0.2 `incoming-handler` gets a fresh instance per request
//! ([`p2`]); a 0.3 `handler` (async, as Spin SDK 7 builds them) runs on instances that may take
//! several requests at once and be reused, as `wasmtime serve` runs them ([`p3`]).

mod body;
mod p2;
mod p3;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use crate::fault::{Failure, FailureKind};
use crate::grants::Grants;
use crate::instance::{InstanceRecipe, Report};
use crate::limits::ComponentLimits;
use crate::metrics::ComponentMetrics;
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
    handler: Handler,
}

enum Handler {
    P2(p2::P2Handler),
    P3(p3::P3Handler),
}

impl HttpComponent {
    /// Reads, compiles (or takes from the cache) and pre-links the component at `path`; fails
    /// if it imports what kiln lacks or exports no HTTP handler. Its instances run with
    /// `grants`, held to `limits`.
    pub fn load(
        runtime: &Runtime,
        id: &str,
        path: &Path,
        grants: Grants,
        limits: ComponentLimits,
    ) -> Result<Self, LoadError> {
        let instance_pre = crate::loader::pre_link(runtime, id, path)?;
        let recipe = InstanceRecipe::new(runtime, id, grants, limits);
        let handler = match wasmtime_wasi_http::p3::bindings::ServicePre::new(instance_pre.clone())
        {
            Ok(pre) => Handler::P3(p3::P3Handler::new(recipe.clone(), pre)),
            Err(_) => match wasmtime_wasi_http::p2::bindings::ProxyPre::new(instance_pre) {
                Ok(pre) => Handler::P2(p2::P2Handler::new(recipe.clone(), pre)),
                Err(_) => {
                    return Err(LoadError::MissingExport {
                        id: id.to_string(),
                        export: "wasi:http/incoming-handler@0.2 or wasi:http/handler@0.3",
                        what: "an HTTP component (a wasi:http/proxy or wasi:http/service world)",
                    })
                }
            },
        };
        Ok(Self {
            inner: Arc::new(Inner { recipe, handler }),
        })
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

    /// Serves `request`, which arrived through `route` (named in logs). The request URI must
    /// carry scheme and authority. Every failure is logged and counted here; its kind tells
    /// the status to answer with.
    pub async fn handle<B>(
        &self,
        request: hyper::Request<B>,
        route: &str,
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
            let (request, body_too_large) =
                body::cap_request(request, recipe.limits.max_request_body)?;
            let response = match &self.inner.handler {
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
