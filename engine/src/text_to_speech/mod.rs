//! Text to speech with a Piper voice, for feeding the engine speech without a microphone.
//!
//! Text is split into sentences, turned into IPA by espeak-ng (the `espeak-ng` program, as Piper
//! voices were trained on its phonemes), framed into the voice's phoneme ids, and spoken by the
//! voice's VITS model with ONNX Runtime, one utterance of at most [`MAX_UTTERANCE_IDS`] ids at a
//! time. Text longer than [`MAX_TEXT_CHARS`] is refused; so is text in which espeak-ng finds
//! nothing to pronounce (an emoji it has no name for, punctuation alone). Scripts espeak-ng does
//! not read in the voice's language are spelt by it (`"Japanese letter"`), as espeak-ng does.

mod error;
mod phoneme_ids;
mod phonemizer;
mod piper_voice;
mod speech;
mod speech_feed;
mod utterances;

pub use error::TtsError;
pub use phoneme_ids::PhonemeIdMap;
pub use phonemizer::{ESPEAK_ENV, Phonemizer};
pub use piper_voice::{AudioConfig, EspeakConfig, InferenceConfig, PiperConfig, PiperVoice, Scales};
pub use speech::{MAX_TEXT_CHARS, MAX_UTTERANCE_IDS, TextToSpeech, Utterances};
pub use speech_feed::{SpeechPlayback, SpeechRequests, SpeechState, SpeechThread};
pub use utterances::{sentences, utterances};
