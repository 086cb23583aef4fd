//! `wasi:http/incoming-handler@0.2`: a fresh instance for every request.

use anyhow::Context as _;
use bytes::Bytes;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::WasiHttpView;

use super::{HttpResponse, InstanceRecipe};
use crate::store::StoreState;

pub(super) struct P2Handler {
    recipe: InstanceRecipe,
    pre: ProxyPre<StoreState>,
}

impl P2Handler {
    pub(super) fn new(recipe: InstanceRecipe, pre: ProxyPre<StoreState>) -> Self {
        Self { recipe, pre }
    }

    pub(super) async fn handle<B>(&self, request: hyper::Request<B>) -> anyhow::Result<HttpResponse>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let mut store = self.recipe.new_store()?;
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let request = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)?;
        let outparam = store.data_mut().http().new_response_outparam(sender)?;
        let pre = self.pre.clone();
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
