//! A `wasi:http/proxy` component, pre-linked once, and the call that serves one request with a
//! fresh instance.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use wasmtime::component::Component;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::WasiHttpView;

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
    runtime: Runtime,
    pre: ProxyPre<StoreState>,
    grants: Arc<Grants>,
}

impl HttpComponent {
    /// Reads, compiles (or takes from the cache) and pre-links the component at `path`.
    pub fn load(
        runtime: &Runtime,
        id: &str,
        path: &Path,
        grants: Grants,
    ) -> Result<Self, LoadError> {
        let component = crate::loader::load_component(runtime, id, path)?;
        Self::new(runtime, id, &component, grants)
    }

    /// Pre-links `component`; fails if it imports what kiln lacks or exports no HTTP handler.
    fn new(
        runtime: &Runtime,
        id: &str,
        component: &Component,
        grants: Grants,
    ) -> Result<Self, LoadError> {
        let instance_pre =
            runtime
                .linker()
                .instantiate_pre(component)
                .map_err(|e| LoadError::MissingImport {
                    id: id.to_string(),
                    reason: e.into(),
                })?;
        let pre = ProxyPre::new(instance_pre).map_err(|_| LoadError::MissingExport {
            id: id.to_string(),
            export: "wasi:http/incoming-handler@0.2",
            what: "an HTTP component (a wasi:http/proxy world)",
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                id: id.into(),
                runtime: runtime.clone(),
                pre,
                grants: Arc::new(grants),
            }),
        })
    }

    /// The component id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// Serves `request` with a new instance. The request URI must carry scheme and authority.
    /// An `Err` means the guest trapped or produced no response.
    pub async fn handle<B>(&self, request: hyper::Request<B>) -> anyhow::Result<HttpResponse>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let inner = &self.inner;
        let wasi = wasi_builder(&inner.grants)?.build();
        let state = StoreState::new(&inner.id, &inner.grants, wasi);
        let mut store = state.into_store(inner.runtime.engine());
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let request = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)?;
        let outparam = store.data_mut().http().new_response_outparam(sender)?;
        let pre = inner.pre.clone();
        // The instance runs in its own task: it may keep writing the body after the head is sent.
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, request, outparam)
                .await
        });
        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(code)) => Err(anyhow::anyhow!(
                "the guest answered with an error: {code:?}"
            )),
            Err(_) => match task.await {
                Ok(Ok(())) => Err(anyhow::anyhow!(
                    "the guest returned without setting a response"
                )),
                Ok(Err(trap)) => Err(anyhow::Error::from(trap)).context("the guest trapped"),
                Err(join) => Err(anyhow::anyhow!("the guest task failed: {join}")),
            },
        }
    }
}
