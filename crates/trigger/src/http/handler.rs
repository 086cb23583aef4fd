//! One request: route it, give it Spin's headers, hand it to its component.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::BodyExt;
use kiln_runtime::{plain_response, HttpComponent, LocalHttp, LocalResponse};
use wasmtime_wasi_http::WasiBody;

use super::headers::set_spin_headers;
use super::router::RouteMatch;
use super::{HttpRoutes, Router};

/// Routes requests to the components of one app (or to one component for `kiln serve`).
pub struct RequestHandler {
    router: Router,
    /// Each component by id, in a slot [`RequestHandler::replace_component`] swaps.
    components: HashMap<String, ArcSwap<HttpComponent>>,
    spin_headers: bool,
    /// The route a chained request (`http://ID.spin.internal`) is handled under.
    chained_route: Arc<str>,
}

/// Where chained requests come from, as Spin gives it.
const CHAINED_CLIENT: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

impl RequestHandler {
    /// Serves an app's `routes` with its HTTP `components`, by id, with Spin's headers.
    pub fn for_routes(
        routes: &HttpRoutes,
        components: HashMap<String, HttpComponent>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            router: Router::for_routes(routes)?,
            components: components
                .into_iter()
                .map(|(id, component)| (id, ArcSwap::from_pointee(component)))
                .collect(),
            spin_headers: true,
            chained_route: Arc::from(CATCH_ALL),
        })
    }

    /// Serves every path with one component and passes requests through unchanged, as
    /// `wasmtime serve` does.
    pub fn single(component: HttpComponent) -> Self {
        Self {
            router: Router::catch_all(component.id()),
            components: HashMap::from([(
                component.id().to_string(),
                ArcSwap::from_pointee(component),
            )]),
            spin_headers: false,
            chained_route: Arc::from(CATCH_ALL),
        }
    }

    /// The router, for listing routes.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Serves `component`'s routes with this new version of it from now on; requests in
    /// flight finish on the old one. False when it serves no component with that id.
    pub fn replace_component(&self, component: HttpComponent) -> bool {
        match self.components.get(component.id()) {
            Some(slot) => {
                slot.store(Arc::new(component));
                true
            }
            None => false,
        }
    }

    /// Handles one request from `client`. Never fails: errors become 404, 413, 500, 503 or
    /// 504 responses.
    pub async fn handle<B>(&self, mut request: Request<B>, client: SocketAddr) -> Response<WasiBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let path = request.uri().path().to_string();
        let Some(route) = self.router.route(&path) else {
            return plain_response(404);
        };
        let Some(component) = self.components.get(route.component_id) else {
            return plain_response(404);
        };
        let component = component.load_full();
        absolute_uri(&mut request);
        if self.spin_headers {
            let full_url = request.uri().to_string();
            set_spin_headers(request.headers_mut(), &full_url, &route, client);
        }
        // The component answers a failure with its status, and counts the request.
        component.handle(request, route.raw_route).await
    }
}

/// Requests a component sends to its own app arrive here, as from a client on the loopback
/// address, addressed to `localhost`.
impl LocalHttp for RequestHandler {
    fn serve(self: Arc<Self>, mut request: Request<WasiBody>) -> LocalResponse {
        Box::pin(async move {
            let path = request.uri().path_and_query().cloned();
            let mut parts = http::uri::Parts::default();
            parts.path_and_query = path;
            *request.uri_mut() = Uri::from_parts(parts)?;
            request
                .headers_mut()
                .insert(http::header::HOST, HeaderValue::from_static("localhost"));
            let client = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
            let response = self.handle(request, client).await;
            Ok(response.map(|body| body.map_err(Into::into).boxed_unsync()))
        })
    }

    /// Spin's service chaining: the whole path is the component's, as under a `/...` route.
    fn serve_component(
        self: Arc<Self>,
        component_id: &str,
        mut request: Request<WasiBody>,
    ) -> Option<LocalResponse> {
        let component = self.components.get(component_id)?.load_full();
        Some(Box::pin(async move {
            absolute_uri(&mut request);
            if self.spin_headers {
                let route = RouteMatch {
                    component_id: component.id(),
                    based_route: CATCH_ALL,
                    raw_route: &self.chained_route,
                    path_info: Cow::Owned(request.uri().path().to_string()),
                    captures: Vec::new(),
                };
                let full_url = request.uri().to_string();
                set_spin_headers(request.headers_mut(), &full_url, &route, CHAINED_CLIENT);
            }
            let response = component.handle(request, &self.chained_route).await;
            Ok(response.map(|body| body.map_err(Into::into).boxed_unsync()))
        }))
    }
}

/// The route that takes every path.
const CATCH_ALL: &str = "/...";

/// Gives the request URI a scheme and authority (from `Host`, else `localhost`), as the guest
/// expects.
fn absolute_uri<B>(request: &mut Request<B>) {
    let authority = request
        .uri()
        .authority()
        .cloned()
        .or_else(|| {
            let host = request.headers().get(http::header::HOST)?.to_str().ok()?;
            host.parse::<Authority>().ok()
        })
        .unwrap_or_else(|| Authority::from_static("localhost"));
    if !request.headers().contains_key(http::header::HOST) {
        if let Ok(value) = HeaderValue::from_str(authority.as_str()) {
            request.headers_mut().insert(http::header::HOST, value);
        }
    }
    let mut parts = request.uri().clone().into_parts();
    parts.scheme = Some(parts.scheme.unwrap_or(Scheme::HTTP));
    parts.authority = Some(authority);
    if parts.path_and_query.is_none() {
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
    }
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
}
