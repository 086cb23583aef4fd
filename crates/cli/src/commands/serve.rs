//! `kiln serve`: one wasi:http/proxy component on every path, like `wasmtime serve`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use kiln_runtime::{ComponentLimits, HttpComponent, Runtime, RuntimeOptions};
use kiln_trigger::http::RequestHandler;

use super::capabilities::CapabilityArgs;
use super::limits::LimitArgs;
use super::listen::ListenArgs;

#[derive(Args)]
pub(crate) struct ServeCommand {
    #[command(flatten)]
    capabilities: CapabilityArgs,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    compiler: super::compiler::CompilerArgs,
    #[command(flatten)]
    listen: ListenArgs,
    /// The component to serve.
    wasm: PathBuf,
}

impl ServeCommand {
    pub(crate) async fn run(self) -> anyhow::Result<i32> {
        let grants = self.capabilities.grants()?;
        let limits = ComponentLimits::resolve(self.limits.limits());
        let runtime = Runtime::new(&RuntimeOptions {
            compiler: self.compiler.compiler,
            ..RuntimeOptions::sized_for(limits.instances_needed())
        })?;
        let id = self
            .wasm
            .file_stem()
            .map_or_else(|| "component".into(), |s| s.to_string_lossy().into_owned());
        let component = HttpComponent::load(&runtime, &id, &self.wasm, grants, limits)?;
        let listener = self.listen.bind().await?;
        println!("Serving http://{}", listener.local_addr()?);
        let handler = Arc::new(RequestHandler::single(component));
        self.listen
            .serve_until_stopped(listener, handler, &runtime)
            .await
    }
}
