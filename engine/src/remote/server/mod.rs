//! `rvc-live serve`: the remote engine's server (`docs/remote.md`). Each WebSocket connection is
//! one stream converting with a voice of the server's library; `GET /health` tells monitors and
//! load balancers how it is doing. tokio and axum carry the network; every stream converts on a
//! thread of its own (`stream_worker`), since ONNX Runtime blocks.

mod connection;
mod health;
mod served_voices;
mod stream_worker;
mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{State, WebSocketUpgrade};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;
use parking_lot::Mutex;

use super::{HEALTH_PATH, MAX_FRAME_BYTES, STREAM_PATH};
use served_voices::ServedVoices;
pub use tls::TlsFiles;

/// How a server runs: what it serves, where, to whom and how much.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The voice library folder (the editor's library layout).
    pub library: PathBuf,
    pub listen: SocketAddr,
    /// Serve `wss://` and HTTPS with this certificate instead of plain `ws://` and HTTP.
    pub tls: Option<TlsFiles>,
    /// Required from every client when set; a server listening beyond loopback must have one.
    pub token: Option<String>,
    /// Streams converting at once; more are refused as busy.
    pub max_streams: usize,
    /// A connection that sends nothing for this long is closed.
    pub idle: Duration,
    /// ONNX Runtime threads per model of each stream.
    pub threads: usize,
    /// Whether streams whose voices use the same content encoder and pitch model share one copy
    /// (less memory; the streams take turns on it, which suits a GPU) or each load their own
    /// (more memory; streams convert in parallel on a CPU's cores).
    pub share_models: bool,
}

impl ServeOptions {
    /// What must hold before anything listens: a token beyond loopback.
    pub fn check(&self) -> Result<(), String> {
        if !self.listen.ip().is_loopback() && self.token.as_deref().is_none_or(str::is_empty) {
            return Err(format!(
                "listening on {} reaches other machines: give a token (--token or RVC_LIVE_SERVER_TOKEN)",
                self.listen
            ));
        }
        if self.max_streams == 0 {
            return Err("--max-streams must be at least 1".into());
        }
        Ok(())
    }
}

/// What every connection shares.
struct Server {
    options: ServeOptions,
    voices: ServedVoices,
    /// The streams converting, by id: their voice and their load. Locked briefly by connection
    /// tasks (register, unregister) and by `/health`.
    streams: Mutex<HashMap<u64, ServedStream>>,
    next_id: AtomicU64,
    /// WebSocket connections open or being upgraded. Counted by the stream handler.
    connections: AtomicUsize,
    /// Set by the shutdown signal: `/health` fails (a balancer drains the server), new streams
    /// are refused, and running ones are told and closed. Read by connection tasks.
    stopping: AtomicBool,
    /// Wakes connection tasks when `stopping` is set.
    stop: tokio::sync::watch::Sender<bool>,
    /// Voices loading at once: loading takes a core for a while, and streams converting meanwhile
    /// need the others. Taken by connection tasks, released by the loading thread when it ends.
    loads: Arc<tokio::sync::Semaphore>,
    started: Instant,
}

struct ServedStream {
    voice: String,
    load: Arc<AtomicU32>,
}

impl Server {
    /// Reserve a stream slot, or `None` at the cap.
    fn register(&self, voice: &str, load: Arc<AtomicU32>) -> Option<u64> {
        let mut streams = self.streams.lock();
        if streams.len() >= self.options.max_streams {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        streams.insert(id, ServedStream { voice: voice.to_owned(), load });
        Some(id)
    }

    fn unregister(&self, id: u64) {
        self.streams.lock().remove(&id);
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }
}

/// Serve until SIGTERM or Ctrl-C. Prints `listening on ADDRESS` (the bound address, so port 0
/// works) on stdout once connections are accepted.
pub fn run(options: ServeOptions) -> Result<(), String> {
    options.check()?;
    let voices = ServedVoices::open(&options.library)?;
    for problem in voices.problems() {
        tracing::warn!(problem = %problem, "voice library");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("rvc-live-serve")
        .build()
        .map_err(|e| format!("cannot start the server's runtime: {e}"))?;
    runtime.block_on(serve(options, voices))
}

async fn serve(options: ServeOptions, voices: ServedVoices) -> Result<(), String> {
    let tls = options.tls.as_ref().map(tls::server_config).transpose()?;
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let names = voices.names();
    let (stop, _) = tokio::sync::watch::channel(false);
    let server = Arc::new(Server {
        options,
        voices,
        streams: Mutex::default(),
        next_id: AtomicU64::new(0),
        connections: AtomicUsize::new(0),
        stopping: AtomicBool::new(false),
        stop,
        loads: Arc::new(tokio::sync::Semaphore::new(
            (std::thread::available_parallelism().map_or(1, usize::from) / 2).max(1),
        )),
        started: Instant::now(),
    });
    let app = Router::new()
        .route(STREAM_PATH, get(stream))
        .route(HEALTH_PATH, get(health::report))
        .with_state(server.clone());
    tracing::info!(
        %address,
        voices = names.len(),
        token = server.options.token.is_some(),
        tls = tls.is_some(),
        "serving"
    );
    println!("listening on {address}");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    // Converted blocks go out as they are ready: Nagle's algorithm would hold each back waiting
    // for the client's acknowledgement of the one before.
    let no_delay = |tcp: &tokio::net::TcpStream| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    };
    match tls {
        None => serve_on(listener.tap_io(move |tcp| no_delay(tcp)), app, server.clone()).await?,
        Some(config) => {
            let listener = tls_listener::builder(tokio_rustls::TlsAcceptor::from(config))
                .handshake_timeout(tls::HANDSHAKE_TIMEOUT)
                .listen(listener)
                .tap_io(move |tls| no_delay(tls.get_ref().0));
            serve_on(listener, app, server.clone()).await?
        }
    }
    // Upgraded connections outlive the listener: give their tasks a moment to say goodbye.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.streams.lock().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Connections beyond the streams' cap, for clients saying hello (or being refused): each may
/// hold a frame of up to `MAX_FRAME_BYTES` before its token is checked, so their number is what
/// bounds a stranger's use of the server's memory.
const HANDSHAKING: usize = 32;

async fn stream(upgrade: WebSocketUpgrade, State(server): State<Arc<Server>>) -> axum::response::Response {
    let open = server.connections.fetch_add(1, Ordering::Relaxed);
    let counted = Counted(server.clone());
    if open >= server.options.max_streams + HANDSHAKING {
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    }
    upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            connection::run(socket, server).await;
            drop(counted);
        })
        .into_response()
}

/// One open connection, counted while it lives.
struct Counted(Arc<Server>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serve `app` on `listener` until the shutdown signal.
async fn serve_on<L>(listener: L, app: Router, server: Arc<Server>) -> Result<(), String>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            tracing::info!("stopping: telling every stream, refusing new ones");
            server.stopping.store(true, Ordering::Relaxed);
            let _ = server.stop.send(true);
        })
        .await
        .map_err(|e| format!("the server stopped: {e}"))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
