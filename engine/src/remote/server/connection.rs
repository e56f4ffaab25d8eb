//! One connection: the handshake, then blocks in and converted blocks out until either end stops.
//! Whatever the peer sends is checked before anything acts on it; a peer that breaks the protocol
//! is told why and closed, and no other stream notices.

use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use parking_lot::Mutex;
use tokio::time::timeout;

use super::Server;
use super::stream_worker::{StreamWorker, WorkerInput, WorkerOutput};
use crate::remote::{
    AudioBlock, ClientMessage, Hello, PROTOCOL_VERSION, Refusal, RemoteControls, ServerMessage, Welcome,
};
use crate::rvc_processor::{ControlSource, RvcProcessor, UNCONVERTED_BLOCK};
use crate::stream::{BlockProcessor, StreamGeometry};

/// How long a client has to say hello.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a frame may wait to be sent to a client that does not read before the stream closes.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// The fastest a stream may send blocks, in real time: a file converted through the server goes
/// this fast, and a client that floods gets no more of the server's time than that.
const MAX_SPEED: f64 = 4.0;
/// Blocks a stream may send ahead of [`MAX_SPEED`] (a network that delivers in bursts).
const BURST_BLOCKS: f64 = 8.0;

pub(super) async fn run(mut socket: WebSocket, server: Arc<Server>) {
    let hello = match handshake(&mut socket, &server).await {
        Ok(hello) => hello,
        Err((reason, message)) => {
            tracing::info!(?reason, why = %message, "refused a stream");
            say(&mut socket, ServerMessage::Refused { reason, message }).await;
            return;
        }
    };
    let voice = hello.voice.clone();
    let load = Arc::new(AtomicU32::new(0));
    let Some(id) = server.register(&voice, load.clone()) else {
        let message = format!("the server is converting its maximum of {} streams", server.options.max_streams);
        tracing::info!(reason = "busy", why = %message, "refused a stream");
        say(&mut socket, ServerMessage::Refused { reason: Refusal::Busy, message }).await;
        return;
    };
    let _registered = Registered(server.clone(), id);
    tracing::info!(stream = id, %voice, rate = hello.sample_rate, block = hello.block, "stream starting");
    match converse(&mut socket, &server, hello, load).await {
        Ok(()) => tracing::info!(stream = id, %voice, "stream ended"),
        Err(message) => {
            tracing::info!(stream = id, %voice, why = %message, "stream stopped");
            say(&mut socket, ServerMessage::Error { message }).await;
        }
    }
}

/// Unregisters the stream however its task ends.
struct Registered(Arc<Server>, u64);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.unregister(self.1);
    }
}

async fn say(socket: &mut WebSocket, message: ServerMessage) {
    let _ = timeout(SEND_TIMEOUT, socket.send(Message::Text(message.to_text().into()))).await;
    let _ = timeout(SEND_TIMEOUT, socket.send(Message::Close(None))).await;
}

/// Read and check the client's hello. The token is checked before anything else is, so a stranger
/// gets no stream and no answer about the voices beyond what `/health` (public, for balancers)
/// lists.
async fn handshake(socket: &mut WebSocket, server: &Server) -> Result<Hello, (Refusal, String)> {
    if server.is_stopping() {
        return Err((Refusal::Busy, "the server is stopping".into()));
    }
    let bad = |message: String| (Refusal::BadRequest, message);
    let text = match timeout(HANDSHAKE_TIMEOUT, socket.recv()).await {
        Ok(Some(Ok(Message::Text(text)))) => text,
        Ok(Some(Ok(_))) => return Err(bad("the first message must be the client's hello".into())),
        Ok(None | Some(Err(_))) => return Err(bad("the connection ended before the hello".into())),
        Err(_) => return Err(bad(format!("no hello within {} s", HANDSHAKE_TIMEOUT.as_secs()))),
    };
    let hello = match ClientMessage::parse(text.as_str()) {
        Ok(ClientMessage::Hello(hello)) => hello,
        Ok(_) => return Err(bad("the first message must be the client's hello".into())),
        Err(e) => return Err(bad(e.to_string())),
    };
    if hello.protocol != PROTOCOL_VERSION {
        return Err((
            Refusal::Version,
            format!(
                "the server speaks protocol version {PROTOCOL_VERSION} and this client version {}: update the older one",
                hello.protocol
            ),
        ));
    }
    if let Some(token) = &server.options.token
        && !same_secret(token, hello.token.as_deref().unwrap_or(""))
    {
        return Err((Refusal::Token, "the server refused the token: check the token you were given".into()));
    }
    hello.check().map_err(|e| bad(e.to_string()))?;
    if server.voices.find(&hello.voice).is_none() {
        return Err((
            Refusal::UnknownVoice,
            format!("the server has no voice named {:?}; it has: {}", hello.voice, server.voices.names().join(", ")),
        ));
    }
    Ok(hello)
}

