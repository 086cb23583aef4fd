//! Forwarding a request to a host that runs its deployment: straight to that host's HTTP
//! listener, over one HTTP/2 connection per peer (kept open and shared by all requests to it).
//! A peer that cannot be reached is skipped for the next; a request whose body is empty is
//! also sent again to the next peer when its connection fails before an answer (the peer died
//! under it), so that clients see no failure for a host's death beyond its own requests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Either, Empty};
use hyper::body::{Body, Incoming};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use kiln_runtime::{plain_response, HttpResponse};

/// The header a forwarded request carries: how many hosts passed it on.
pub(crate) const FORWARDED: &str = "kiln-forwarded";
/// Most times a request is passed on (a host may hand it on once more when its own view of
/// the lattice was out of date).
pub(crate) const MAX_HOPS: u8 = 2;
/// How long connecting to a peer may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

type ForwardBody = Either<Incoming, Empty<Bytes>>;

/// Connections to the other hosts, by address.
#[derive(Default)]
pub(crate) struct Forwarder {
    peers: Mutex<HashMap<String, SendRequest<ForwardBody>>>,
    next: AtomicUsize,
}

impl Forwarder {
    /// Sends `request` to one of `peers` (addresses of hosts that run its deployment), taking
    /// turns; `hops` is how many hosts passed it on before.
    pub(crate) async fn forward(
        &self,
        request: Request<Incoming>,
        peers: &[String],
        hops: u8,
    ) -> HttpResponse {
        if peers.is_empty() {
            return plain_response(503);
        }
        let (mut parts, body) = request.into_parts();
        parts
            .headers
            .insert(FORWARDED, HeaderValue::from(u16::from(hops) + 1));
        let resendable = body.is_end_stream();
        let mut body = Some(body);
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        for turn in 0..peers.len() {
            let peer = &peers[(first + turn) % peers.len()];
            let Some(mut sender) = self.sender(peer).await else {
                continue;
            };
            let body = match body.take() {
                Some(body) => Either::Left(body),
                None if resendable => Either::Right(Empty::new()),
                None => break,
            };
            let request = Request::from_parts(parts.clone(), body);
            match sender.send_request(request).await {
                Ok(response) => {
                    return response.map(|body| {
                        UnsyncBoxBody::new(body.map_err(wasmtime_wasi_http::Error::from))
                    })
                }
                Err(e) => {
                    tracing::debug!("forwarding to {peer} failed: {e}");
                    self.forget(peer);
                    if !resendable {
                        return plain_response(502);
                    }
                }
            }
        }
        plain_response(503)
    }

    /// A ready connection to `peer`, made if there is none; `None` if it cannot be reached.
    async fn sender(&self, peer: &str) -> Option<SendRequest<ForwardBody>> {
        let kept = self.peers.lock().expect("peers lock").get(peer).cloned();
        if let Some(mut sender) = kept {
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
            self.forget(peer);
        }
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(peer))
            .await
            .ok()?
            .map_err(|e| tracing::debug!("cannot reach host {peer}: {e}"))
            .ok()?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| tracing::debug!("HTTP/2 with host {peer} failed: {e}"))
            .ok()?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        self.peers
            .lock()
            .expect("peers lock")
            .insert(peer.to_string(), sender.clone());
        Some(sender)
    }

    fn forget(&self, peer: &str) {
        self.peers.lock().expect("peers lock").remove(peer);
    }
}

/// How many hosts passed `request` on before.
pub(crate) fn hops<B>(request: &Request<B>) -> u8 {
    request
        .headers()
        .get(FORWARDED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
