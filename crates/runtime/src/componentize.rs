//! Turns a WASI preview 1 core module into a component, as `spin up` does for apps built for
//! `wasm32-wasip1`: the module must carry its component type (Spin SDKs and `wit-bindgen` embed
//! it); its preview 1 imports are satisfied by wasmtime's reactor adapter.

use anyhow::Context as _;
use wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER;

/// Whether `module` embeds a `component-type` custom section.
pub(crate) fn has_component_type(module: &[u8]) -> bool {
    wasmparser::Parser::new(0).parse_all(module).any(|payload| {
        matches!(payload, Ok(wasmparser::Payload::CustomSection(section)) if section.name().starts_with("component-type"))
    })
}

/// The component made of `module` and the preview 1 adapter.
pub(crate) fn componentize(module: &[u8]) -> anyhow::Result<Vec<u8>> {
    wit_component::ComponentEncoder::default()
        .module(module)
        .context("reading the module's component type")?
        .adapter(
            "wasi_snapshot_preview1",
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .context("adding the WASI preview 1 adapter")?
        .validate(true)
        .encode()
        .context("encoding the component")
}