/// Compare secrets in time that does not depend on where they differ.
fn same_secret(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    let mut differ = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        differ |= usize::from(x ^ b.get(i).copied().unwrap_or(0));
    }
    differ == 0
}

/// Load the voice, welcome the client and convert its blocks until the stream ends.
async fn converse(
    socket: &mut WebSocket,
    server: &Arc<Server>,
    hello: Hello,
    load: Arc<AtomicU32>,
) -> Result<(), String> {
    let settings = hello.settings.clamped();
    let geometry = RvcProcessor::stream_geometry(&settings, hello.sample_rate as f32, 1);
    if geometry.block != hello.block as usize {
        return Err(format!(
            "a block of {} samples where these settings make {} at {} Hz",
            hello.block, geometry.block, hello.sample_rate
        ));
    }
    let controls = Arc::new(Mutex::new(hello.controls.clamped()));
    // Subscribed before the load, so a stop signalled while it runs is seen after it.
    let mut stop = server.stop.subscribe();
    // A client that leaves while its voice loads frees its place at once (the load finishes on
    // its thread and is dropped); the hello was its only message until the welcome.
    let (processor, compute) = tokio::select! {
        loaded = load_voice(server, &hello, geometry, controls.clone()) => loaded?,
        _ = socket.recv() => return Ok(()),
    };
    if *stop.borrow() {
        return Err("the server is shutting down".into());
    }
    let welcome = Welcome {
        protocol: PROTOCOL_VERSION,
        voice: hello.voice.clone(),
        block: hello.block,
        processor_delay: processor.delay() as u32,
        compute_us: compute.as_micros().min(u128::from(u32::MAX)) as u32,
        server: format!("rvc-live {}", env!("CARGO_PKG_VERSION")),
    };
    let (results, mut converted) = tokio::sync::mpsc::channel(2);
    let worker = StreamWorker::spawn(processor, geometry, load, results)
        .map_err(|e| format!("the server cannot start a stream: {e}"))?;
    send(socket, Message::Text(ServerMessage::Welcome(welcome).to_text().into())).await?;

    let idle = server.options.idle;
    let mut pace = Pace::new(geometry.block as f64 / f64::from(geometry.sample_rate));
    loop {
        tokio::select! {
            incoming = timeout(idle, socket.recv()) => match incoming {
                Err(_) => return Err(format!("nothing came for {} s", idle.as_secs())),
                Ok(None | Some(Err(_))) => return Ok(()),
                Ok(Some(Ok(message))) => {
                    if !take(message, &worker, &controls, &geometry, &mut pace).await? {
                        return Ok(());
                    }
                }
            },
            produced = converted.recv() => match produced {
                Some(WorkerOutput::Frame(frame)) => send(socket, Message::Binary(frame.into())).await?,
                Some(WorkerOutput::Stopped(message)) => return Err(message),
                None => return Err("the stream's converting thread ended".into()),
            },
            _ = stop.changed() => return Err("the server is shutting down".into()),
        }
    }
}

