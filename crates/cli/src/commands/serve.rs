//! `kiln serve`: one wasi:http/proxy component on every path, like `wasmtime serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use kiln_runtime::{HttpComponent, Runtime, RuntimeOptions};
use kiln_trigger::http::RequestHandler;

use super::capabilities::CapabilityArgs;
use super::up::{bind, serve_until_stopped};

#[derive(Args)]
pub(crate) struct ServeCommand {
    #[command(flatten)]
    capabilities: CapabilityArgs,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// The component to serve.
    wasm: PathBuf,
}

impl ServeCommand {
    pub(crate) async fn run(self) -> anyhow::Result<i32> {
        let grants = self.capabilities.grants()?;
        let runtime = Runtime::new(&RuntimeOptions::default())?;
        let id = self
            .wasm
            .file_stem()
            .map_or_else(|| "component".into(), |s| s.to_string_lossy().into_owned());
        let component = HttpComponent::load(&runtime, &id, &self.wasm, grants)?;
        let listener = bind(self.listen).await?;
        println!("Serving http://{}", listener.local_addr()?);
        let handler = Arc::new(RequestHandler::single(component));
        serve_until_stopped(listener, handler).await
    }
}
