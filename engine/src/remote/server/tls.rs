//! `rvc-live serve --tls-cert --tls-key`: the server's certificate and key, read from PEM files
//! before anything listens, so a wrong path or a key that does not match fails at start.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate chain and its private key, PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub certificate: PathBuf,
    pub key: PathBuf,
}

/// How long a client may take over its TLS handshake: a peer that connects and says nothing
/// holds a socket that long at most.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// The server's TLS settings from `files`.
pub fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, String> {
    let chain = CertificateDer::pem_file_iter(&files.certificate)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read the certificate {}: {e}", files.certificate.display()))?;
    if chain.is_empty() {
        return Err(format!("{} holds no certificate", files.certificate.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("cannot read the private key {}: {e}", files.key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("the certificate and the key do not go together: {e}"))?;
    Ok(Arc::new(config))
}
