//! Apps as OCI artifacts, in Spin's layout, so that kiln, Spin and SpinKube run each other's:
//! [`registry::push`] a locked app with its content, [`registry::pull`] it into a
//! content-addressed [`BlobStore`] that `kiln up` runs it from. [`LockedApp`] is Spin's locked
//! app JSON, the artifact's description of the app.

mod blobs;
mod client;
mod credentials;
mod fetch;
mod locked;
pub mod packages;
pub mod registry;
mod signing;
mod transfer;

pub use blobs::{BlobError, BlobStore};
pub use client::RegistryOptions;
pub use credentials::{login, logout};
pub use fetch::fetch_verified;
pub use locked::{Inline, LockedApp, LockedError};
pub use packages::{fetch_package, publish_package, FetchedPackage};
pub use registry::{pull, push, resolve, Precompiled, Pulled, Pushed};
pub use signing::{SignKey, VerifyKey};
pub use transfer::Transfer;
