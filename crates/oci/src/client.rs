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
        choose_cryptography();
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

/// A plain HTTP(S) client, for downloads by URL and registry metadata.
pub(crate) fn http_client() -> reqwest::Client {
    choose_cryptography();
    reqwest::Client::new()
}

/// rustls needs its cryptography chosen once per process; ring is the one kiln uses.
fn choose_cryptography() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
