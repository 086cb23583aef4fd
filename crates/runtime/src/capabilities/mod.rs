//! Host capabilities: every interface kiln provides to guests, linked once into the one
//! [`Linker`] all components are pre-linked with.
//!
//! Today: WASI 0.2 (`wasi:cli`, `wasi:filesystem`, `wasi:sockets`, `wasi:clocks`, `wasi:random`,
//! `wasi:io`) and `wasi:http` 0.2 (incoming and outgoing). What an instance may actually reach is
//! decided per component by its [`crate::Grants`], when its [`crate::StoreState`] is built.

pub mod outbound_http;

use wasmtime::component::Linker;

use crate::store::StoreState;

/// Adds every capability's host functions to `linker`.
pub(crate) fn link(linker: &mut Linker<StoreState>) -> anyhow::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
    Ok(())
}
