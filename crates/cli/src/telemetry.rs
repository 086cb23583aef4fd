//! Traces exported over OTLP (HTTP with protobuf, as the OpenTelemetry spec's exporter
//! settings say): on when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
//! is set (spans go to `ENDPOINT/v1/traces`, or to the traces endpoint as given), off otherwise
//! and when `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. The other `OTEL_*`
//! settings apply as the spec defines them: `OTEL_SERVICE_NAME` (kiln's default is `kiln`),
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_SCHEDULE_DELAY`, ...

use anyhow::Context as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;

/// The trace exporter while kiln runs; [`Telemetry::shutdown`] sends what is left.
pub(crate) struct Telemetry(SdkTracerProvider);

impl Telemetry {
    /// Starts exporting traces if the environment asks for it.
    pub(crate) fn from_env() -> anyhow::Result<Option<Self>> {
        let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
        let endpoint =
            set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        let disabled = std::env::var("OTEL_SDK_DISABLED")
            .is_ok_and(|v| v.eq_ignore_ascii_case("true"))
            || std::env::var("OTEL_TRACES_EXPORTER").is_ok_and(|v| v.eq_ignore_ascii_case("none"));
        if !endpoint || disabled {
            return Ok(None);
        }
        for name in [
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        ] {
            if let Ok(protocol) = std::env::var(name) {
                anyhow::ensure!(
                    protocol == "http/protobuf",
                    "{name}={protocol}: kiln exports traces over OTLP/HTTP with protobuf; set {name}=http/protobuf (a collector's port 4318) or unset it"
                );
            }
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .context("setting up the OTLP trace exporter (OTEL_EXPORTER_OTLP_ENDPOINT)")?;
        let mut resource = Resource::builder();
        if !set("OTEL_SERVICE_NAME") {
            resource = resource.with_service_name("kiln");
        }
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build();
        opentelemetry::global::set_tracer_provider(provider.clone());
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        kiln_runtime::traces::enable();
        Ok(Some(Self(provider)))
    }

    /// Exports the spans not sent yet, then stops.
    pub(crate) fn shutdown(self) {
        if let Err(e) = self.0.shutdown() {
            tracing::warn!("exporting the last traces: {e}");
        }
    }
}
