//! A host's HTTP listener in a lattice: the `Host` header names the deployment (its name as
//! the first label, `hello.example.com` or `hello.localhost:3000`, or one of its release's
//! `hosts`); the request runs here when this host serves it, else goes to a host that does.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use http::{Request, StatusCode};
use hyper::body::Incoming;
use kiln_runtime::{text_response, HttpResponse};
use kiln_trigger::http::HttpService;

use crate::apps::AppHost;
use crate::forward::{hops, Forwarder, MAX_HOPS};

/// How long a request waits for a host to serve its deployment before it is answered 503.
const WAIT_FOR_SERVER: Duration = Duration::from_secs(3);

/// Where each deployment is served: what a host learns from the lattice.
#[derive(Debug, Default)]
pub struct Routing {
    /// HTTP Host names (lower case, no port) → deployment.
    pub names: HashMap<String, Arc<str>>,
    /// Deployment → the addresses of the other live hosts serving it.
    pub holders: HashMap<String, Vec<String>>,
}

impl Routing {
    /// The deployment `host` (a `Host` header's value) names.
    fn deployment(&self, host: &str) -> Option<&Arc<str>> {
        let name = host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                name
            } else {
                host
            }
        });
        let name: std::borrow::Cow<str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            name.to_ascii_lowercase().into()
        } else {
            name.into()
        };
        if let Some(deployment) = self.names.get(name.as_ref()) {
            return Some(deployment);
        }
        let first = name.split('.').next()?;
        self.names
            .get_key_value(first)
            .filter(|(key, deployment)| key.as_str() == deployment.as_ref())
            .map(|(_, deployment)| deployment)
    }
}

/// The HTTP service of a lattice host.
pub struct LatticeHttp {
    apps: Arc<AppHost>,
    routing: Arc<ArcSwap<Routing>>,
    forwarder: Forwarder,
}

impl LatticeHttp {
    /// Serves `apps` here and forwards the rest as `routing` says.
    pub fn new(apps: Arc<AppHost>, routing: Arc<ArcSwap<Routing>>) -> Self {
        Self {
            apps,
            routing,
            forwarder: Forwarder::default(),
        }
    }
}

impl HttpService for LatticeHttp {
    async fn call(&self, request: Request<Incoming>, client: SocketAddr) -> HttpResponse {
        let host = request
            .uri()
            .authority()
            .map(|a| a.as_str())
            .or_else(|| request.headers().get(http::header::HOST)?.to_str().ok())
            .unwrap_or_default();
        let Some(deployment) = self.routing.load().deployment(host).cloned() else {
            return text_response(
                StatusCode::NOT_FOUND,
                format!("no deployment of this lattice answers to the host name \"{host}\": send the deployment's name as the Host (NAME.example.com, or NAME.localhost)\n"),
            );
        };
        let hops = hops(&request);
        // A deployment being placed (or moved) has no server for a moment: wait for one.
        let deadline = Instant::now() + WAIT_FOR_SERVER;
        loop {
            if let Some(app) = self.apps.get(&deployment) {
                let Some(handler) = app.http() else {
                    return text_response(
                        StatusCode::NOT_FOUND,
                        format!("deployment {deployment} has no HTTP routes\n"),
                    );
                };
                // `app` is held until the response head is out: a stop waits for it.
                return handler.handle(request, client).await;
            }
            // Held across the forward: a full reference, not a short-lived guard.
            let routing = self.routing.load_full();
            let peers = routing
                .holders
                .get(deployment.as_ref())
                .filter(|p| !p.is_empty());
            if let Some(peers) = peers.filter(|_| hops < MAX_HOPS) {
                return self.forwarder.forward(request, peers, hops).await;
            }
            if Instant::now() > deadline {
                return text_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("no host serves deployment {deployment} right now\n"),
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_name_picks_the_deployment() {
        let routing = Routing {
            names: HashMap::from([
                ("hello".into(), Arc::from("hello")),
                ("api.example.com".into(), Arc::from("hello")),
                ("other".into(), Arc::from("other")),
            ]),
            holders: HashMap::new(),
        };
        let of = |host: &str| routing.deployment(host).map(|d| d.to_string());
        assert_eq!(of("hello.localhost:3000").as_deref(), Some("hello"));
        assert_eq!(of("HELLO").as_deref(), Some("hello"));
        assert_eq!(of("api.example.com:80").as_deref(), Some("hello"));
        assert_eq!(of("other.example.com").as_deref(), Some("other"));
        assert_eq!(of("api.localhost"), None);
        assert_eq!(of("127.0.0.1:3000"), None);
    }
}
