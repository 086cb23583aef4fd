//! The accept loop: HTTP/1.1 (keep-alive, pipelining) and HTTP/2 over cleartext on one port,
//! one task per connection, bounded in number, size and patience; graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use kiln_runtime::HttpResponse;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::RequestHandler;

/// What answers the requests of a listener: one app's [`RequestHandler`], or a host that
/// serves many apps on one port.
pub trait HttpService: Send + Sync + 'static {
    /// Answers one request from `client`. Never fails: errors become error responses.
    fn call(
        &self,
        request: hyper::Request<Incoming>,
        client: std::net::SocketAddr,
    ) -> impl Future<Output = HttpResponse> + Send;
}

impl HttpService for RequestHandler {
    fn call(
        &self,
        request: hyper::Request<Incoming>,
        client: std::net::SocketAddr,
    ) -> impl Future<Output = HttpResponse> + Send {
        self.handle(request, client)
    }
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// How long in-flight requests may run after shutdown begins.
    pub shutdown_grace: Duration,
    /// How long a client may take to send a request head; also how long an idle keep-alive
    /// connection is kept.
    pub header_read_timeout: Duration,
    /// Most connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Largest request head (request line and headers) accepted; larger ones get 431.
    pub max_header_size: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            shutdown_grace: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4096,
            max_header_size: 64 << 10,
        }
    }
}

/// HTTP/2 streams one connection may have open at once.
const MAX_STREAMS_PER_CONNECTION: u32 = 256;

/// Serves `handler` on `listener` until `shutdown` resolves, then stops accepting and lets
/// in-flight connections finish for up to `options.shutdown_grace`.
pub async fn serve<S: HttpService>(
    listener: TcpListener,
    handler: Arc<S>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let builder = Arc::new(connection_builder(&options));
    let connections = Arc::new(Semaphore::new(options.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = accept(&listener, &connections) => accepted,
            () = &mut shutdown => break,
        };
        let Some((stream, client, permit)) = accepted else {
            continue;
        };
        // Responses are often written in small pieces; don't let Nagle hold them back.
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let handler = handler.clone();
            async move { Ok::<_, std::convert::Infallible>(handler.call(request, client).await) }
        });
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        let header_read_timeout = options.header_read_timeout;
        tokio::spawn(async move {
            // hyper's header timeout starts once it knows the protocol; a client that connects
            // and sends nothing must not hold its slot until then.
            let mut first = [0u8; 1];
            match tokio::time::timeout(header_read_timeout, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
            let connection = builder
                .serve_connection(TokioIo::new(stream), service)
                .into_owned();
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!("connection from {client} ended: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(options.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "in-flight requests still running after {:?}; stopping anyway",
            options.shutdown_grace
        );
    }
    Ok(())
}

/// Waits for a free connection slot, then for a connection. `None` after a failed accept.
async fn accept(
    listener: &TcpListener,
    connections: &Arc<Semaphore>,
) -> Option<(
    tokio::net::TcpStream,
    std::net::SocketAddr,
    tokio::sync::OwnedSemaphorePermit,
)> {
    let permit = connections.clone().acquire_owned().await.ok()?;
    match listener.accept().await {
        Ok((stream, client)) => Some((stream, client, permit)),
        Err(e) => {
            // Out of file descriptors and the like: back off instead of spinning.
            tracing::warn!("accept failed: {e}");
            tokio::time::sleep(Duration::from_millis(50)).await;
            None
        }
    }
}

/// HTTP/1.1 and h2c with the limits of `options`.
fn connection_builder(options: &ServerOptions) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        // hyper answers 431 when a request head does not fit its read buffer.
        .max_buf_size(options.max_header_size.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(options.max_header_size).unwrap_or(u32::MAX))
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
        // Finds dead peers of long-lived HTTP/2 connections.
        .keep_alive_interval(Duration::from_secs(30));
    builder
}
