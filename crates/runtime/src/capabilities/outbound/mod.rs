//! Outbound HTTP: the hook every outbound request passes ([`http`]) and requests to the app
//! itself ([`local`]).

pub mod http;
pub mod local;

pub use http::OutboundHttpHooks;
pub use local::{LocalHttp, LocalHttpSlot, LocalResponse};
