//! Requests a component sends to its own app, served in-process with no network hop: to `self`
//! (through the app's routes) and to `http://ID.spin.internal` (straight to the component
//! `ID`, private ones too: Spin's service chaining).
//!
//! Spin SDKs send a relative URL (`/api/items`) with the authority `:80` or `:443`, since
//! `wasi:http` needs one: an outbound request whose authority has no host is such a request.
//! The trigger that serves the app hands it a [`LocalHttp`] once its handler exists
//! ([`crate::LoadedApp::serve_local_requests_with`]); every component of the app shares it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, Weak};

use wasmtime_wasi_http::WasiBody;

/// A response to a request served inside the app.
pub type LocalResponse =
    Pin<Box<dyn Future<Output = anyhow::Result<http::Response<WasiBody>>> + Send>>;

/// Serves HTTP requests through an app's routes, as if they came from a client.
pub trait LocalHttp: Send + Sync {
    /// Routes `request` to the app's component for its path.
    fn serve(self: Arc<Self>, request: http::Request<WasiBody>) -> LocalResponse;

    /// Hands `request` to the app's HTTP component `component_id`, whatever its route (a
    /// private one too); `None` if the app has no such HTTP component.
    fn serve_component(
        self: Arc<Self>,
        component_id: &str,
        request: http::Request<WasiBody>,
    ) -> Option<LocalResponse>;
}

/// Where an app's components find its [`LocalHttp`], once the trigger has set it. Holds it
/// weakly: the handler owns the components, not the other way round.
#[derive(Clone, Default)]
pub struct LocalHttpSlot(Arc<OnceLock<Weak<dyn LocalHttp>>>);

impl LocalHttpSlot {
    /// Sets the handler; later calls change nothing.
    pub fn set(&self, handler: &Arc<dyn LocalHttp>) {
        let _ = self.0.set(Arc::downgrade(handler));
    }

    /// The handler, while the app is being served.
    pub fn get(&self) -> Option<Arc<dyn LocalHttp>> {
        self.0.get()?.upgrade()
    }
}

/// The domain under which each component of an app is reached by name.
const SERVICE_CHAINING_DOMAIN: &str = ".spin.internal";

/// Where in the app a request served in-process goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LocalTarget {
    /// Through the app's routes: its authority names no host.
    Routes,
    /// To one component: `http://ID.spin.internal`.
    Component(String),
}

/// Whether `request` is served inside the app, and where.
pub(crate) fn local_target(request: &http::Request<WasiBody>) -> Option<LocalTarget> {
    let host = request.uri().host().unwrap_or_default();
    if host.is_empty() {
        return Some(LocalTarget::Routes);
    }
    let id = host.strip_suffix(SERVICE_CHAINING_DOMAIN)?;
    (!id.is_empty() && !id.contains('.')).then(|| LocalTarget::Component(id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(uri: &str) -> Option<LocalTarget> {
        use http_body_util::BodyExt as _;
        let body = http_body_util::Empty::<bytes::Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync();
        let request = http::Request::get(uri).body(body).unwrap();
        local_target(&request)
    }

    #[test]
    fn requests_inside_the_app_are_told_apart() {
        assert_eq!(target("/api/items"), Some(LocalTarget::Routes));
        assert_eq!(
            target("http://back.spin.internal/x"),
            Some(LocalTarget::Component("back".into()))
        );
        assert_eq!(target("http://example.com/x"), None);
        assert_eq!(target("http://a.b.spin.internal/x"), None);
        assert_eq!(target("http://spin.internal/x"), None);
    }
}