/// Load the voice on a blocking thread and time one block of it.
async fn load_voice(
    server: &Arc<Server>,
    hello: &Hello,
    geometry: StreamGeometry,
    controls: Arc<Mutex<RemoteControls>>,
) -> Result<(RvcProcessor, Duration), String> {
    let voice = server.voices.find(&hello.voice).ok_or("the voice left the server's library")?;
    // Held by the loading thread until it ends, not by this task: a client that leaves mid-load
    // drops this future, but the load runs on, and must go on counting against the cap.
    let loading = server.loads.clone().acquire_owned().await.map_err(|_| "the server is stopping".to_owned())?;
    let (server, settings) = (server.clone(), hello.settings.clamped());
    let source: ControlSource = {
        let controls = controls.clone();
        Arc::new(move || *controls.lock())
    };
    tokio::task::spawn_blocking(move || {
        let mut processor = server.voices.load(
            &voice,
            &geometry,
            &settings,
            source,
            server.options.threads,
            server.options.share_models,
        )?;
        let compute = processor.time_block(&geometry).unwrap_or(UNCONVERTED_BLOCK);
        drop(loading);
        Ok((processor, compute))
    })
    .await
    .map_err(|e| format!("the server's voice loader failed: {e}"))?
}

async fn send(socket: &mut WebSocket, message: Message) -> Result<(), String> {
    match timeout(SEND_TIMEOUT, socket.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("cannot send: {e}")),
        Err(_) => Err(format!("the client read nothing for {} s", SEND_TIMEOUT.as_secs())),
    }
}

/// Act on one message of a streaming client. False when the client closed; an error for a
/// message that breaks the protocol.
async fn take(
    message: Message,
    worker: &StreamWorker,
    controls: &Mutex<RemoteControls>,
    geometry: &StreamGeometry,
    pace: &mut Pace,
) -> Result<bool, String> {
    match message {
        Message::Binary(frame) => {
            let block = AudioBlock::decode(&frame).map_err(|e| format!("refused {e}"))?;
            if block.samples.len() != geometry.block {
                return Err(format!(
                    "a block of {} samples where the stream's block is {}",
                    block.samples.len(),
                    geometry.block
                ));
            }
            // A block ahead of the pace waits, and so does the client: the connection reads
            // nothing meanwhile, and TCP's flow control slows a client that floods down to the
            // pace. A full queue means the server is behind: the block is dropped and the client
            // plays it dry, as it does any block that does not come back in time.
            let wait = pace.wait();
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            worker.offer(WorkerInput::Block(block));
        }
        Message::Text(text) => match ClientMessage::parse(text.as_str()).map_err(|e| format!("refused {e}"))? {
            ClientMessage::Controls(new) => *controls.lock() = new.clamped(),
            ClientMessage::Reset => {
                worker.offer(WorkerInput::Reset);
            }
            ClientMessage::Hello(_) => return Err("a second hello on a running stream".into()),
        },
        Message::Close(_) => return Ok(false),
        Message::Ping(_) | Message::Pong(_) => {}
    }
    Ok(true)
}

/// Holds a stream to [`MAX_SPEED`] times real time, with a burst of [`BURST_BLOCKS`].
struct Pace {
    started: std::time::Instant,
    block_seconds: f64,
    admitted: f64,
}

impl Pace {
    fn new(block_seconds: f64) -> Self {
        Self { started: std::time::Instant::now(), block_seconds, admitted: 0.0 }
    }

    /// How long the next block must wait to keep the pace; counts it as admitted.
    fn wait(&mut self) -> Duration {
        // A pause earns no credit beyond the burst: what a client did not send while silent it
        // cannot send all at once afterwards.
        let earned = self.started.elapsed().as_secs_f64() * MAX_SPEED / self.block_seconds;
        self.admitted = self.admitted.max(earned - BURST_BLOCKS);
        // Block `admitted` may start once the clock has run its share, less the burst.
        let due = (self.admitted - BURST_BLOCKS).max(0.0) * self.block_seconds / MAX_SPEED;
        self.admitted += 1.0;
        Duration::from_secs_f64(due).saturating_sub(self.started.elapsed())
    }
}
