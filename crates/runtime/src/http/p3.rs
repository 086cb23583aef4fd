//! `wasi:http/handler@0.3`: requests go to wasmtime's `ProxyHandler`, which runs each instance
//! as a worker that may take several requests at once and be reused for later ones. An
//! instance is dropped after [`MAX_REUSE`] requests, [`IDLE_TIMEOUT`] without work, or when
//! its requests run past the component's timeout.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;
use wasmtime::component::GuestTaskId;
use wasmtime::{Store, StoreContextMut};
use wasmtime_wasi_http::handler::{
    self, HandlerState, ProxyHandler, ShouldAccept, WorkerExpiration, WorkerState, WorkerStatus,
};
use wasmtime_wasi_http::p3::bindings::ServicePre;
use wasmtime_wasi_http::WasiHttpView;

use super::body::{declared_length, GuardedBody};
use super::{HttpResponse, InstanceRecipe, Report};
use crate::fault::{Failure, FailureKind};
use crate::store::StoreState;

/// Requests one instance serves before it is replaced.
const MAX_REUSE: usize = 128;
/// Requests one instance serves at the same time.
const MAX_CONCURRENT: usize = 16;
/// How long an instance with nothing to do is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(1);

pub(super) struct P3Handler {
    handler: ProxyHandler<Instances>,
    recipe: InstanceRecipe,
}

impl P3Handler {
    pub(super) fn new(recipe: InstanceRecipe, pre: ServicePre<StoreState>) -> Self {
        Self {
            handler: ProxyHandler::new(Instances {
                recipe: recipe.clone(),
                engine: pre.engine().clone(),
                pre: handler::ProxyPre::P3(pre),
            }),
            recipe,
        }
    }

    /// Hands `request` to a worker; `slot` is held until the response body is sent, which
    /// must happen by `deadline`.
    pub(super) async fn handle(
        &self,
        request: handler::Request,
        slot: OwnedSemaphorePermit,
        deadline: tokio::time::Instant,
        report: &Report,
    ) -> Result<HttpResponse, Failure> {
        let timeout = self.recipe.limits.timeout;
        let response =
            match tokio::time::timeout_at(deadline, self.handler.handle((), request)).await {
                Ok(Ok(response)) => response,
                Ok(Err(e)) if e.downcast_ref::<handler::ExpirationError>().is_some() => {
                    return Err(timed_out(timeout))
                }
                Ok(Err(e)) => return Err(Failure::from_guest(e)),
                Err(_) => return Err(timed_out(timeout)),
            };
        let limit = self.recipe.limits.max_response_body;
        if declared_length(response.headers()).is_some_and(|length| length > limit) {
            return Err(Failure::msg(
                FailureKind::ResponseTooLarge,
                format_args!("the guest declared a response body of more than the component's limit of {limit} bytes (max_response_body)"),
            ));
        }
        Ok(GuardedBody::for_shared(
            response,
            limit,
            deadline,
            slot,
            report.clone(),
        ))
    }
}

fn timed_out(timeout: Duration) -> Failure {
    Failure::msg(
        FailureKind::Timeout,
        format_args!("the guest did not answer within its timeout of {timeout:?}"),
    )
}

/// Makes instances for the handler's workers.
struct Instances {
    recipe: InstanceRecipe,
    /// The engine that compiled `pre`.
    engine: wasmtime::Engine,
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
            .new_store_with(&self.engine, |_| {})
            .map_err(wasmtime::Error::from_anyhow)?;
        let proxy = self.pre.instantiate_async(&mut store).await?;
        Ok(handler::Instance {
            store,
            proxy,
            view: WasiHttpView::http,
            expiration: Expiration {
                sleep: Box::pin(tokio::time::sleep(Duration::from_secs(3600))),
                timeout: self.recipe.limits.timeout,
            },
            state: Worker {
                component_id: self.recipe.id.clone(),
                timeout: self.recipe.limits.timeout,
            },
        })
    }
}

/// How many requests a worker takes, and what happens when it ends.
struct Worker {
    component_id: std::sync::Arc<str>,
    timeout: Duration,
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
        // A request that has not answered by then expires; the worker takes no more.
        Box::pin(tokio::time::sleep(self.timeout))
    }

    fn drop(&self, store: Store<StoreState>, result: wasmtime::Result<()>) {
        if let Err(e) = result {
            tracing::error!(component_id = %self.component_id, "instance ended with an error: {e:?}");
        }
        drop(store);
    }
}

/// Ends an instance that has been idle for [`IDLE_TIMEOUT`], or whose newest request has run
/// past the component's timeout (so all of them have).
struct Expiration {
    sleep: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
}

impl WorkerExpiration for Expiration {
    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        let after = match status {
            WorkerStatus::Idle => IDLE_TIMEOUT,
            WorkerStatus::Requests | WorkerStatus::PostReturn => self.timeout,
        };
        let me = self.get_mut();
        let deadline = tokio::time::Instant::from_std(start)
            .checked_add(after)
            .unwrap_or_else(|| me.sleep.deadline());
        if me.sleep.deadline() != deadline {
            me.sleep.as_mut().reset(deadline);
        }
        me.sleep.as_mut().poll(cx)
    }
}
