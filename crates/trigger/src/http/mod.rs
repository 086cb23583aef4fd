//! The HTTP trigger: accept loop ([`server`]), routing ([`router`]), Spin's request headers
//! ([`headers`]) and the call into a component ([`handler`]).

mod handler;
mod headers;
pub mod router;
mod server;

pub use handler::RequestHandler;
pub use router::{RouteMatch, Router};
pub use server::{serve, ServerOptions};
