//! `wasi:http/handler@0.3`: requests go to wasmtime's `ProxyHandler`, which runs each instance
//! as a worker that may take several requests at once and be reused for later ones. An
//! instance is dropped after [`MAX_REUSE`] requests or [`IDLE_TIMEOUT`] without work.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use wasmtime::component::GuestTaskId;
use wasmtime::{Store, StoreContextMut};
use wasmtime_wasi_http::handler::{
    self, HandlerState, ProxyHandler, ShouldAccept, WorkerExpiration, WorkerState, WorkerStatus,
};
use wasmtime_wasi_http::p3::bindings::ServicePre;
use wasmtime_wasi_http::WasiHttpView;

use super::{HttpResponse, InstanceRecipe};
use crate::store::StoreState;

/// Requests one instance serves before it is replaced.
const MAX_REUSE: usize = 128;
/// Requests one instance serves at the same time.
const MAX_CONCURRENT: usize = 16;
/// How long an instance with nothing to do is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(1);

pub(super) struct P3Handler {
    handler: ProxyHandler<Instances>,
}

impl P3Handler {
    pub(super) fn new(recipe: InstanceRecipe, pre: ServicePre<StoreState>) -> Self {
        Self {
            handler: ProxyHandler::new(Instances {
                recipe,
                pre: handler::ProxyPre::P3(pre),
            }),
        }
    }

    pub(super) async fn handle(&self, request: handler::Request) -> anyhow::Result<HttpResponse> {
        self.handler
            .handle((), request)
            .await
            .map_err(anyhow::Error::from)
            .context("the guest failed to answer")
    }
}

/// Makes instances for the handler's workers.
struct Instances {
    recipe: InstanceRecipe,
    pre: handler::ProxyPre<StoreState>,
}

impl HandlerState for Instances {
    type StoreData = StoreState;
    type WorkerExpiration = Expiration;
    type WorkerState = Worker;

    async fn instantiate(
        &self,
    ) -> wasmtime::Result<handler::Instance<StoreState, Expiration, Worker>> {
        let mut store = self
            .recipe
            .new_store()
            .map_err(wasmtime::Error::from_anyhow)?;
        let proxy = self.pre.instantiate_async(&mut store).await?;
        Ok(handler::Instance {
            store,
            proxy,
            view: WasiHttpView::http,
            expiration: Expiration {
                sleep: Box::pin(tokio::time::sleep(Duration::MAX)),
            },
            state: Worker {
                component_id: self.recipe.id.clone(),
            },
        })
    }
}

/// How many requests a worker takes, and what happens when it ends.
struct Worker {
    component_id: std::sync::Arc<str>,
}

impl WorkerState for Worker {
    type StoreData = StoreState;
    type RequestData = ();

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= MAX_REUSE {
            ShouldAccept::Never
        } else if concurrent >= MAX_CONCURRENT {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        _store: StoreContextMut<'_, StoreState>,
        _data: (),
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync>> {
        // No per-request deadline yet: the request runs until it answers.
        Box::pin(std::future::pending())
    }

    fn drop(&self, store: Store<StoreState>, result: wasmtime::Result<()>) {
        if let Err(e) = result {
            tracing::error!(component_id = %self.component_id, "instance ended with an error: {e:?}");
        }
        drop(store);
    }
}

/// Ends an instance that has been idle for [`IDLE_TIMEOUT`].
struct Expiration {
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl WorkerExpiration for Expiration {
    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        if status != WorkerStatus::Idle {
            return Poll::Pending;
        }
        let me = self.get_mut();
        let deadline = tokio::time::Instant::from_std(start + IDLE_TIMEOUT);
        if me.sleep.deadline() != deadline {
            me.sleep.as_mut().reset(deadline);
        }
        me.sleep.as_mut().poll(cx)
    }
}
