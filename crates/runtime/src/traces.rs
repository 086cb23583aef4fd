//! OpenTelemetry traces: a span per HTTP request or trigger event (component, route or source,
//! status or outcome), with child spans `instantiate` and `handle` for the instance that ran
//! it. An HTTP request's span is the child of the W3C `traceparent` it arrived with, and each
//! outbound HTTP request of the guest has a client span whose `traceparent` it carries on, so
//! that a chain of services is one trace.
//!
//! Off until [`enable`] (kiln turns it on when an OTLP endpoint is configured): until then a
//! request pays one atomic load, and instances carry nothing.

use std::sync::OnceLock;
use std::time::SystemTime;

use opentelemetry::global::BoxedTracer;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};

use crate::fault::FailureKind;

static TRACER: OnceLock<BoxedTracer> = OnceLock::new();

/// Turns traces on, with the global tracer provider and text map propagator, which must be
/// set first.
pub fn enable() {
    let _ = TRACER.set(opentelemetry::global::tracer("kiln"));
}

fn tracer() -> Option<&'static BoxedTracer> {
    TRACER.get()
}

/// The span of one request, event or outbound request, while it runs; ended when dropped.
pub(crate) struct EventTrace {
    cx: Context,
}

impl EventTrace {
    /// A server span for an HTTP `request` to `component` through `route`, the child of the
    /// request's `traceparent`; `None` when traces are off.
    pub(crate) fn http<B>(
        request: &hyper::Request<B>,
        component: &str,
        route: &str,
    ) -> Option<Self> {
        let tracer = tracer()?;
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(request.headers()))
        });
        let method = request.method().as_str().to_string();
        let span = tracer
            .span_builder(format!("{method} {route}"))
            .with_kind(SpanKind::Server)
            .with_attributes([
                KeyValue::new("http.request.method", method),
                KeyValue::new("http.route", route.to_string()),
                KeyValue::new("url.path", request.uri().path().to_string()),
                KeyValue::new("kiln.component", component.to_string()),
            ])
            .start_with_context(tracer, &parent);
        Some(Self {
            cx: parent.with_span(span),
        })
    }

    /// A span for the `work` ("NATS message") that `trigger` brought `component` from `source`
    /// (a subject, a schedule); `None` when traces are off.
    pub(crate) fn event(
        trigger: &'static str,
        work: &'static str,
        component: &str,
        source: &str,
    ) -> Option<Self> {
        let tracer = tracer()?;
        let span = tracer
            .span_builder(format!("{work} {source}"))
            .with_kind(SpanKind::Consumer)
            .with_attributes([
                KeyValue::new("kiln.trigger", trigger),
                KeyValue::new("kiln.source", source.to_string()),
                KeyValue::new("kiln.component", component.to_string()),
            ])
            .start_with_context(tracer, &Context::new());
        Some(Self {
            cx: Context::new().with_span(span),
        })
    }

    /// What an instance made for this request keeps of it.
    pub(crate) fn for_instance(&self) -> InstanceTrace {
        InstanceTrace {
            cx: self.cx.clone(),
            created: SystemTime::now(),
            instantiated: None,
        }
    }

    /// Records the response's `status` (an error from 500 on).
    pub(crate) fn status(&self, status: u16) {
        let span = self.cx.span();
        span.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
        if status >= 500 {
            span.set_status(Status::error(format!("status {status}")));
        }
    }

    /// Records that the request failed, and why.
    pub(crate) fn failed(&self, reason: &str) {
        self.cx.span().set_status(Status::error(reason.to_string()));
    }

    /// Records how the event ended.
    pub(crate) fn outcome(&self, failure: Option<FailureKind>) {
        let span = self.cx.span();
        let outcome = failure.map_or("ok", FailureKind::as_str);
        span.set_attribute(KeyValue::new("kiln.outcome", outcome));
        if let Some(kind) = failure {
            span.set_status(Status::error(kind.as_str()));
        }
    }
}

impl Drop for EventTrace {
    fn drop(&mut self) {
        self.cx.span().end();
    }
}

/// An instance's part of its request's trace: the phases it records, and the context its
/// outbound requests carry.
#[derive(Clone)]
pub(crate) struct InstanceTrace {
    cx: Context,
    created: SystemTime,
    instantiated: Option<SystemTime>,
}

impl InstanceTrace {
    /// Records the `instantiate` span: from the instance's creation until now.
    pub(crate) fn instantiated(&mut self) {
        let now = SystemTime::now();
        self.phase("instantiate", self.created, now);
        self.instantiated = Some(now);
    }

    /// Records the `handle` span: from the end of instantiation until now.
    pub(crate) fn handled(&mut self) {
        if let Some(start) = self.instantiated.take() {
            self.phase("handle", start, SystemTime::now());
        }
    }

    fn phase(&self, name: &'static str, start: SystemTime, end: SystemTime) {
        if let Some(tracer) = tracer() {
            use opentelemetry::trace::Span as _;
            let mut span = tracer
                .span_builder(name)
                .with_start_time(start)
                .start_with_context(tracer, &self.cx);
            span.end_with_timestamp(end);
        }
    }

    /// A client span for the guest's outbound `request`, whose `traceparent` it sets.
    pub(crate) fn outbound<B>(&self, request: &mut http::Request<B>) -> Option<EventTrace> {
        let tracer = tracer()?;
        let method = request.method().as_str().to_string();
        let span = tracer
            .span_builder(method.clone())
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new("http.request.method", method),
                KeyValue::new("url.full", request.uri().to_string()),
            ])
            .start_with_context(tracer, &self.cx);
        let cx = self.cx.with_span(span);
        opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&cx, &mut HeaderInjector(request.headers_mut()));
        });
        Some(EventTrace { cx })
    }
}
