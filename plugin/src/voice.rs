//! The voice the user picked: the model files, persisted with the host's project.

use std::sync::atomic::{AtomicU64, Ordering};

use nice_plug::params::persist::PersistentField;
use parking_lot::RwLock;
pub use rvc_live_engine::VoiceSelection;

/// The persisted voice. Loading a project does not re-activate the plugin, so every change bumps
/// a generation counter that whoever loads models compares against the one it last loaded.
///
/// Written by the main thread (state load, editor), read by the main and loader threads. The
/// audio thread never touches it.
#[derive(Default)]
pub struct PersistedVoice {
    selection: RwLock<VoiceSelection>,
    generation: AtomicU64,
}

impl PersistedVoice {
    pub fn get(&self) -> VoiceSelection {
        self.selection.read().clone()
    }

    /// Incremented on every change, so a loader can tell a new selection from the one it holds.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

impl<'a> PersistentField<'a, VoiceSelection> for PersistedVoice {
    fn set(&self, new_value: VoiceSelection) {
        *self.selection.write() = new_value;
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&VoiceSelection) -> R,
    {
        f(&self.selection.read())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_a_voice_bumps_the_generation() {
        let voice = PersistedVoice::default();
        let before = voice.generation();
        voice.set(VoiceSelection { synthesizer: Some("/voices/a.onnx".into()), ..Default::default() });
        assert_eq!(voice.generation(), before + 1);
        assert_eq!(voice.get().synthesizer.as_deref(), Some(std::path::Path::new("/voices/a.onnx")));
    }
}
