//! HTTP components: a [`Component`] called through its `wasi:http` export, and the call that
//! serves one request. Both generations of `wasi:http` are served: a 0.2 `incoming-handler`
//! gets a fresh instance per request ([`p2`]); a 0.3 `handler` (async, as Spin SDK 7 builds
//! them) runs on instances that may take several requests at once and be reused, as
//! `wasmtime serve` runs them ([`p3`]).

mod body;
mod p2;
mod p3;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::BodyExt;
use wasmtime::component::InstancePre;

use crate::code::CodeTier;
use crate::component::{Component, Export};
use crate::fault::Failure;
use crate::grants::Grants;
use crate::instance::{InstanceRecipe, Report};
use crate::limits::ComponentLimits;
use crate::loader::Source;
use crate::store::{ComponentCapabilities, StoreState};
use crate::traces::EventTrace;
use crate::{LoadError, Runtime};

/// A response produced by a guest; its body streams from the still-running instance.
pub type HttpResponse = hyper::Response<wasmtime_wasi_http::WasiBody>;

/// An HTTP component ready to serve: compiled, linked and type-checked at load. Cheap to clone.
pub type HttpComponent = Component<HttpExport>;

/// A component's `wasi:http` export: 0.3 if it has it, else 0.2.
pub struct HttpExport(Handler);

enum Handler {
    P2(p2::P2Handler),
    P3(p3::P3Handler),
}

impl Export for HttpExport {
    const TRIGGER: &'static str = "http";

    fn new(recipe: &InstanceRecipe, pre: InstancePre<StoreState>) -> Result<Self, LoadError> {
        if let Ok(pre) = wasmtime_wasi_http::p3::bindings::ServicePre::new(pre.clone()) {
            return Ok(Self(Handler::P3(p3::P3Handler::new(recipe.clone(), pre))));
        }
        match wasmtime_wasi_http::p2::bindings::ProxyPre::new(pre) {
            Ok(pre) => Ok(Self(Handler::P2(p2::P2Handler::new(recipe.clone(), pre)))),
            Err(_) => Err(recipe.missing_export(
                "wasi:http/incoming-handler@0.2 or wasi:http/handler@0.3",
                "an HTTP component (a wasi:http/proxy or wasi:http/service world)",
            )),
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
        let source = Source {
            path: path.to_path_buf(),
            digest: None,
            dependencies: Vec::new(),
        };
        let linked = crate::loader::pre_link(runtime, id, &source, CodeTier::Baseline)?;
        let recipe = InstanceRecipe::new(runtime, id, Arc::new(capabilities), limits);
        Self::new(recipe, linked)
    }

    /// Serves `request`, which arrived through `route` (named in logs; shared, so a request
    /// costs no copy of it). The request URI must carry scheme and authority. Never fails: a
    /// failure is logged, counted and answered with its status here (503, 413, 504 or 500),
    /// and every request is counted with the status it got.
    pub async fn handle<B>(&self, request: hyper::Request<B>, route: &Arc<str>) -> HttpResponse
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let started = Instant::now();
        let recipe = &self.inner.recipe;
        let report = recipe.report("request", route);
        let trace = EventTrace::http(&request, &recipe.id, route);
        let response = match self.serve(request, &report, trace.as_ref()).await {
            Ok(response) => {
                self.inner.events.record_ok();
                response
            }
            Err(failure) => {
                report.failure(&failure);
                self.inner.events.record_failure(failure.kind);
                plain_response(failure.kind.status())
            }
        };
        let status = response.status().as_u16();
        recipe.metrics.record_request(status, started.elapsed());
        if let Some(trace) = trace {
            trace.status(status);
        }
        response
    }

    /// Runs `request` under the component's limits; a failure before the response head is
    /// returned, one while the body streams is reported by the body.
    async fn serve<B>(
        &self,
        request: hyper::Request<B>,
        report: &Report,
        trace: Option<&EventTrace>,
    ) -> Result<HttpResponse, Failure>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let recipe = &self.inner.recipe;
        let deadline = recipe.limits.deadline();
        let slot = recipe.acquire_slot().await?;
        let handler = self.inner.loaded().await?;
        let (request, body_too_large) = body::cap_request(request, recipe.limits.max_request_body)?;
        let response = match &handler.0 {
            Handler::P2(handler) => {
                let trace = trace.map(EventTrace::for_instance);
                handler.handle(request, slot, deadline, report, trace).await
            }
            Handler::P3(handler) => handler.handle(request, slot, deadline, report).await,
        };
        if body_too_large.load(Ordering::Relaxed) {
            // The guest saw a truncated body: whatever it answered, the client sent too much.
            return Err(body::too_large(recipe.limits.max_request_body));
        }
        response
    }
}

/// A short plain-text response made by kiln itself: `status` and its reason (`Not Found`).
pub fn plain_response(status: u16) -> HttpResponse {
    let status =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("Error");
    text_response(status, format!("{reason}\n"))
}

/// A plain-text response made by kiln itself, with `status` and `text`.
pub fn text_response(status: http::StatusCode, text: String) -> HttpResponse {
    let body = Bytes::from(text);
    let mut response = hyper::Response::new(
        http_body_util::Full::new(body)
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http_body_util::Empty;

    use super::*;
    use crate::fault::FailureKind;
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
        let report = component.inner.recipe.report("request", &route);
        let refused = component
            .serve(get("/ok"), &report, None)
            .await
            .expect_err("the pool holds one instance");
        assert_eq!(refused.kind, FailureKind::Busy, "{:?}", refused.error);
        assert_eq!(refused.kind.status(), 503);
        sleeper.abort();
    }
}
