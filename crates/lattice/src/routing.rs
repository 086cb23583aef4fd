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
    pub names: HashMap<String, String>,
    /// Deployment → the addresses of the other live hosts serving it.
    pub holders: HashMap<String, Vec<String>>,
}

impl Routing {
    /// The deployment `host` (a `Host` header's value) names.
    fn deployment(&self, host: &str) -> Option<&str> {
        let name = host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                name
            } else {
                host
            }
        });
        let name = name.to_ascii_lowercase();
        if let Some(deployment) = self.names.get(&name) {
            return Some(deployment);
        }
        let first = name.split('.').next()?;
        self.names
            .get_key_value(first)
            .filter(|(key, deployment)| key == deployment)
            .map(|(_, deployment)| deployment.as_str())
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
        let routing = self.routing.load_full();
        let host = request
            .uri()
            .authority()
            .map(|a| a.as_str().to_string())
            .or_else(|| {
                let value = request.headers().get(http::header::HOST)?;
                value.to_str().ok().map(str::to_string)
            })
            .unwrap_or_default();
        let Some(deployment) = routing.deployment(&host) else {
            return text_response(
                StatusCode::NOT_FOUND,
                format!("no deployment of this lattice answers to the host name \"{host}\": send the deployment's name as the Host (NAME.example.com, or NAME.localhost)\n"),
            );
        };
        let deployment = deployment.to_string();
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
            let routing = self.routing.load();
            let peers = routing.holders.get(&deployment).filter(|p| !p.is_empty());
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
                ("hello".into(), "hello".into()),
                ("api.example.com".into(), "hello".into()),
                ("other".into(), "other".into()),
            ]),
            holders: HashMap::new(),
        };
        assert_eq!(routing.deployment("hello.localhost:3000"), Some("hello"));
        assert_eq!(routing.deployment("HELLO"), Some("hello"));
        assert_eq!(routing.deployment("api.example.com:80"), Some("hello"));
        assert_eq!(routing.deployment("other.example.com"), Some("other"));
        assert_eq!(routing.deployment("api.localhost"), None);
        assert_eq!(routing.deployment("127.0.0.1:3000"), None);
    }
}
