//! Requests a component sends to its own app (`self` in `allowed_outbound_hosts`), served
//! in-process through the app's routes, with no network hop.
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

/// Whether `request` is addressed to the app itself: its authority names no host.
pub fn is_self_request(request: &http::Request<WasiBody>) -> bool {
    request.uri().host().is_none_or(str::is_empty)
}
