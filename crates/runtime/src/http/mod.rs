//! HTTP components, pre-linked once, and the call that serves one request. Both generations of
//! `wasi:http` are served: a 0.2 `incoming-handler` gets a fresh instance per request
//! ([`p2`]); a 0.3 `handler` (async, as Spin SDK 7 builds them) runs on instances that may take
//! several requests at once and be reused, as `wasmtime serve` runs them ([`p3`]).

mod p2;
mod p3;

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::grants::Grants;
use crate::store::{wasi_builder, StoreState};
use crate::{LoadError, Runtime};

/// A response produced by a guest; its body streams from the still-running instance.
pub type HttpResponse = hyper::Response<HyperOutgoingBody>;

/// An HTTP component ready to serve: compiled, linked and type-checked at load. Cheap to clone.
#[derive(Clone)]
pub struct HttpComponent {
    inner: Arc<Inner>,
}

struct Inner {
    id: Arc<str>,
    handler: Handler,
}

enum Handler {
    P2(p2::P2Handler),
    P3(p3::P3Handler),
}

/// What every instance of one component is made from.
#[derive(Clone)]
pub(crate) struct InstanceRecipe {
    pub(crate) id: Arc<str>,
    pub(crate) runtime: Runtime,
    pub(crate) grants: Arc<Grants>,
}

impl InstanceRecipe {
    pub(crate) fn new(runtime: &Runtime, id: &str, grants: Grants) -> Self {
        Self {
            id: id.into(),
            runtime: runtime.clone(),
            grants: Arc::new(grants),
        }
    }

    /// A new store for one instance, with the component's grants.
    pub(crate) fn new_store(&self) -> anyhow::Result<wasmtime::Store<StoreState>> {
        let wasi = wasi_builder(&self.grants)?.build();
        Ok(StoreState::new(&self.id, &self.grants, wasi).into_store(self.runtime.engine()))
    }
}

impl HttpComponent {
    /// Reads, compiles (or takes from the cache) and pre-links the component at `path`; fails
    /// if it imports what kiln lacks or exports no HTTP handler.
    pub fn load(
        runtime: &Runtime,
        id: &str,
        path: &Path,
        grants: Grants,
    ) -> Result<Self, LoadError> {
        let instance_pre = crate::loader::pre_link(runtime, id, path)?;
        let recipe = InstanceRecipe::new(runtime, id, grants);
        let handler = match wasmtime_wasi_http::p3::bindings::ServicePre::new(instance_pre.clone())
        {
            Ok(pre) => Handler::P3(p3::P3Handler::new(recipe, pre)),
            Err(_) => match wasmtime_wasi_http::p2::bindings::ProxyPre::new(instance_pre) {
                Ok(pre) => Handler::P2(p2::P2Handler::new(recipe, pre)),
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
            inner: Arc::new(Inner {
                id: id.into(),
                handler,
            }),
        })
    }

    /// The component id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// Serves `request`. The request URI must carry scheme and authority.
    /// An `Err` means the guest trapped or produced no response.
    pub async fn handle<B>(&self, request: hyper::Request<B>) -> anyhow::Result<HttpResponse>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        match &self.inner.handler {
            Handler::P2(handler) => handler.handle(request).await,
            Handler::P3(handler) => {
                let request = request.map(|body| body.map_err(Into::into).boxed_unsync());
                handler.handle(request).await
            }
        }
    }
}
