//! What a `wss://` client trusts: the system's certificate authorities, as
//! `rustls-native-certs` reads them, so `SSL_CERT_FILE` or `SSL_CERT_DIR` name others (a team's
//! own authority, a self-signed server's certificate). The stream and `/health` check the same
//! roots with the same crypto provider.

use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;

/// The one crypto provider, named rather than taken from the process default: a plugin shares its
/// host's process, where another library may have installed a different one, or none.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())).clone()
}

/// The trusted roots, read once per process (the system's store does not change under a running
/// stream; a user who adds a certificate restarts the host).
pub fn trusted_roots() -> Result<Arc<Vec<CertificateDer<'static>>>, String> {
    static ROOTS: OnceLock<Result<Arc<Vec<CertificateDer<'static>>>, String>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty() {
                let why = found.errors.first().map_or_else(|| "none found".to_owned(), ToString::to_string);
                return Err(format!("no trusted certificates to check the server's with ({why})"));
            }
            Ok(Arc::new(found.certs))
        })
        .clone()
}

/// The TLS settings of a `wss://` stream.
pub fn client_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    // A certificate the system lists but rustls cannot parse is skipped, as browsers do.
    let _ = roots.add_parsable_certificates(trusted_roots()?.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The same roots and provider for `/health` over HTTPS.
pub fn health_tls_config() -> Result<ureq::tls::TlsConfig, String> {
    let roots = trusted_roots()?;
    let certificates = roots.iter().map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned());
    Ok(ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(crypto_provider())
        .root_certs(ureq::tls::RootCerts::from(certificates))
        .build())
}
