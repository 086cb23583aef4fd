//! The bodies between a client and a guest, held to the component's limits: a request body
//! capped at `max_request_body`, and a response body ([`GuardedBody`]) capped at
//! `max_response_body` that ends cleanly only when the guest's instance did.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::sync::{oneshot, OwnedSemaphorePermit};
use tokio::task::AbortHandle;
use wasmtime_wasi_http::{Error, WasiBody};

use super::Report;
use crate::fault::{Failure, FailureKind};

/// `request` with its body capped at `limit` bytes, and the flag that says the guest read past
/// it. A declared `Content-Length` over the limit is refused before any guest runs.
pub(super) fn cap_request<B>(
    request: hyper::Request<B>,
    limit: u64,
) -> Result<(hyper::Request<WasiBody>, Arc<AtomicBool>), Failure>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Error>,
{
    if declared_length(request.headers()).is_some_and(|length| length > limit) {
        return Err(too_large(limit));
    }
    let exceeded = Arc::new(AtomicBool::new(false));
    let flag = exceeded.clone();
    let request = request.map(|body| {
        RequestCap {
            inner: body.map_err(Into::into).boxed_unsync(),
            remaining: limit,
            limit,
            exceeded: flag,
        }
        .boxed_unsync()
    });
    Ok((request, exceeded))
}

/// The `Content-Length` that `headers` declare.
pub(super) fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// The failure for a request body over `limit` bytes.
pub(super) fn too_large(limit: u64) -> Failure {
    Failure::msg(
        FailureKind::RequestTooLarge,
        format_args!(
            "the request body is over the component's limit of {limit} bytes (max_request_body)"
        ),
    )
}

struct RequestCap {
    inner: WasiBody,
    remaining: u64,
    limit: u64,
    exceeded: Arc<AtomicBool>,
}

impl Body for RequestCap {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(Frame::data_ref)) {
            let len = data.map_or(0, |d| d.len() as u64);
            if len > self.remaining {
                self.exceeded.store(true, Ordering::Relaxed);
                return Poll::Ready(Some(Err(Error::HttpRequestBodySize(Some(self.limit)))));
            }
            self.remaining -= len;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The instance that writes a response body: how it ended, once it has, and how to stop it.
pub(super) struct InstanceWatch {
    pub(super) outcome: oneshot::Receiver<Result<(), Failure>>,
    pub(super) abort: AbortHandle,
}

enum Writer {
    /// An instance of its own (0.2) that may still be running.
    Running(InstanceWatch),
    /// A shared instance (0.3), or one that ended well: the body alone tells.
    Done,
}

/// A guest's response body on its way to the client. It fails, instead of ending as if
/// complete, when the guest's instance trapped or timed out, and it stops the instance when
/// the body grows past `max_response_body`.
pub(super) struct GuardedBody {
    inner: WasiBody,
    remaining: u64,
    limit: u64,
    writer: Writer,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    report: Report,
    /// The component slot this request holds until its body is sent (0.3).
    _slot: Option<OwnedSemaphorePermit>,
}

impl GuardedBody {
    /// Guards the body of a 0.2 instance's response, reporting how the instance ended if it
    /// failed.
    pub(super) fn for_instance(
        response: http::Response<WasiBody>,
        limit: u64,
        watch: InstanceWatch,
        report: Report,
    ) -> http::Response<WasiBody> {
        Self::wrap(response, limit, Writer::Running(watch), None, None, report)
    }

    /// Guards the body of a response from a shared 0.3 instance, which must end by `deadline`.
    pub(super) fn for_shared(
        response: http::Response<WasiBody>,
        limit: u64,
        deadline: tokio::time::Instant,
        slot: OwnedSemaphorePermit,
        report: Report,
    ) -> http::Response<WasiBody> {
        let deadline = Some(Box::pin(tokio::time::sleep_until(deadline)));
        Self::wrap(response, limit, Writer::Done, deadline, Some(slot), report)
    }

    fn wrap(
        response: http::Response<WasiBody>,
        limit: u64,
        writer: Writer,
        deadline: Option<Pin<Box<tokio::time::Sleep>>>,
        slot: Option<OwnedSemaphorePermit>,
        report: Report,
    ) -> http::Response<WasiBody> {
        response.map(|inner| {
            GuardedBody {
                inner,
                remaining: limit,
                limit,
                writer,
                deadline,
                report,
                _slot: slot,
            }
            .boxed_unsync()
        })
    }

    /// Ends the body with an error after a failure this body found itself.
    fn fail(
        &mut self,
        failure: Failure,
        error: Error,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        if let Writer::Running(watch) = &self.writer {
            watch.abort.abort();
        }
        self.writer = Writer::Done;
        self.report.failure(&failure);
        Poll::Ready(Some(Err(error)))
    }

    /// How the instance ended, if it has; `Pending` while it runs.
    fn poll_writer(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let Writer::Running(watch) = &mut self.writer else {
            return Poll::Ready(Ok(()));
        };
        let outcome = ready!(Pin::new(&mut watch.outcome).poll(cx));
        self.writer = Writer::Done;
        Poll::Ready(match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(failure)) => {
                self.report.failure(&failure);
                Err(body_error(failure.kind))
            }
            Err(_) => Err(Error::InternalError(Some(
                "the instance was stopped".into(),
            ))),
        })
    }
}

/// What the client's connection sees when a body is cut short by a failure of `kind`.
fn body_error(kind: FailureKind) -> Error {
    match kind {
        FailureKind::Timeout => Error::HttpResponseTimeout,
        other => Error::InternalError(Some(format!("the guest failed: {other}"))),
    }
}

impl Body for GuardedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        if let Some(deadline) = &mut this.deadline {
            if deadline.as_mut().poll(cx).is_ready() {
                this.deadline = None;
                let failure = Failure::msg(
                    FailureKind::Timeout,
                    "the response body was not finished within the component's timeout",
                );
                return this.fail(failure, Error::HttpResponseTimeout);
            }
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, |d| d.len() as u64);
                if len > this.remaining {
                    let limit = this.limit;
                    let failure = Failure::msg(
                        FailureKind::ResponseTooLarge,
                        format_args!("the response body is over the component's limit of {limit} bytes (max_response_body); the instance was stopped"),
                    );
                    return this.fail(failure, Error::HttpResponseBodySize(Some(limit)));
                }
                this.remaining -= len;
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            // The body ended: it is complete only if its instance ended well (or lives on).
            Poll::Ready(None) => match ready!(this.poll_writer(cx)) {
                Ok(()) => Poll::Ready(None),
                Err(e) => Poll::Ready(Some(Err(e))),
            },
            Poll::Pending => match this.poll_writer(cx) {
                Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
                _ => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.writer, Writer::Done) && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
