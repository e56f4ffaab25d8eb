//! Where a remote engine is and what to ask it for.

use crate::remote::{DEFAULT_PORT, STREAM_PATH};

/// A server, the token it wants and the voice of its library to convert with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteEndpoint {
    /// `host:port`, or a `ws://` URL (`ws://host:port` or with the stream path).
    pub address: String,
    pub token: Option<String>,
    pub voice: String,
}

impl RemoteEndpoint {
    /// The WebSocket URL of the server's stream endpoint, or why the address is not one.
    pub fn stream_url(&self) -> Result<String, String> {
        let address = self.address.trim();
        if address.is_empty() {
            return Err("no server address is set".into());
        }
        if address.starts_with("wss://") {
            return Err("this client connects with ws://; put a TLS-terminating proxy on the client's side".into());
        }
        let rest = address.strip_prefix("ws://").unwrap_or(address);
        if rest.contains("://") {
            return Err(format!("{address:?} is not a ws:// address"));
        }
        let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("{address:?} names no host"));
        }
        let host = if has_port(host) { host.to_owned() } else { format!("{host}:{}", DEFAULT_PORT) };
        let path = if path.is_empty() { STREAM_PATH.trim_start_matches('/') } else { path };
        Ok(format!("ws://{host}/{path}"))
    }
}

fn has_port(host: &str) -> bool {
    // `[::1]:7865`, `host:7865`; a bare IPv6 literal has colons but no port.
    match host.rsplit_once(':') {
        Some((before, port)) => port.parse::<u16>().is_ok() && (!before.contains(':') || before.ends_with(']')),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(address: &str) -> Result<String, String> {
        RemoteEndpoint { address: address.into(), token: None, voice: "v".into() }.stream_url()
    }

    #[test]
    fn addresses_become_stream_urls() {
        assert_eq!(url("127.0.0.1:9000").unwrap(), "ws://127.0.0.1:9000/stream");
        assert_eq!(url("ws://gpu-box:9000").unwrap(), "ws://gpu-box:9000/stream");
        assert_eq!(url("ws://gpu-box:9000/rvc/stream").unwrap(), "ws://gpu-box:9000/rvc/stream");
        assert_eq!(url("gpu-box").unwrap(), format!("ws://gpu-box:{DEFAULT_PORT}/stream"));
        assert_eq!(url("[::1]:9000").unwrap(), "ws://[::1]:9000/stream");
        assert!(url("").is_err() && url("http://x:1").is_err() && url("wss://x:1").is_err() && url("a b:1").is_err());
    }
}
