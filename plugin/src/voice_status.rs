//! What became of the voice the user picked, for the editor's banner and the log.

use parking_lot::Mutex;

/// Where the voice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiceState {
    /// No voice model is chosen: the input plays through, delayed by the latency.
    NoVoice,
    /// A voice is being loaded; the previous one (or the dry input) keeps playing.
    Loading,
    /// The voice converts.
    Loaded,
    /// The chosen voice could not be loaded; the message says why. What played before keeps
    /// playing.
    Failed,
}

/// The state and a sentence for the user. Written by the main thread (activation) and the voice
/// loader thread, read by the editor and tests; never touched by the audio thread, so a lock is
/// fine here.
pub struct VoiceStatus {
    current: Mutex<(VoiceState, String)>,
}

impl Default for VoiceStatus {
    fn default() -> Self {
        Self { current: Mutex::new((VoiceState::NoVoice, String::from("No voice chosen"))) }
    }
}

impl VoiceStatus {
    pub fn set(&self, state: VoiceState, message: impl Into<String>) {
        *self.current.lock() = (state, message.into());
    }

    pub fn state(&self) -> VoiceState {
        self.current.lock().0
    }

    pub fn message(&self) -> String {
        self.current.lock().1.clone()
    }
}
