//! The network thread of a remote stream: keeps a connection open, moves frames between it and
//! the inference thread, and reconnects with backoff when the server goes away. The inference
//! thread never touches the socket, so a slow or dead server costs it at most its wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tungstenite::Message;

use super::connection::{ConnectError, Connection, ServerSocket, tcp_of};
use super::endpoint::RemoteEndpoint;
use super::remote_stats::RemoteStats;
use crate::remote::{ConvertedBlock, Hello, ServerMessage};
use crate::rvc_processor::ControlSource;

/// The first wait before reconnecting, doubled after each failure up to [`BACKOFF_MAX`].
pub const BACKOFF_START: Duration = Duration::from_millis(100);
pub const BACKOFF_MAX: Duration = Duration::from_secs(4);
/// How often a server that refused the stream is asked again.
pub const REFUSED_RETRY: Duration = Duration::from_secs(30);
/// A stream that lasted this long was working: after it ends, the link reconnects at once.
const STABLE: Duration = Duration::from_secs(10);
/// A link with nothing to send pings the server this often, so that an idle voice slot keeps its
/// stream (servers close connections that send nothing).
const KEEPALIVE: Duration = Duration::from_secs(5);
/// How long the link waits for a reply of any kind, while sending, before it takes the server for
/// gone (a peer that vanished without closing the connection).
const SILENCE_LIMIT: Duration = Duration::from_secs(3);
/// How often the link looks at the socket while a conversion is due.
const FAST_POLL: Duration = Duration::from_micros(250);
/// How long an idle link sleeps before it looks at the socket (for the server's errors and a
/// closed connection) when nothing is to be sent.
const IDLE_POLL: Duration = Duration::from_millis(20);
/// Each step of a reconnect (TCP, upgrade, pings) is bounded by this; the server's voice load by
/// [`LOAD_TIMEOUT`], though a stopping stream stops waiting for it at once. What a stopping link
/// can keep the host waiting is a TCP connect and an upgrade in progress.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(60);
/// Frames waiting to go out, and converted blocks waiting for the inference thread.
const QUEUED: usize = 8;

/// What the inference thread sends.
pub enum Outgoing {
    Frame(Vec<u8>),
    Text(String),
}

