//! The remote engine (`docs/remote.md`): a plugin or the command-line tool converting through
//! `rvc-live serve` on another machine over a WebSocket. The messages, their checks and the
//! sequence bookkeeping are shared by both ends, so there is one definition and every frame a peer
//! sends is checked before anything acts on it; `client` is the front ends' side (a
//! `BlockProcessor` whose network runs on its own thread), `server` the server's.

pub mod client;
mod error;
mod frames;
mod handshake;
mod sequence;
#[cfg(feature = "serve")]
pub mod server;

pub use error::ProtocolError;
pub use frames::{AudioBlock, ConvertedBlock, MAX_BLOCK_SAMPLES, MAX_FRAME_BYTES};
pub use handshake::{
    ClientMessage, Hello, PROTOCOL_VERSION, Refusal, RemoteControls, ServerMessage, Welcome, check_voice_name,
};
pub use sequence::{Arrival, SequenceTracker};

/// Where a server serves its WebSocket streams.
pub const STREAM_PATH: &str = "/stream";
/// Where a server serves its health report.
pub const HEALTH_PATH: &str = "/health";
/// The port `rvc-live serve` listens on, and clients connect to, unless told otherwise.
pub const DEFAULT_PORT: u16 = 7865;
