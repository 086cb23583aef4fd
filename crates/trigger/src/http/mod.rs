//! The HTTP trigger: accept loop ([`server`]), routing ([`router`]), Spin's request headers
//! ([`headers`]) and the call into a component ([`handler`]); the admin listener ([`admin`]).

mod admin;
mod handler;
mod headers;
pub mod router;
mod server;

pub use admin::serve_admin;
pub use handler::RequestHandler;
pub use router::{RouteMatch, Router};
pub use server::{serve, ServerOptions};
