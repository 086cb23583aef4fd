//! Outbound HTTP (`wasi:http/outgoing-handler`): every request a guest sends passes
//! [`OutboundHttpHooks::send_request`], which lets it through only when the component's grants allow:
//! `--allow-outbound` ([`Outbound::AllowAll`]) sends anywhere, `allowed_outbound_hosts`
//! ([`Outbound::AllowList`]) where an entry matches, and no grant nowhere. A denial is the
//! guest-visible `HTTP-request-denied` error, never a trap, and is logged with the component id.
//! A request to the app itself (no host in its authority) needs a `self` entry, one to
//! `http://ID.spin.internal` an entry that matches that host; both are served in-process
//! ([`super::local`]).

use std::future::Future;
use std::sync::Arc;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use super::local::{local_target, LocalHttpSlot, LocalTarget};
use crate::capabilities::capability::{Capability, ComponentContext};
use crate::grants::Grants;
use crate::network::{AllowedHost, Destination, Outbound};
use crate::traces::{EventTrace, InstanceTrace};
use crate::LoadError;

/// Outbound HTTP: the app's slot for requests to itself, each component's outbound grant, and
/// the policy hook of an instance. Its interfaces are linked with WASI's (`crate::store`).
pub(crate) struct OutboundHttp;

/// What one component may send requests to.
pub(crate) struct OutboundGrant {
    grants: Arc<Grants>,
    local_http: LocalHttpSlot,
}

impl Capability for OutboundHttp {
    type AppState = LocalHttpSlot;
    type ComponentState = OutboundGrant;
    type InstanceState = OutboundHttpHooks;

    fn link<T: Send + 'static>(
        _linker: &mut wasmtime::component::Linker<T>,
        _get: fn(&mut T) -> &mut OutboundHttpHooks,
    ) -> anyhow::Result<()> {
        Ok(())
    }

    fn configure_component(
        local_http: &LocalHttpSlot,
        component: &ComponentContext<'_>,
    ) -> Result<OutboundGrant, LoadError> {
        Ok(OutboundGrant {
            grants: component.grants.clone(),
            local_http: local_http.clone(),
        })
    }

    fn new_instance(grant: &Arc<OutboundGrant>, id: &Arc<str>) -> OutboundHttpHooks {
        OutboundHttpHooks {
            component_id: id.clone(),
            grant: grant.clone(),
            trace: None,
        }
    }
}

/// The outbound HTTP policy of one instance.
pub struct OutboundHttpHooks {
    component_id: Arc<str>,
    grant: Arc<OutboundGrant>,
    /// The trace of the request the instance serves, which its requests carry on.
    pub(crate) trace: Option<InstanceTrace>,
}

type SendResult = wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = Result<(), Error>> + Send>,
)>;

impl WasiHttpHooks for OutboundHttpHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _request_io: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let mut request = request;
        let span = self.trace.as_ref().and_then(|t| t.outbound(&mut request));
        if let Some(target) = local_target(&request) {
            return self.send_local(request, target, span);
        }
        let destination = destination(&request);
        let allowed = match (&self.grant.grants.outbound, &destination) {
            (Outbound::AllowAll, _) => true,
            (Outbound::AllowList(hosts), Some(to)) => hosts.iter().any(|h| h.allows(to)),
            _ => false,
        };
        if !allowed {
            tracing::error!(
                component_id = %self.component_id,
                "outbound request to {} denied: add its scheme://host:port to allowed_outbound_hosts",
                request.uri()
            );
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        Box::new(async move {
            let sent = wasmtime_wasi_http::default_send_request(request, options).await;
            if let Some(span) = span {
                match &sent {
                    Ok((response, _)) => span.status(response.status().as_u16()),
                    Err(e) => span.failed(&format!("{e:?}")),
                }
            }
            let (response, io) = sent?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

impl OutboundHttpHooks {
    /// Serves a request inside the app: through its routes if a `self` entry allows it, or
    /// to one of its components if an entry allows `http://ID.spin.internal`.
    fn send_local(
        &self,
        request: http::Request<WasiBody>,
        target: LocalTarget,
        span: Option<EventTrace>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let allowed = match (&self.grant.grants.outbound, &target) {
            (Outbound::AllowAll, _) => true,
            (Outbound::AllowList(hosts), LocalTarget::Routes) => {
                hosts.iter().any(AllowedHost::allows_self)
            }
            (Outbound::AllowList(hosts), LocalTarget::Component(_)) => {
                let to = destination(&request);
                hosts
                    .iter()
                    .any(|h| to.as_ref().is_some_and(|to| h.allows(to)))
            }
            (Outbound::Denied, _) => false,
        };
        let path = request.uri().path();
        let (to, grant) = match &target {
            LocalTarget::Routes => ("the app itself".to_string(), "\"http://self\"".to_string()),
            LocalTarget::Component(id) => (
                format!("component \"{id}\""),
                format!("\"http://{id}.spin.internal\" (or \"http://*.spin.internal\")"),
            ),
        };
        if !allowed {
            tracing::error!(
                component_id = %self.component_id,
                "request to {to} ({path}) denied: add {grant} to allowed_outbound_hosts",
            );
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        let Some(local) = self.grant.local_http.get() else {
            tracing::error!(
                component_id = %self.component_id,
                "request to {to} ({path}) failed: the app serves no HTTP routes",
            );
            return Box::new(async { Err(Error::DestinationNotFound) });
        };
        let served = match target {
            LocalTarget::Routes => local.serve(request),
            LocalTarget::Component(id) => match local.serve_component(&id, request) {
                Some(served) => served,
                None => {
                    tracing::error!(
                        component_id = %self.component_id,
                        "request to {to} failed: the app has no HTTP component \"{id}\"",
                    );
                    return Box::new(async { Err(Error::DestinationNotFound) });
                }
            },
        };
        let component_id = self.component_id.clone();
        Box::new(async move {
            let served = served.await;
            if let Some(span) = span {
                match &served {
                    Ok(response) => span.status(response.status().as_u16()),
                    Err(e) => span.failed(&format!("{e:#}")),
                }
            }
            let response = served.map_err(|e| {
                tracing::error!(%component_id, "request to {to} failed: {e:#}");
                Error::InternalError(Some(format!("{e:#}")))
            })?;
            let done = async { Ok::<(), Error>(()) };
            Ok((
                response,
                Box::new(done) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// Where a request is going, as the allow-list sees it.
fn destination(request: &http::Request<WasiBody>) -> Option<Destination> {
    let uri = request.uri();
    Some(Destination {
        scheme: uri.scheme_str().unwrap_or("https").to_ascii_lowercase(),
        host: uri
            .host()?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        port: uri.port_u16(),
    })
}
