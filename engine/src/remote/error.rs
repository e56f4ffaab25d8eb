//! Why a peer's message was refused, in words the other end can show.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// The frame is larger than [`super::MAX_FRAME_BYTES`].
    TooLarge { bytes: usize, max: usize },
    /// The frame ends before its header or its samples do, or goes on after them.
    WrongLength { expected: usize, got: usize },
    /// The first byte names no frame of this protocol.
    UnknownKind(u8),
    /// A block of more samples than [`super::MAX_BLOCK_SAMPLES`], or of none.
    BadBlockSize { samples: usize, max: usize },
    /// A sample is NaN or infinite, or a weight lies outside 0..=1.
    BadSample { index: usize },
    /// A text message that is not the JSON this protocol defines.
    BadText(String),
    /// The peer speaks another version of the protocol.
    Version { ours: u16, theirs: u16 },
    /// A voice name that could name something outside the server's library.
    BadVoiceName(String),
    /// A sample rate or block size outside what the engine converts.
    BadStream(String),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { bytes, max } => write!(f, "a frame of {bytes} bytes (at most {max})"),
            Self::WrongLength { expected, got } => write!(f, "a frame of {got} bytes where its header says {expected}"),
            Self::UnknownKind(kind) => write!(f, "a frame of unknown kind {kind}"),
            Self::BadBlockSize { samples, max } => write!(f, "a block of {samples} samples (1 to {max})"),
            Self::BadSample { index } => write!(f, "sample {index} is not finite (or a weight outside 0..1)"),
            Self::BadText(why) => write!(f, "a message that is not this protocol's: {why}"),
            Self::Version { ours, theirs } => {
                write!(f, "protocol version {theirs}, where this end speaks version {ours}")
            }
            Self::BadVoiceName(name) => {
                write!(f, "the voice name {name:?} is not a plain name from the server's library")
            }
            Self::BadStream(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ProtocolError {}
