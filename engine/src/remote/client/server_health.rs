//! A server's `GET /health`, as the editor reads it to list the server's voices and the tests to
//! watch its streams.

use std::time::Duration;

use serde::Deserialize;

use super::endpoint::RemoteEndpoint;
use super::tls::health_tls_config;

/// What `/health` says (the fields a client uses; the server sends more).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ServerHealth {
    pub status: String,
    pub version: String,
    pub streams: usize,
    pub max_streams: usize,
    pub load: f32,
    pub voices: Vec<String>,
}

/// Ask the server at `address` (as a [`RemoteEndpoint`] takes it, HTTPS for `wss://`) how it is. Blocking, bounded by
/// `timeout`; a server that is full or stopping answers too (with its status).
pub fn server_health(address: &str, timeout: Duration) -> Result<ServerHealth, String> {
    let endpoint = RemoteEndpoint { address: address.to_owned(), token: None, voice: String::new() };
    let url = endpoint.health_url()?;
    let mut config = ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false);
    if url.starts_with("https://") {
        config = config.tls_config(health_tls_config()?);
    }
    let agent: ureq::Agent = config.build().into();
    let mut response = agent.get(&url).call().map_err(|e| format!("{url}: {e}"))?;
    response.body_mut().with_config().limit(1 << 20).read_json().map_err(|e| format!("{url}: {e}"))
}
