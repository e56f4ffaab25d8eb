//! Opening a stream on a server: connect, say hello, read the answer, time the round trip.
//! Blocking, with every wait bounded; runs on the link's thread (or the front end's loading
//! thread for the first connection), never on the audio thread.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

use super::endpoint::RemoteEndpoint;
use crate::remote::{ClientMessage, Hello, MAX_FRAME_BYTES, Refusal, ServerMessage, Welcome};

/// Round trips timed after the welcome; the slowest counts.
const PINGS: usize = 3;

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

/// An open stream, welcomed.
pub struct Connection {
    pub socket: WebSocket<TcpStream>,
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
        mut hello: Hello,
        timeout: Duration,
        load_timeout: Duration,
    ) -> Result<Self, ConnectError> {
        let url = endpoint.stream_url().map_err(ConnectError::Unreachable)?;
        let host = url.trim_start_matches("ws://").split('/').next().unwrap_or_default().to_owned();
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
        let config =
            WebSocketConfig::default().max_message_size(Some(MAX_FRAME_BYTES)).max_frame_size(Some(MAX_FRAME_BYTES));
        let (mut socket, _) =
            tungstenite::client::client_with_config(url.as_str(), tcp, Some(config)).map_err(|e| unreachable(&e))?;

        hello.token = endpoint.token.clone();
        hello.voice = endpoint.voice.clone();
        socket.send(Message::text(ClientMessage::Hello(hello.clone()).to_text())).map_err(|e| unreachable(&e))?;
        socket.get_mut().set_read_timeout(Some(load_timeout)).map_err(|e| unreachable(&e))?;
        let welcome = match read_text(&mut socket)? {
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
        socket.get_mut().set_read_timeout(Some(timeout)).map_err(|e| unreachable(&e))?;
        let round_trip = time_round_trips(&mut socket).map_err(|e| unreachable(&e))?;
        Ok(Self { socket, welcome, round_trip })
    }
}

fn read_text(socket: &mut WebSocket<TcpStream>) -> Result<ServerMessage, ConnectError> {
    loop {
        match socket.read() {
            Ok(Message::Text(text)) => {
                return ServerMessage::parse(text.as_str()).map_err(|e| ConnectError::Protocol(e.to_string()));
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(_)) => return Err(ConnectError::Unreachable("the server closed the connection".into())),
            Ok(_) => return Err(ConnectError::Protocol("audio before the welcome".into())),
            Err(e) => return Err(ConnectError::Unreachable(e.to_string())),
        }
    }
}

fn time_round_trips(socket: &mut WebSocket<TcpStream>) -> Result<Duration, tungstenite::Error> {
    let mut slowest = Duration::ZERO;
    for i in 0..PINGS {
        let sent = Instant::now();
        let payload = (i as u32).to_le_bytes().to_vec();
        socket.send(Message::Ping(payload.clone().into()))?;
        loop {
            if let Message::Pong(back) = socket.read()?
                && back.as_ref() == payload.as_slice()
            {
                break;
            }
        }
        slowest = slowest.max(sent.elapsed());
    }
    Ok(slowest)
}
