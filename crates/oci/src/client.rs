//! [`RegistryOptions`]: how kiln reaches a registry, and the protocol client made from them.

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::Client;

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Plain HTTP instead of HTTPS (a local registry).
    pub insecure: bool,
}

impl RegistryOptions {
    /// A protocol client for these options.
    pub(crate) fn client(&self) -> Client {
        // rustls needs its cryptography chosen once per process; ring is the one kiln uses.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client::new(ClientConfig {
            protocol: if self.insecure {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            ..ClientConfig::default()
        })
    }
}
