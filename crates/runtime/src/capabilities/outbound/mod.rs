//! Outbound network access: the `allowed_outbound_hosts` grammar ([`allowed_hosts`]) and the
//! hook every outbound HTTP request passes ([`http`]).

pub mod allowed_hosts;
pub mod http;

pub use allowed_hosts::{AllowedHost, Destination};
