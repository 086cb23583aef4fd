//! The listener flags `kiln up` and `kiln serve` share, and serving until a signal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use kiln_manifest::parse_duration;
use kiln_runtime::Runtime;
use kiln_trigger::http::{bind, serve, serve_admin, RequestHandler, ServerOptions};
use tokio::net::TcpListener;

/// Where kiln listens, and how much it lets clients hold.
#[derive(Args)]
pub(crate) struct ListenArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Serve Prometheus metrics at http://ADDR/metrics (off unless given).
    #[arg(long, value_name = "ADDR")]
    admin_listen: Option<SocketAddr>,
    /// How long a client may take to send a request head, and to keep an idle connection.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    header_read_timeout: Duration,
    /// Most client connections open at once; more wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
}

impl ListenArgs {
    /// The address to listen on.
    pub(crate) fn address(&self) -> SocketAddr {
        self.listen
    }

    /// How the server treats its clients.
    pub(crate) fn server_options(&self) -> ServerOptions {
        ServerOptions {
            header_read_timeout: self.header_read_timeout,
            max_connections: self.max_connections as usize,
            ..ServerOptions::default()
        }
    }

    /// Binds the listener; says what to do when the port is taken.
    pub(crate) async fn bind(&self) -> anyhow::Result<TcpListener> {
        bind(self.listen, "--listen").await
    }

    /// Serves the admin endpoints (metrics) of `runtime`, if asked, until the returned guard
    /// is dropped.
    pub(crate) async fn serve_admin(
        &self,
        runtime: &Runtime,
    ) -> anyhow::Result<Option<AbortOnDrop>> {
        let Some(addr) = self.admin_listen else {
            return Ok(None);
        };
        let admin = bind(addr, "--admin-listen").await?;
        println!("Metrics at http://{}/metrics", admin.local_addr()?);
        Ok(Some(AbortOnDrop(tokio::spawn(serve_admin(
            admin,
            runtime.clone(),
        )))))
    }

    /// Serves `handler` on `listener` (and the admin endpoints, if asked) until SIGINT or
    /// SIGTERM, then drains in-flight requests; returns exit code 0.
    pub(crate) async fn serve_until_stopped(
        &self,
        listener: TcpListener,
        handler: Arc<RequestHandler>,
        runtime: &Runtime,
    ) -> anyhow::Result<i32> {
        let _admin = self.serve_admin(runtime).await?;
        serve(
            listener,
            handler,
            self.server_options(),
            crate::signals::shutdown(),
        )
        .await?;
        Ok(0)
    }
}

/// Stops a background task when dropped.
pub(crate) struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
