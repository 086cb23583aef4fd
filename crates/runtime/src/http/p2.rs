//! `wasi:http/incoming-handler@0.2`: a fresh instance for every request, in a task of its own
//! that may go on writing the body after the response head is sent, and is stopped at the
//! request's deadline.

use tokio::sync::{oneshot, OwnedSemaphorePermit};
use tokio::time::Instant;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::{WasiBody, WasiHttpView};

use super::body::{declared_length, GuardedBody, InstanceWatch};
use super::{HttpResponse, InstanceRecipe, Report};
use crate::fault::{Failure, FailureKind};
use crate::store::StoreState;
use crate::traces::InstanceTrace;

pub(super) struct P2Handler {
    recipe: InstanceRecipe,
    pre: ProxyPre<StoreState>,
}

impl P2Handler {
    pub(super) fn new(recipe: InstanceRecipe, pre: ProxyPre<StoreState>) -> Self {
        Self { recipe, pre }
    }

    /// Runs `request` in a new instance that holds `slot` while it lives and stops at
    /// `deadline`.
    pub(super) async fn handle(
        &self,
        request: hyper::Request<WasiBody>,
        slot: OwnedSemaphorePermit,
        deadline: Instant,
        report: &Report,
        trace: Option<InstanceTrace>,
    ) -> Result<HttpResponse, Failure> {
        let guest_error = |e: wasmtime::Error| Failure::from_guest(e);
        let mut store = self
            .recipe
            .new_store_with(self.pre.engine(), |_| {})
            .map_err(|e| {
                Failure::new(FailureKind::GuestError, e.context("creating the instance"))
            })?;
        if let Some(trace) = trace {
            store.data_mut().join_trace(trace);
        }
        let (sender, receiver) = oneshot::channel();
        let request = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)
            .map_err(guest_error)?;
        let outparam = store
            .data_mut()
            .http()
            .new_response_outparam(sender)
            .map_err(guest_error)?;
        let pre = self.pre.clone();
        let (outcome_sender, outcome) = oneshot::channel();
        let instance_report = report.clone();
        let timeout = self.recipe.limits.timeout;
        let task = tokio::task::spawn(async move {
            let run = async {
                let proxy = pre.instantiate_async(&mut store).await?;
                store.data_mut().instantiated();
                let handled = proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, request, outparam)
                    .await;
                store.data_mut().handled();
                handled
            };
            // At the deadline the guest is dropped where it stands: it yields at every epoch tick.
            let result = match tokio::time::timeout_at(deadline, run).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(Failure::from_guest(e)),
                Err(_) => Err(Failure::timed_out(timeout)),
            };
            // The response body ends once it has the outcome. Yielding lets the connection's
            // task, woken by it, send the end of the response before the instance is torn
            // down, so the client does not wait for the teardown. A request that comes in
            // meanwhile waits for the slot this one still holds, as for any busy slot.
            let unreceived = outcome_sender.send(result);
            tokio::task::yield_now().await;
            // The instance's pool slots are free before its request slot is: the pool holds
            // no more instances than the component admits requests.
            drop(store);
            drop(slot);
            // The request or its response body reports the failure it receives; one that
            // nobody waits for any more (the client went away) is reported here.
            if let Err(Err(failure)) = unreceived {
                instance_report.failure(&failure);
            }
        });
        let watch = InstanceWatch {
            outcome,
            abort: task.abort_handle(),
        };
        let limit = self.recipe.limits.max_response_body;
        match receiver.await {
            Ok(Ok(response)) => {
                if declared_length(response.headers()).is_some_and(|length| length > limit) {
                    task.abort();
                    return Err(Failure::msg(
                        FailureKind::ResponseTooLarge,
                        format_args!("the guest declared a response body of more than the component's limit of {limit} bytes (max_response_body)"),
                    ));
                }
                Ok(GuardedBody::for_instance(
                    response,
                    limit,
                    watch,
                    report.clone(),
                ))
            }
            Ok(Err(code)) => Err(Failure::msg(
                FailureKind::GuestError,
                format_args!("the guest answered with an error: {code:?}"),
            )),
            Err(_) => match watch.outcome.await {
                Ok(Err(failure)) => Err(failure),
                Ok(Ok(())) => Err(Failure::msg(
                    FailureKind::GuestError,
                    "the guest returned without setting a response",
                )),
                Err(_) => Err(Failure::msg(
                    FailureKind::GuestError,
                    "the instance's task ended without an outcome",
                )),
            },
        }
    }
}
