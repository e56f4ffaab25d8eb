//! Opening a stream on a server: connect, say hello, read the answer, time the round trip.
//! Blocking, with every wait bounded; runs on the link's thread (or the front end's loading
//! thread for the first connection), never on the audio thread.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use tungstenite::protocol::WebSocketConfig;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Connector, Message, WebSocket};

use super::endpoint::RemoteEndpoint;
use super::tls::client_config;
use crate::remote::{ClientMessage, Hello, MAX_FRAME_BYTES, Refusal, ServerMessage, Welcome};

/// Round trips timed after the welcome; the slowest counts.
const PINGS: usize = 3;
/// Audio waiting to go out to a server that does not read: a few blocks at most.
const MAX_WRITE_BUFFER: usize = 4 * MAX_FRAME_BYTES;
/// How often a wait for the server looks whether it was cancelled. Short, since the round trips
/// are timed through it.
const POLL: Duration = Duration::from_millis(1);

/// Why a stream could not be opened, in words for the banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// No answer, or the connection broke.
    Unreachable(String),
    /// The server said no (a wrong token, an unknown voice, another protocol version, full).
    Refused { reason: Refusal, message: String },
    /// The server answered something this client cannot use.
    Protocol(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable(why) => write!(f, "cannot reach the server: {why}"),
            Self::Refused { message, .. } => write!(f, "the server refused the stream: {message}"),
            Self::Protocol(why) => write!(f, "the server's answer is unusable: {why}"),
        }
    }
}

impl std::error::Error for ConnectError {}

/// A stream's WebSocket: over TCP, or TLS over TCP for a `wss://` address.
pub type ServerSocket = WebSocket<MaybeTlsStream<TcpStream>>;

/// The TCP connection under `socket`, whose timeouts and blocking mode the link sets.
pub fn tcp_of(socket: &mut ServerSocket) -> std::io::Result<&TcpStream> {
    match socket.get_ref() {
        MaybeTlsStream::Plain(tcp) => Ok(tcp),
        MaybeTlsStream::Rustls(tls) => Ok(tls.get_ref()),
        _ => Err(std::io::Error::other("a TLS stream this client does not build")),
    }
}

/// An open stream, welcomed.
pub struct Connection {
    pub socket: ServerSocket,
    pub welcome: Welcome,
    /// The slowest of a few WebSocket pings after the welcome.
    pub round_trip: Duration,
}

impl Connection {
    /// Connect to `endpoint` and open a stream with `hello` (its token and voice are the
    /// endpoint's). `timeout` bounds each step; the welcome may take as long as the server needs
    /// to load the voice, up to `load_timeout`.
    pub fn open(
        endpoint: &RemoteEndpoint,
        hello: Hello,
        timeout: Duration,
        load_timeout: Duration,
    ) -> Result<Self, ConnectError> {
        Self::open_unless(endpoint, hello, timeout, load_timeout, &|| false)
    }

    /// [`Self::open`], giving up as soon as `cancelled` says so while waiting for the server (a
    /// link whose stream is stopping must not keep the host waiting for a voice to load).
    pub fn open_unless(
        endpoint: &RemoteEndpoint,
        mut hello: Hello,
        timeout: Duration,
        load_timeout: Duration,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Self, ConnectError> {
        let url = endpoint.stream_url().map_err(ConnectError::Unreachable)?;
        let host = endpoint.authority().map_err(ConnectError::Unreachable)?;
        let address = host
            .to_socket_addrs()
            .map_err(|e| ConnectError::Unreachable(format!("{host}: {e}")))?
            .next()
            .ok_or_else(|| ConnectError::Unreachable(format!("{host} has no address")))?;
        let unreachable = |e: &dyn std::fmt::Display| ConnectError::Unreachable(format!("{host}: {e}"));
        let tcp = TcpStream::connect_timeout(&address, timeout).map_err(|e| unreachable(&e))?;
        tcp.set_nodelay(true).map_err(|e| unreachable(&e))?;
        tcp.set_read_timeout(Some(timeout)).map_err(|e| unreachable(&e))?;
        tcp.set_write_timeout(Some(timeout)).map_err(|e| unreachable(&e))?;
        // A server that stops reading fills the write buffer; past this much the link calls the
        // connection broken rather than queue audio without bound.
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_FRAME_BYTES))
            .max_frame_size(Some(MAX_FRAME_BYTES))
            .max_write_buffer_size(MAX_WRITE_BUFFER);
        // Only a `wss://` address reads the trusted certificates: a plain stream works on a
        // system without any.
        let connector = if url.starts_with("wss://") {
            Some(Connector::Rustls(client_config().map_err(ConnectError::Unreachable)?))
        } else {
            Some(Connector::Plain)
        };
        let (mut socket, _) = tungstenite::client_tls_with_config(url.as_str(), tcp, Some(config), connector)
            .map_err(|e| unreachable(&e))?;

