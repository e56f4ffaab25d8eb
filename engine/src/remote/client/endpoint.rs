//! Where a remote engine is and what to ask it for.

use crate::remote::{DEFAULT_PORT, HEALTH_PATH, STREAM_PATH};

/// A server, the token it wants and the voice of its library to convert with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteEndpoint {
    /// `host:port`, or a `ws://` or `wss://` (TLS) URL, with or without the stream path.
    pub address: String,
    pub token: Option<String>,
    pub voice: String,
}

impl RemoteEndpoint {
    /// The WebSocket URL of the server's stream endpoint, or why the address is not one.
    pub fn stream_url(&self) -> Result<String, String> {
        let address = self.parts()?;
        let scheme = if address.secure { "wss" } else { "ws" };
        Ok(format!("{scheme}://{}/{}", address.authority, address.path))
    }

    /// The URL of the server's `/health`, over HTTPS when the stream is over TLS.
    pub fn health_url(&self) -> Result<String, String> {
        let address = self.parts()?;
        let scheme = if address.secure { "https" } else { "http" };
        Ok(format!("{scheme}://{}{HEALTH_PATH}", address.authority))
    }

    /// `host:port`, the name TLS checks the server's certificate against and where TCP connects.
    pub fn authority(&self) -> Result<String, String> {
        Ok(self.parts()?.authority)
    }

    /// Whether the address names this machine (`localhost`, a loopback IP): a stream that never
    /// leaves it. A name that merely resolves to loopback does not count.
    pub fn is_loopback(&self) -> bool {
        let Ok(address) = self.parts() else { return false };
        let host = address.authority.rsplit_once(':').map_or(address.authority.as_str(), |(host, _)| host);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    fn parts(&self) -> Result<AddressParts, String> {
        let address = self.address.trim();
        if address.is_empty() {
            return Err("no server address is set".into());
        }
        let (secure, rest) = match address.split_once("://") {
            None => (false, address),
            Some(("ws", rest)) => (false, rest),
            Some(("wss", rest)) => (true, rest),
            Some(_) => return Err(format!("{address:?} is not a ws:// or wss:// address")),
        };
        let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control() || c == '@') {
            return Err(format!("{address:?} names no host"));
        }
        let authority = if has_port(host) { host.to_owned() } else { format!("{host}:{DEFAULT_PORT}") };
        let path = if path.is_empty() { STREAM_PATH.trim_start_matches('/') } else { path };
        Ok(AddressParts { secure, authority, path: path.to_owned() })
    }
}

/// An address taken apart.
struct AddressParts {
    /// `wss://`: TLS.
    secure: bool,
    /// `host:port`.
    authority: String,
    /// The stream endpoint's path, without its leading `/`.
    path: String,
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
        assert_eq!(
            url("wss://gpu-box.example.com").unwrap(),
            format!("wss://gpu-box.example.com:{DEFAULT_PORT}/stream")
        );
        assert!(url("").is_err() && url("http://x:1").is_err() && url("a b:1").is_err() && url("u@x:1").is_err());
        let health = |address: &str| {
            RemoteEndpoint { address: address.into(), token: None, voice: "v".into() }.health_url().unwrap()
        };
        assert_eq!(health("ws://gpu-box:9000/rvc/stream"), "http://gpu-box:9000/health");
        assert_eq!(health("wss://gpu-box:9000"), "https://gpu-box:9000/health");
    }

    #[test]
    fn only_this_machine_is_loopback() {
        let loopback =
            |address: &str| RemoteEndpoint { address: address.into(), token: None, voice: "v".into() }.is_loopback();
        assert!(loopback("127.0.0.1:9000") && loopback("ws://localhost:9000/x") && loopback("[::1]:9000"));
        assert!(loopback("127.8.0.1") && loopback("LOCALHOST"));
        assert!(!loopback("192.0.2.1:9000") && !loopback("localhost.example.com") && !loopback("gpu-box"));
        assert!(!loopback("") && !loopback("[::2]:1"));
    }
}
