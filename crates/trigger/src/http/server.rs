//! The accept loop: HTTP/1.1 (keep-alive, pipelining) and HTTP/2 over cleartext on one port,
//! one task per connection, graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use super::RequestHandler;

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// How long in-flight requests may run after shutdown begins.
    pub shutdown_grace: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Serves `handler` on `listener` until `shutdown` resolves, then stops accepting and lets
/// in-flight connections finish for up to `options.shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    handler: Arc<RequestHandler>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let builder = Arc::new(auto::Builder::new(TokioExecutor::new()));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Responses are often written in small pieces; don't let Nagle hold them back.
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let handler = handler.clone();
            async move { Ok::<_, std::convert::Infallible>(handler.handle(request, client).await) }
        });
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection from {client} ended: {e}");
            }
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
