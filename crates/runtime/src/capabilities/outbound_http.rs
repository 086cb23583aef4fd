//! Outbound HTTP (`wasi:http/outgoing-handler`): every request a guest sends passes
//! [`OutboundHttp::send_request`], which lets it through only when the component's grants allow.
//!
//! Grants: `--allow-outbound` ([`Outbound::AllowAll`]) sends anywhere; no grant denies.
//! Matching `allowed_outbound_hosts` entries ([`Outbound::AllowList`]) is not implemented yet,
//! so such requests are denied and logged as such. A denial is the guest-visible
//! `HTTP-request-denied` error, never a trap.

use std::future::Future;
use std::sync::Arc;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::grants::{Grants, Outbound};

/// The outbound HTTP policy of one instance.
pub struct OutboundHttp {
    component_id: Arc<str>,
    grants: Arc<Grants>,
}

impl OutboundHttp {
    pub(crate) fn new(component_id: &str, grants: Arc<Grants>) -> Self {
        Self {
            component_id: component_id.into(),
            grants,
        }
    }
}

type SendResult = wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = Result<(), Error>> + Send>,
)>;

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _request_io: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        match &self.grants.outbound {
            Outbound::AllowAll => Box::new(async move {
                let (response, io) =
                    wasmtime_wasi_http::default_send_request(request, options).await?;
                Ok((
                    response.map(BodyExt::boxed_unsync),
                    Box::new(io) as Box<dyn Future<Output = _> + Send>,
                ))
            }),
            Outbound::Denied => {
                tracing::error!(
                    component_id = %self.component_id,
                    "outbound request to {} denied: the component has no outbound grant",
                    request.uri()
                );
                Box::new(async { Err(Error::HttpRequestDenied) })
            }
            Outbound::AllowList(hosts) => {
                tracing::error!(
                    component_id = %self.component_id,
                    "outbound request to {} denied: allowed_outbound_hosts {hosts:?} are not matched by this kiln version",
                    request.uri()
                );
                Box::new(async { Err(Error::HttpRequestDenied) })
            }
        }
    }
}
