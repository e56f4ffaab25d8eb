//! Why text could not be spoken, in words a user can act on.

use std::fmt;
use std::path::PathBuf;

use crate::model_error::{BadValues, ModelError};

/// Everything that can stop text from becoming speech.
#[derive(Debug, Clone, PartialEq)]
pub enum TtsError {
    /// The text is empty or only white space.
    EmptyText,
    /// The text is longer than [`MAX_TEXT_CHARS`](super::MAX_TEXT_CHARS).
    TextTooLong { chars: usize, max: usize },
    /// espeak-ng found nothing it can pronounce (an emoji it has no name for, punctuation alone).
    NothingToSay { text: String },
    /// The `espeak-ng` program is not installed (or not on the `PATH`).
    EspeakMissing { program: PathBuf },
    /// espeak-ng ran but failed, or does not have the voice's language.
    EspeakFailed { voice: String, why: String },
    /// The voice's config (`X.onnx.json`) is missing or not a Piper config.
    Config { path: PathBuf, why: String },
    /// The voice's model could not be opened, or is not a Piper voice.
    Model(ModelError),
    /// The voice model failed on a chunk of text.
    Inference(String),
    /// The voice model produced audio that cannot be played: NaN or infinite samples.
    BadAudio(BadValues),
}

impl fmt::Display for TtsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyText => f.write_str("there is no text to say"),
            Self::TextTooLong { chars, max } => write!(
                f,
                "the text is {chars} characters long; at most {max} are spoken at once (split it into several files)"
            ),
            Self::NothingToSay { text } => {
                write!(f, "espeak-ng finds nothing it can pronounce in {text:?} (the voice would be silent)")
            }
            Self::EspeakMissing { program } => write!(
                f,
                "{} is not installed: the text is turned into phonemes with espeak-ng (on Debian/Ubuntu: \
                 `apt-get install espeak-ng`; elsewhere install the `espeak-ng` package)",
                program.display()
            ),
            Self::EspeakFailed { voice, why } => write!(f, "espeak-ng failed with the voice {voice:?}: {why}"),
            Self::Config { path, why } => write!(f, "{}: {why}", path.display()),
            Self::Model(e) => e.fmt(f),
            Self::Inference(why) => write!(f, "the speech voice failed: {why}"),
            Self::BadAudio(values) => write!(f, "the speech voice produced {values}"),
        }
    }
}

impl std::error::Error for TtsError {}

impl From<ModelError> for TtsError {
    fn from(e: ModelError) -> Self {
        Self::Model(e)
    }
}