        hello.token = endpoint.token.clone();
        hello.voice = endpoint.voice.clone();
        socket.send(Message::text(ClientMessage::Hello(hello.clone()).to_text())).map_err(|e| unreachable(&e))?;
        tcp_of(&mut socket).and_then(|tcp| tcp.set_read_timeout(Some(POLL))).map_err(|e| unreachable(&e))?;
        let welcome = match read_text(&mut socket, Instant::now() + load_timeout, cancelled)? {
            ServerMessage::Welcome(welcome) => welcome,
            ServerMessage::Refused { reason, message } => return Err(ConnectError::Refused { reason, message }),
            ServerMessage::Error { message } => return Err(ConnectError::Unreachable(message)),
        };
        if welcome.block != hello.block {
            return Err(ConnectError::Protocol(format!(
                "a block of {} samples where this stream's is {}",
                welcome.block, hello.block
            )));
        }
        let round_trip = time_round_trips(&mut socket, timeout, cancelled)?;
        tcp_of(&mut socket).and_then(|tcp| tcp.set_read_timeout(Some(timeout))).map_err(|e| unreachable(&e))?;
        Ok(Self { socket, welcome, round_trip })
    }
}

/// The next message, read in [`POLL`] slices until `deadline` or until `cancelled`.
fn read_until(
    socket: &mut ServerSocket,
    deadline: Instant,
    cancelled: &dyn Fn() -> bool,
) -> Result<Message, ConnectError> {
    loop {
        // Checked before every read, so a peer that keeps sending (pings, anything) cannot hold
        // a stopping link or outlast the deadline.
        if cancelled() {
            return Err(ConnectError::Unreachable("the stream stopped".into()));
        }
        if Instant::now() >= deadline {
            return Err(ConnectError::Unreachable("the server did not answer in time".into()));
        }
        match socket.read() {
            Ok(message) => return Ok(message),
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(e) => return Err(ConnectError::Unreachable(e.to_string())),
        }
    }
}

fn read_text(
    socket: &mut ServerSocket,
    deadline: Instant,
    cancelled: &dyn Fn() -> bool,
) -> Result<ServerMessage, ConnectError> {
    loop {
        match read_until(socket, deadline, cancelled)? {
            Message::Text(text) => {
                return ServerMessage::parse(text.as_str()).map_err(|e| ConnectError::Protocol(e.to_string()));
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            Message::Close(_) => return Err(ConnectError::Unreachable("the server closed the connection".into())),
            _ => return Err(ConnectError::Protocol("audio before the welcome".into())),
        }
    }
}

fn time_round_trips(
    socket: &mut ServerSocket,
    timeout: Duration,
    cancelled: &dyn Fn() -> bool,
) -> Result<Duration, ConnectError> {
    let mut slowest = Duration::ZERO;
    for i in 0..PINGS {
        let sent = Instant::now();
        let payload = (i as u32).to_le_bytes().to_vec();
        socket.send(Message::Ping(payload.clone().into())).map_err(|e| ConnectError::Unreachable(e.to_string()))?;
        loop {
            if let Message::Pong(back) = read_until(socket, sent + timeout, cancelled)?
                && back.as_ref() == payload.as_slice()
            {
                break;
            }
        }
        slowest = slowest.max(sent.elapsed());
    }
    Ok(slowest)
}
