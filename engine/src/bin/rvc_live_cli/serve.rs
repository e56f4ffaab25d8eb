//! `rvc-live serve`: the remote engine's server on the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use rvc_live_engine::remote::DEFAULT_PORT;
use rvc_live_engine::remote::server::{self, ServeOptions};

#[derive(Args)]
pub struct ServeArgs {
    /// The voice library folder whose voices clients ask for by name (the editor's library: voices
    /// with their indexes and sidecars, the shared content encoders and pitch models).
    #[arg(long)]
    library: PathBuf,
    /// Address and port to listen on. Anything but loopback needs a token.
    #[arg(long, default_value_t = SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)))]
    listen: SocketAddr,
    /// Serve `wss://` and HTTPS with this certificate (PEM: the server's certificate, then any
    /// intermediates). Needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The token every client must send. Prefer the environment variable to the command line,
    /// which other users of the machine can read.
    #[arg(long, env = "RVC_LIVE_SERVER_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Streams converting at once; more are refused as busy and `/health` reports full.
    #[arg(long, default_value_t = 8)]
    max_streams: usize,
    /// Close a connection that sends nothing for this many seconds.
    #[arg(long, default_value_t = 30)]
    idle_s: u64,
    /// ONNX Runtime threads per model of each stream.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Give every stream its own content encoder and pitch model instead of sharing one copy
    /// between the streams that use it: more memory (a ContentVec is ~360 MB), but streams convert
    /// in parallel on a CPU's cores instead of taking turns.
    #[arg(long)]
    separate_models: bool,
    /// How the log on stderr is written.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

pub fn run(args: ServeArgs) -> Result<(), String> {
    let subscriber = tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false);
    let installed = match args.log {
        LogFormat::Text => tracing::subscriber::set_global_default(subscriber.with_ansi(false).finish()),
        LogFormat::Json => tracing::subscriber::set_global_default(subscriber.json().finish()),
    };
    installed.map_err(|e| e.to_string())?;
    server::run(ServeOptions {
        library: args.library,
        listen: args.listen,
        tls: args.tls_cert.zip(args.tls_key).map(|(certificate, key)| server::TlsFiles { certificate, key }),
        token: args.token.filter(|t| !t.is_empty()),
        max_streams: args.max_streams,
        idle: Duration::from_secs(args.idle_s.max(1)),
        threads: args.threads.max(1),
        share_models: !args.separate_models,
    })
}
