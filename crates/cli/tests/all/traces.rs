//! OpenTelemetry traces over OTLP/HTTP, received by a receiver of the test's own that decodes
//! the protobuf export requests: a request's span continues the `traceparent` it came with,
//! records its component, route and status, has `instantiate` and `handle` children, and goes
//! on with the guest's outbound request, so that two components chained over HTTP are one
//! trace; a trigger event has its span too, and spans still waiting are sent when kiln exits.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use kiln_test_guests::{CLI_COMMAND, HTTP_ECHO, SPIN_SDK_V2};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use crate::util::{app_dir, kiln, path_str, Server};

/// An OTLP/HTTP receiver on a free local port: it keeps every span exported to it, with the
/// `service.name` of its resource.
struct Receiver {
    addr: SocketAddr,
    spans: Arc<Mutex<Vec<(String, Span)>>>,
}

impl Receiver {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let spans: Arc<Mutex<Vec<(String, Span)>>> = Arc::default();
        let kept = spans.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let kept = kept.clone();
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let kept = kept.clone();
                            async move {
                                assert_eq!(request.uri().path(), "/v1/traces");
                                let body = request.into_body().collect().await?.to_bytes();
                                let export = ExportTraceServiceRequest::decode(body)
                                    .expect("an OTLP export request");
                                for resource in export.resource_spans {
                                    let service = resource
                                        .resource
                                        .as_ref()
                                        .and_then(|r| {
                                            string_attribute(&r.attributes, "service.name")
                                        })
                                        .unwrap_or_default();
                                    for scope in resource.scope_spans {
                                        for span in scope.spans {
                                            kept.lock().unwrap().push((service.clone(), span));
                                        }
                                    }
                                }
                                let response = hyper::Response::builder()
                                    .header("content-type", "application/x-protobuf")
                                    .body(Full::new(Bytes::new()))
                                    .unwrap();
                                Ok::<_, hyper::Error>(response)
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, spans }
    }

    /// The environment that makes kiln export here, soon after each span ends.
    fn env(&self) -> [(&'static str, String); 2] {
        [
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://{}", self.addr),
            ),
            ("OTEL_BSP_SCHEDULE_DELAY", "50".to_string()),
        ]
    }

    /// Waits (up to 10 s) for a span named `name`.
    async fn span(&self, name: &str) -> Span {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some((_, span)) = self
                .spans
                .lock()
                .unwrap()
                .iter()
                .find(|(_, s)| s.name == name)
            {
                return span.clone();
            }
            let names: Vec<String> = self
                .spans
                .lock()
                .unwrap()
                .iter()
                .map(|(_, s)| s.name.clone())
                .collect();
            assert!(Instant::now() < deadline, "no span {name} among {names:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The spans whose parent is `parent`, by name.
    fn children(&self, parent: &Span) -> Vec<String> {
        let mut names: Vec<String> = self
            .spans
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, s)| s.parent_span_id == parent.span_id)
            .map(|(_, s)| s.name.clone())
            .collect();
        names.sort();
        names
    }

    fn services(&self) -> Vec<String> {
        self.spans
            .lock()
            .unwrap()
            .iter()
            .map(|(service, _)| service.clone())
            .collect()
    }
}

fn string_attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| match &a.value.as_ref()?.value {
            Some(Value::StringValue(s)) => Some(s.clone()),
            Some(Value::IntValue(i)) => Some(i.to_string()),
            _ => None,
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT_ID: &str = "b7ad6b7169203331";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_components_chained_over_http_are_one_trace() {
    let receiver = Receiver::start().await;
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "traced"
[[trigger.http]]
route = "/front/..."
component = "front"
[[trigger.http]]
route = "/back/..."
component = "back"
[component.front]
source = "{SPIN_SDK_V2}"
allowed_outbound_hosts = ["http://127.0.0.1:*"]
[component.back]
source = "{HTTP_ECHO}"
"#
    );
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let mut command = kiln();
    command.envs(receiver.env());
    let server = Server::start_with(command, &["up", "-f", path_str(dir.path())]);
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let back_url = format!("{}/back/x", server.url);
    let response = server
        .request(
            "GET",
            &format!("/front/outbound?url={back_url}"),
            &[("traceparent", &traceparent)],
            "",
        )
        .await;
    assert_eq!(
        response.status,
        200,
        "{}\n{}",
        response.body,
        server.stderr()
    );

    let front = receiver.span("GET /front/...").await;
    let outbound = receiver.span("GET").await;
    let back = receiver.span("GET /back/...").await;
    assert_eq!(hex(&front.trace_id), TRACE_ID);
    assert_eq!(
        hex(&front.parent_span_id),
        PARENT_ID,
        "the incoming traceparent is the parent"
    );
    assert_eq!(
        outbound.parent_span_id, front.span_id,
        "the guest's request is the front's child"
    );
    assert_eq!(
        hex(&back.trace_id),
        TRACE_ID,
        "the outbound request carried the trace on"
    );
    assert_eq!(back.parent_span_id, outbound.span_id);
    assert_eq!(
        string_attribute(&outbound.attributes, "url.full"),
        Some(back_url.clone())
    );
    assert_eq!(
        string_attribute(&outbound.attributes, "http.response.status_code").as_deref(),
        Some("200")
    );
    // The back component saw the traceparent it was called with.
    let sent = format!(
        "header: traceparent: 00-{TRACE_ID}-{}-01",
        hex(&outbound.span_id)
    );
    assert!(response.body.contains(&sent), "{}", response.body);

    assert_eq!(
        string_attribute(&front.attributes, "kiln.component").as_deref(),
        Some("front")
    );
    assert_eq!(
        string_attribute(&front.attributes, "http.route").as_deref(),
        Some("/front/...")
    );
    assert_eq!(
        string_attribute(&front.attributes, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(
        string_attribute(&back.attributes, "url.path").as_deref(),
        Some("/back/x")
    );
    // Each request's instance recorded its phases.
    let _ = receiver.span("handle").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.children(&back) != ["handle", "instantiate"] && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(receiver.children(&front), ["GET", "handle", "instantiate"]);
    assert_eq!(receiver.children(&back), ["handle", "instantiate"]);
    assert!(
        receiver.services().iter().all(|s| s == "kiln"),
        "{:?}",
        receiver.services()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trigger_event_has_its_span_and_spans_left_are_sent_at_exit() {
    let receiver = Receiver::start().await;
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"traced\"\n[[trigger.command]]\ncomponent = \"tool\"\n[component.tool]\nsource = \"{CLI_COMMAND}\"\n"
    );
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let mut command = kiln();
    // A long delay: only the flush at exit sends the span.
    command
        .envs(receiver.env())
        .env("OTEL_BSP_SCHEDULE_DELAY", "60000");
    command.env("OTEL_SERVICE_NAME", "batch-jobs");
    let status = command
        .args(["up", "-f", path_str(dir.path()), "--", "--exit", "7"])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(7));
    let span = receiver.span("command tool").await;
    assert_eq!(
        string_attribute(&span.attributes, "kiln.trigger").as_deref(),
        Some("command")
    );
    assert_eq!(
        string_attribute(&span.attributes, "kiln.outcome").as_deref(),
        Some("ok")
    );
    assert_eq!(receiver.children(&span), ["handle", "instantiate"]);
    assert_eq!(receiver.services(), ["batch-jobs"; 3]);
}
