//! Outbound network access: the `allowed_outbound_hosts` grammar ([`allowed_hosts`]), the
//! hook every outbound HTTP request passes ([`http`]) and requests to the app itself ([`local`]).

pub mod allowed_hosts;
pub mod http;
pub mod local;

pub use allowed_hosts::{AllowedHost, Destination};
pub use local::{LocalHttp, LocalHttpSlot, LocalResponse};
