//! What became of the voice the user picked, for the editor's banner and the log.

use std::path::PathBuf;

use parking_lot::Mutex;

use rvc_live_engine::synthesizer_format::SynthesizerFormat;

use crate::voice::VOICE_SLOTS;

/// Where the voice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiceState {
    /// No voice model is chosen: the input plays through, delayed by the latency.
    NoVoice,
    /// A voice is being loaded; the previous one (or the dry input) keeps playing.
    Loading,
    /// The voice converts.
    Loaded,
    /// The voice converts, but without the index chosen for it (the message says why).
    LoadedWithoutIndex,
    /// The chosen voice could not be loaded; the message says why. What played before keeps
    /// playing.
    Failed,
}

/// The state and a sentence for the user. Written by the main thread (activation) and the voice
/// loader thread, read by the editor and tests; never touched by the audio thread, so a lock is
/// fine here.
pub struct VoiceStatus {
    current: Mutex<(VoiceState, String)>,
    /// The voice that converts now, for the editor. A failed or loading selection leaves it as
    /// it is, because the previous voice keeps playing.
    facts: Mutex<Option<VoiceFacts>>,
}

/// What the editor shows about the voice that converts.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceFacts {
    pub synthesizer: PathBuf,
    pub format: SynthesizerFormat,
    /// The model's own rate, measured when its metadata does not say.
    pub sample_rate: u32,
    /// Whether the voice's decoder runs from its int8 copy (see `StreamSettings::int8`).
    pub int8: bool,
    /// Vectors in the index the voice retrieves from; `None` without one.
    pub index_vectors: Option<usize>,
    /// What the process's resident memory grew by while the voice loaded, in bytes: the voice's
    /// own models, plus the content encoder and pitch model when no other slot had them loaded
    /// yet. `None` where the system does not say.
    pub added_memory: Option<u64>,
    /// One block's conversion as timed when the voice loaded (with a measured worker budget).
    pub block_compute: Option<std::time::Duration>,
}

impl VoiceFacts {
    /// Whether the voice can take the Formant control.
    pub fn shifts_formants(&self) -> bool {
        self.format.convention.shifts_formants()
    }

    /// "40 kHz · v2 · f0 · partial decoding": what the model turned out to be, for the log and the
    /// editor.
    pub fn summary(&self) -> String {
        let format = &self.format;
        let (version, decode) = (format.version.name(), format.convention.name());
        let pitch = if format.has_f0 { "f0" } else { "no f0" };
        let half = if format.half_precision_features { " · fp16" } else { "" };
        let int8 = if self.int8 { " · int8" } else { "" };
        let index = self.index_vectors.map(|n| format!(" · index of {n} vectors")).unwrap_or_default();
        let memory =
            self.added_memory.map(|bytes| format!(" · +{:.0} MiB", bytes as f64 / 1048576.0)).unwrap_or_default();
        let compute = self
            .block_compute
            .map(|compute| format!(" · {:.0} ms per block", compute.as_secs_f64() * 1000.0))
            .unwrap_or_default();
        format!(
            "{:.0} kHz · {version} · {pitch} · {decode}{half}{int8}{index}{memory}{compute}",
            self.sample_rate as f32 / 1000.0
        )
    }
}

impl Default for VoiceStatus {
    fn default() -> Self {
        Self { current: Mutex::new((VoiceState::NoVoice, String::from("No voice chosen"))), facts: Mutex::new(None) }
    }
}

impl VoiceStatus {
    pub fn set(&self, state: VoiceState, message: impl Into<String>) {
        *self.current.lock() = (state, message.into());
    }

    /// Set by whoever swaps a voice in (or, with `None`, the identity for "no voice").
    pub fn set_facts(&self, facts: Option<VoiceFacts>) {
        *self.facts.lock() = facts;
    }

    pub fn facts(&self) -> Option<VoiceFacts> {
        self.facts.lock().clone()
    }

    /// State and message read together, so that the two never disagree.
    pub fn current(&self) -> (VoiceState, String) {
        self.current.lock().clone()
    }

    pub fn state(&self) -> VoiceState {
        self.current.lock().0
    }

    pub fn message(&self) -> String {
        self.current.lock().1.clone()
    }
}

/// The status of each voice slot. The editor's banner shows the selected slot's; the slot row
/// marks the others that failed.
#[derive(Default)]
pub struct VoiceStatuses {
    slots: [VoiceStatus; VOICE_SLOTS],
}

impl VoiceStatuses {
    /// Slot `slot` (0-based); the last one for anything beyond.
    pub fn slot(&self, slot: usize) -> &VoiceStatus {
        &self.slots[slot.min(VOICE_SLOTS - 1)]
    }
}
