//! The remote engine's wire protocol (`docs/remote.md`): how a plugin or the command-line tool
//! and `rvc-live serve` talk over a WebSocket. This module holds the messages, their checks and
//! the sequence bookkeeping, with no network in it, so both ends share one definition and every
//! frame a peer sends is checked before anything acts on it.

mod error;
mod frames;
mod handshake;
mod sequence;

pub use error::ProtocolError;
pub use frames::{AudioBlock, ConvertedBlock, MAX_BLOCK_SAMPLES, MAX_FRAME_BYTES};
pub use handshake::{
    ClientMessage, Hello, PROTOCOL_VERSION, Refusal, RemoteControls, ServerMessage, Welcome, check_voice_name,
};
pub use sequence::{Arrival, SequenceTracker};
