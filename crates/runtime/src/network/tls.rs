//! The TLS client settings kiln's own connections use (MQTT over `mqtts://`): rustls with ring,
//! trusting the platform's roots, which the usual `SSL_CERT_FILE` and `SSL_CERT_DIR` override.

use std::sync::{Arc, OnceLock};

/// The shared TLS client settings, made once; an error when no root certificate could be read.
pub fn client_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG.get_or_init(make_client_config).clone()
}

fn make_client_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
        return Err(format!(
            "no trusted root certificates ({}): install ca-certificates, or point SSL_CERT_FILE at a PEM file",
            errors.join("; ")
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS settings: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
