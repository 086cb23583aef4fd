//! The HTTP trigger: its manifest part ([`config`]), accept loop ([`server`]), routing
//! ([`router`]), Spin's request headers ([`headers`]) and the call into a component
//! ([`handler`]); the admin listener ([`admin`]).

mod admin;
mod config;
mod handler;
mod headers;
pub mod router;
mod server;

use std::sync::Arc;

use anyhow::Context as _;
use kiln_manifest::{AppSpec, ManifestError};
use kiln_runtime::{AppComponents, ComponentLimits, HttpExport, LoadedApp, LocalHttp};
use tokio::net::TcpListener;

pub use admin::serve_admin;
pub use config::{HttpRoute, HttpRoutes, RouteSpec, TYPE};
pub use handler::RequestHandler;
pub use router::{RouteMatch, Router};
pub use server::{serve, HttpService, ServerOptions};

use crate::{Configured, Started, Trigger, TriggerHost, TriggerType};

/// `[[trigger.http]]`: requests on the host's listener, routed to `wasi:http` components.
pub const TRIGGER: TriggerType = TriggerType {
    name: TYPE,
    configure,
};

fn configure(app: &AppSpec) -> Result<Configured, ManifestError> {
    let (routes, warnings) = HttpRoutes::read(app)?;
    Ok(Configured {
        trigger: Box::new(HttpTrigger { routes }),
        warnings,
    })
}

struct HttpTrigger {
    routes: HttpRoutes,
}

impl HttpTrigger {
    /// Each component the routes name, once, in manifest order.
    fn distinct_components(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        self.routes
            .routes
            .iter()
            .map(|r| r.component.as_str())
            .filter(|id| seen.insert(*id))
            .collect()
    }
}

#[async_trait::async_trait]
impl Trigger for HttpTrigger {
    fn components(&self) -> Vec<&str> {
        self.distinct_components()
    }

    /// Each component's requests at once (its routes share its slots).
    fn instances_needed(&self, limits: &dyn Fn(&str) -> ComponentLimits) -> u32 {
        self.distinct_components()
            .into_iter()
            .map(|id| limits(id).instances_needed())
            .fold(0, u32::saturating_add)
    }

    async fn start(
        self: Box<Self>,
        app: &LoadedApp,
        components: &AppComponents,
        host: &TriggerHost,
    ) -> anyhow::Result<Started> {
        let loaded = components.get_each::<HttpExport>(self.distinct_components())?;
        let handler = Arc::new(RequestHandler::for_routes(&self.routes, loaded)?);
        app.serve_local_requests_with(&(handler.clone() as Arc<dyn LocalHttp>));
        let listen = match &host.http {
            HttpBinding::Listen(addr) => *addr,
            HttpBinding::Mount(slot) => return Ok(mounted(&handler, slot, host)),
        };
        let listener = bind(listen, "--listen").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let mut summary = vec![format!("Serving {base_url}"), "Available Routes:".into()];
        for (component, route) in handler.router().routes() {
            summary.push(format!("  {component}: {base_url}{route}"));
        }
        let shutdown = host.shutdown.clone().cancelled_owned();
        let running = serve(listener, handler, host.server.clone(), shutdown);
        Ok(Started {
            summary,
            running: Box::pin(async move { running.await.map(|()| None) }),
        })
    }
}

/// Hands `handler` to the host that mounts it on its own listener; the trigger then only
/// waits for the host to stop.
fn mounted(handler: &Arc<RequestHandler>, slot: &HttpMount, host: &TriggerHost) -> Started {
    let _ = slot.set(handler.clone());
    let summary = handler
        .router()
        .routes()
        .map(|(component, route)| format!("  {component}: {route}"))
        .collect();
    let shutdown = host.shutdown.clone();
    Started {
        summary,
        running: Box::pin(async move {
            shutdown.cancelled().await;
            Ok(None)
        }),
    }
}

/// Where an app's HTTP routes are served.
#[derive(Clone)]
pub enum HttpBinding {
    /// On a listener of the app's own at this address (port 0 picks a free port).
    Listen(std::net::SocketAddr),
    /// On a listener the host shares among apps: the app's handler is put in this slot,
    /// and the host passes it the app's requests.
    Mount(HttpMount),
}

/// The slot an app's [`RequestHandler`] is put in when its host mounts it ([`HttpBinding::Mount`]).
pub type HttpMount = Arc<std::sync::OnceLock<Arc<RequestHandler>>>;

/// Binds `addr` (given with the command-line `flag`), saying what to do when the port is taken.
pub async fn bind(addr: std::net::SocketAddr, flag: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr}: is another server using it? choose another with {flag}")
    })
}
