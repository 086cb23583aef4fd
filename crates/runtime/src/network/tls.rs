//! The TLS client settings kiln's own connections use (MQTT over `mqtts://`, PostgreSQL):
//! rustls with ring, trusting the platform's roots, which the usual `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` override, and a guest's own CA root where an interface lets it give one.

use std::sync::{Arc, OnceLock};

/// The shared TLS client settings, made once; an error when no root certificate could be read.
pub fn client_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| make_client_config(platform_roots()?.clone()))
        .clone()
}

/// What a CA root that does not read as certificates is told.
const NOT_PEM: &str = "invalid root certificate: expected PEM (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)";

/// TLS client settings that trust the platform's roots and the certificates of `ca_pem` (one or
/// more PEM certificates); an error names what in `ca_pem` is not a certificate.
pub fn client_config_with_root(ca_pem: &str) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = platform_roots()
        .cloned()
        .unwrap_or_else(|_| rustls::RootCertStore::empty());
    for cert in root_certificates(ca_pem)? {
        roots
            .add(cert)
            .map_err(|e| format!("invalid root certificate: {e}"))?;
    }
    make_client_config(roots)
}

/// The certificates of `ca_pem` (one or more, PEM); an error when it holds none or something
/// else.
pub fn root_certificates(
    ca_pem: &str,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject as _;
    let certs = rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| NOT_PEM.to_string())?;
    if certs.is_empty() {
        return Err(NOT_PEM.into());
    }
    Ok(certs)
}

/// The platform's root certificates (`SSL_CERT_FILE`, `SSL_CERT_DIR` override them), read
/// once.
fn platform_roots() -> Result<&'static rustls::RootCertStore, String> {
    static ROOTS: OnceLock<Result<rustls::RootCertStore, String>> = OnceLock::new();
    ROOTS
        .get_or_init(read_platform_roots)
        .as_ref()
        .map_err(Clone::clone)
}

fn read_platform_roots() -> Result<rustls::RootCertStore, String> {
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
    Ok(roots)
}

fn make_client_config(roots: rustls::RootCertStore) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS settings: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// TLS client settings that encrypt without checking the server's certificate: what libpq's
/// `sslmode=prefer` and `require` ask for (no protection against a server in the middle).
pub fn encrypting_only_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// Takes any server certificate, checking only that the handshake is signed by its key.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