/// The inference thread's end of the link. Dropping it stops and joins the thread.
pub struct Link {
    pub outgoing: SyncSender<Outgoing>,
    pub incoming: Receiver<ConvertedBlock>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// The stream a link opens on every connect: the hello's voice and token are the endpoint's, its
/// controls are the source's at that moment.
pub struct LinkPlan {
    pub endpoint: RemoteEndpoint,
    pub hello: Hello,
    pub controls: ControlSource,
    /// The server's processor must delay by exactly this, or the stream's latency would be wrong.
    pub processor_delay: usize,
}

impl Link {
    /// Start the link, with `first` as its connection when the front end opened one already.
    pub fn start(plan: LinkPlan, first: Option<Connection>, stats: Arc<RemoteStats>) -> std::io::Result<Self> {
        let (outgoing, to_send) = std::sync::mpsc::sync_channel(QUEUED);
        let (received, incoming) = std::sync::mpsc::sync_channel(QUEUED);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = LinkThread { plan, to_send, received, stop: stop.clone(), stats };
        // Accepted here, before the caller sends its first block: on the link's thread the
        // stream could start before the link called itself connected, and the first blocks would
        // fall back (or be taken for blocks queued while no server was there).
        let first = first.map(|connection| thread.accept(connection));
        let handle = std::thread::Builder::new().name("rvc-live-remote".into()).spawn(move || thread.run(first))?;
        Ok(Self { outgoing, incoming, stop, handle: Some(handle) })
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

struct LinkThread {
    plan: LinkPlan,
    to_send: Receiver<Outgoing>,
    received: SyncSender<ConvertedBlock>,
    stop: Arc<AtomicBool>,
    stats: Arc<RemoteStats>,
}

impl LinkThread {
    fn run(self, mut first: Option<Result<Connection, ConnectError>>) {
        let mut backoff = BACKOFF_START;
        while !self.stopped() {
            let connection = match first.take().unwrap_or_else(|| self.connect()) {
                Ok(connection) => connection,
                Err(why) => {
                    // A refusal (a wrong token, a voice the server lacks, another version) will not
                    // change by itself within seconds: asked again rarely, and the banner says why.
                    let wait = if matches!(why, ConnectError::Refused { .. }) { REFUSED_RETRY } else { backoff };
                    tracing::warn!(error = %why, retry_ms = wait.as_millis() as u64, "remote engine");
                    self.stats.set_problem(why.to_string());
                    self.sleep(wait);
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    continue;
                }
            };
            let connected = Instant::now();
            let why = self.pump(connection.socket);
            if self.stopped() {
                break;
            }
            tracing::warn!(error = %why, "remote engine: the stream stopped; reconnecting");
            self.stats.set_problem(why);
            // A stream that ran a while reconnects at once; one that ends as soon as it starts
            // (a server that fails on every block) backs off like a failed connect.
            if connected.elapsed() >= STABLE {
                backoff = BACKOFF_START;
            } else {
                self.sleep(backoff);
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
        self.stats.connected.store(false, Ordering::Relaxed);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn sleep(&self, wait: Duration) {
        let until = Instant::now() + wait;
        while !self.stopped() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn connect(&self) -> Result<Connection, ConnectError> {
        let hello = Hello { controls: (self.plan.controls)(), ..self.plan.hello.clone() };
        let stop = &self.stop;
        let connection = Connection::open_unless(&self.plan.endpoint, hello, CONNECT_TIMEOUT, LOAD_TIMEOUT, &|| {
            stop.load(Ordering::Relaxed)
        })?;
        self.accept(connection)
    }

    /// Check what the welcome promises against the stream's latency, and start using it.
    fn accept(&self, connection: Connection) -> Result<Connection, ConnectError> {
        let delay = connection.welcome.processor_delay as usize;
        if delay != self.plan.processor_delay {
            return Err(ConnectError::Protocol(format!(
                "the server's voice delays by {delay} samples where this stream's latency counts {}: \
                 the server runs another version",
                self.plan.processor_delay
            )));
        }
        // Blocks queued while no server was there belong to slots that have passed.
        while self.to_send.try_recv().is_ok() {}
        let round_trip = connection.round_trip.as_micros().min(u128::from(u32::MAX)) as u32;
        self.stats.set_connected(&connection.welcome.server, round_trip);
        tracing::info!(server = %connection.welcome.server, voice = %connection.welcome.voice,
            round_trip_us = round_trip, compute_us = connection.welcome.compute_us, "remote engine connected");
        Ok(connection)
    }

    /// Move frames until the connection ends; returns why it did.
    ///
    /// The socket is non-blocking. While a block's conversion is due the link looks at the socket
    /// every [`FAST_POLL`]; otherwise it sleeps on the queue of frames to send, which wakes it as
    /// soon as the inference thread hands one over. (A socket read timeout would not do: the
    /// system rounds it up to its timer tick, several milliseconds, on every block.)
    fn pump(&self, mut socket: ServerSocket) -> String {
        if let Err(e) = tcp_of(&mut socket).and_then(|tcp| tcp.set_nonblocking(true)) {
            return e.to_string();
        }
        let mut last_heard = Instant::now();
        let mut last_sent = Instant::now();
        // When the oldest block still unanswered went out.
        let mut waiting_since: Option<Instant> = None;
        loop {
            if self.stopped() {
                let _ = socket.close(None);
                let _ = socket.flush();
                return "stopped".into();
            }
            // Send what is queued.
            loop {
                let message = match self.to_send.try_recv() {
                    Ok(outgoing) => outgoing.into_message(&mut waiting_since),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return "stopped".into(),
                };
                if let Err(why) = write(&mut socket, message) {
                    return why;
                }
                last_sent = Instant::now();
            }
            if last_sent.elapsed() >= KEEPALIVE {
                if let Err(why) = write(&mut socket, Message::Ping(Vec::new().into())) {
                    return why;
                }
                last_sent = Instant::now();
            }
            if let Err(why) = flush(&mut socket) {
                return why;
            }
            // Read what came.
            loop {
                match socket.read() {
                    Ok(Message::Binary(frame)) => {
                        last_heard = Instant::now();
                        waiting_since = None;
                        match ConvertedBlock::decode(&frame) {
                            Ok(block) => match self.received.try_send(block) {
                                Ok(()) | Err(TrySendError::Full(_)) => {}
                                Err(TrySendError::Disconnected(_)) => return "stopped".into(),
                            },
                            Err(e) => return format!("the server sent {e}"),
                        }
                    }
                    Ok(Message::Text(text)) => {
                        return match ServerMessage::parse(text.as_str()) {
                            Ok(ServerMessage::Error { message }) => {
                                format!("the server stopped the stream: {message}")
                            }
                            Ok(_) => "the server sent a message out of turn".into(),
                            Err(e) => format!("the server sent {e}"),
                        };
                    }
                    Ok(Message::Close(_)) => return "the server closed the stream".into(),
                    Ok(_) => last_heard = Instant::now(),
                    Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return format!("the connection broke: {e}"),
                }
            }
            if waiting_since
                .is_some_and(|since| since.elapsed() > SILENCE_LIMIT && last_heard.elapsed() > SILENCE_LIMIT)
            {
                return format!("the server answered nothing for {} s", SILENCE_LIMIT.as_secs());
            }
            // Wait for the next thing to do.
            if waiting_since.is_some() {
                std::thread::sleep(FAST_POLL);
            } else {
                match self.to_send.recv_timeout(IDLE_POLL) {
                    Ok(outgoing) => {
                        let message = outgoing.into_message(&mut waiting_since);
                        if let Err(why) = write(&mut socket, message) {
                            return why;
                        }
                        last_sent = Instant::now();
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return "stopped".into(),
                }
            }
        }
    }
}

impl Outgoing {
    fn into_message(self, waiting_since: &mut Option<Instant>) -> Message {
        match self {
            Self::Frame(frame) => {
                waiting_since.get_or_insert_with(Instant::now);
                Message::binary(frame)
            }
            Self::Text(text) => Message::text(text),
        }
    }
}

/// Queue `message` on the non-blocking socket: what the socket cannot take now stays in the
/// WebSocket's write buffer (bounded, see [`super::connection`]) until a later flush.
fn write(socket: &mut ServerSocket, message: Message) -> Result<(), String> {
    match socket.write(message) {
        Ok(()) => Ok(()),
        Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(()),
        Err(e) => Err(format!("the connection broke: {e}")),
    }
}

fn flush(socket: &mut ServerSocket) -> Result<(), String> {
    match socket.flush() {
        Ok(()) => Ok(()),
        Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(()),
        Err(e) => Err(format!("the connection broke: {e}")),
    }
}
