//! [`RegistryOptions`]: how kiln reaches a registry, and the protocol client made from them.

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::Client;

use crate::signing::{SignKey, VerifyKey};

/// How to reach a registry, and what to sign or require signed.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Plain HTTP instead of HTTPS (a local registry).
    pub insecure: bool,
    /// A push signs the manifest with this key.
    pub sign: Option<SignKey>,
    /// A pull refuses an artifact this key did not sign, before it fetches any layer.
    pub verify: Option<VerifyKey>,
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
