//! Outbound HTTP: the hook every outbound request passes ([`http`]), requests to the app
//! itself ([`local`]) and relative URLs from WASI 0.3 guests ([`relative`]).

pub mod http;
pub mod local;
pub(crate) mod relative;

pub use http::OutboundHttpHooks;
pub use local::{LocalHttp, LocalHttpSlot, LocalResponse};
