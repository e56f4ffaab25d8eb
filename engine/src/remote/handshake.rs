//! The text messages: JSON, tagged by `"type"`. A client opens with `hello` and may send
//! `controls` whenever the user moves one; the server answers `welcome` or `refused`, and says
//! `error` when a stream stops.

use serde::{Deserialize, Serialize};

use super::error::ProtocolError;
use super::frames::MAX_BLOCK_SAMPLES;
use crate::rvc_processor::ConversionControls;
use crate::stream::StreamSettings;

/// This protocol's version; a peer with another is refused with both numbers.
pub const PROTOCOL_VERSION: u16 = 1;
/// The longest text message either end accepts.
const MAX_TEXT_BYTES: usize = 64 * 1024;
/// The longest voice name.
const MAX_VOICE_NAME: usize = 128;
/// The rates the engine converts at.
const RATES: std::ops::RangeInclusive<u32> = 8_000..=192_000;

/// What the conversion reads each block, as the client's user sets it.
pub type RemoteControls = ConversionControls;

/// The client's first message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u16,
    /// Required by a server listening beyond loopback.
    pub token: Option<String>,
    /// A voice of the server's library, by name: never a path.
    pub voice: String,
    /// The stream's rate and block, in samples at that rate.
    pub sample_rate: u32,
    pub block: u32,
    pub settings: StreamSettings,
    pub controls: RemoteControls,
}

/// The server's yes: the stream is set up, and delays by `processor_delay` samples on top of a
/// block (as a local processor does; the client adds its network budget to the latency).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    pub protocol: u16,
    pub voice: String,
    pub block: u32,
    pub processor_delay: u32,
    /// What one block of this stream took the server to convert when the voice loaded (µs): the
    /// client's network budget starts from it.
    pub compute_us: u32,
    /// The server's name and version, for the log.
    pub server: String,
}

/// Why a server turned a stream down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    Token,
    Version,
    UnknownVoice,
    BadRequest,
    Busy,
}

/// What a client says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Hello(Hello),
    Controls(RemoteControls),
    /// The client's stream restarted (a transport jump): the server forgets the stream's input and
    /// its processor's state, as a local processor's `reset` does. Block numbers go on.
    Reset,
}

/// What a server says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Welcome(Welcome),
    Refused { reason: Refusal, message: String },
    Error { message: String },
}

fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, ProtocolError> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(ProtocolError::TooLarge { bytes: text.len(), max: MAX_TEXT_BYTES });
    }
    serde_json::from_str(text).map_err(|e| ProtocolError::BadText(e.to_string()))
}

impl ClientMessage {
    pub fn parse(text: &str) -> Result<Self, ProtocolError> {
        parse(text)
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("the protocol's messages serialise")
    }
}

impl ServerMessage {
    pub fn parse(text: &str) -> Result<Self, ProtocolError> {
        parse(text)
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("the protocol's messages serialise")
    }
}

impl Hello {
    /// Everything a server checks before it looks anything up: the version, the voice name, the
    /// rate and the block. The token and the voice's existence are the server's to check.
    pub fn check(&self) -> Result<(), ProtocolError> {
        if self.protocol != PROTOCOL_VERSION {
            return Err(ProtocolError::Version { ours: PROTOCOL_VERSION, theirs: self.protocol });
        }
        check_voice_name(&self.voice)?;
        if !RATES.contains(&self.sample_rate) {
            return Err(ProtocolError::BadStream(format!(
                "a sample rate of {} Hz ({} to {} Hz)",
                self.sample_rate,
                RATES.start(),
                RATES.end()
            )));
        }
        if self.block == 0 || self.block as usize > MAX_BLOCK_SAMPLES {
            return Err(ProtocolError::BadStream(format!(
                "a block of {} samples (1 to {MAX_BLOCK_SAMPLES})",
                self.block
            )));
        }
        Ok(())
    }
}

/// A voice name is a plain name of the server's library: no separator, no `..`, no control
/// characters, not hidden, not empty, not overlong. The server looks it up in its list and never
/// joins it to a path, so this is the second of two locks.
pub fn check_voice_name(name: &str) -> Result<(), ProtocolError> {
    let plain = !name.is_empty()
        && name.chars().count() <= MAX_VOICE_NAME
        && !name.starts_with('.')
        && !name.contains("..")
        && !name.chars().any(|c| c == '/' || c == '\\' || c == ':' || c.is_control());
    if plain { Ok(()) } else { Err(ProtocolError::BadVoiceName(name.chars().take(MAX_VOICE_NAME).collect())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> Hello {
        Hello {
            protocol: PROTOCOL_VERSION,
            token: Some("s3cret".into()),
            voice: "Alto (v2)".into(),
            sample_rate: 48_000,
            block: 5_760,
            settings: StreamSettings::default(),
            controls: RemoteControls { semitones: 5.0, ..Default::default() },
        }
    }

    #[test]
    fn messages_round_trip_as_tagged_json() {
        let message = ClientMessage::Hello(hello());
        let text = message.to_text();
        assert!(text.starts_with(r#"{"type":"hello""#), "{text}");
        assert_eq!(ClientMessage::parse(&text), Ok(message));
        let refused = ServerMessage::Refused { reason: Refusal::Token, message: "wrong token".into() };
        assert_eq!(ServerMessage::parse(&refused.to_text()), Ok(refused));
        assert!(hello().check().is_ok());
    }

    #[test]
    fn a_hello_is_checked_before_anything_is_looked_up() {
        let version = Hello { protocol: 2, ..hello() };
        assert_eq!(version.check(), Err(ProtocolError::Version { ours: PROTOCOL_VERSION, theirs: 2 }));
        for name in ["", "../alto", "alto/../../etc", "/etc/passwd", "C:\\voices\\a", ".hidden", "a\0b", "x..y"] {
            let bad = Hello { voice: name.into(), ..hello() };
            assert!(matches!(bad.check(), Err(ProtocolError::BadVoiceName(_))), "{name:?}");
        }
        assert!(check_voice_name(&"a".repeat(MAX_VOICE_NAME + 1)).is_err());
        assert!(Hello { sample_rate: 4_000, ..hello() }.check().is_err());
        assert!(Hello { block: 0, ..hello() }.check().is_err());
        assert!(ClientMessage::parse(r#"{"type":"hello"}"#).is_err());
        assert!(ClientMessage::parse(&"x".repeat(MAX_TEXT_BYTES + 1)).is_err());
    }
}
