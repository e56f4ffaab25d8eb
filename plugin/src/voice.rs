//! The voices the user picked: the model files of each voice slot, persisted with the host's
//! project.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use nice_plug::params::persist::PersistentField;
use parking_lot::RwLock;
pub use rvc_live_engine::VoiceSelection;

/// The persisted voice. Loading a project does not re-activate the plugin, so every change bumps
/// a generation counter that whoever loads models compares against the one it last loaded.
///
/// The selection is written by the main thread (state load, editor) and read by the main and
/// loader threads; `failed` is written by whichever thread loads the voice (main at activation,
/// loader later) and read by the main thread. The audio thread never touches it.
#[derive(Default)]
pub struct PersistedVoice {
    selection: RwLock<VoiceSelection>,
    generation: AtomicU64,
    /// Whether the selection last failed to load: set by the loader, so that loading a project
    /// with the same selection tries again (the file may be back).
    failed: AtomicBool,
}

impl PersistedVoice {
    pub fn get(&self) -> VoiceSelection {
        self.selection.read().clone()
    }

    /// Incremented on every change, so a loader can tell a new selection from the one it holds.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Said by whoever loads the selection: whether it failed.
    pub fn set_failed(&self, failed: bool) {
        self.failed.store(failed, Ordering::Release);
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

/// Voices a project keeps loaded at once, for the Voice parameter to switch between.
pub const VOICE_SLOTS: usize = 8;

/// The voice of each slot. Shared by the parameters (which persist it and name the Voice
/// parameter's values after it) and whoever loads voices.
#[derive(Default)]
pub struct VoiceSlots {
    slots: [PersistedVoice; VOICE_SLOTS],
}

impl VoiceSlots {
    /// Slot `slot` (0-based); the last one for anything beyond.
    pub fn slot(&self, slot: usize) -> &PersistedVoice {
        &self.slots[slot.min(VOICE_SLOTS - 1)]
    }

    /// The slot's voice by its model file's name, `None` while no voice model is chosen.
    pub fn name(&self, slot: usize) -> Option<String> {
        self.slot(slot).map(|voice| {
            let path = voice.synthesizer.as_ref()?;
            Some(path.file_stem().unwrap_or(path.as_os_str()).to_string_lossy().into_owned())
        })
    }

    /// What the host shows for the Voice parameter at `slot`: "3 · alto", "4 · empty".
    pub fn label(&self, slot: usize) -> String {
        format!("{} · {}", slot + 1, self.name(slot).unwrap_or_else(|| "empty".into()))
    }

    /// The slot a host's text means: its number ("3", "3 · alto") or its voice's name.
    pub fn parse(&self, text: &str) -> Option<usize> {
        let text = text.trim();
        let number: String = text.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = number.parse::<usize>() {
            return (1..=VOICE_SLOTS).contains(&n).then(|| n - 1);
        }
        (0..VOICE_SLOTS).find(|&slot| self.name(slot).is_some_and(|name| name.eq_ignore_ascii_case(text)))
    }

    /// Set the slot's voice only if it differs (or failed to load last time), so that loading a
    /// project reloads only the slots it changes.
    fn set_if_changed(&self, slot: usize, selection: VoiceSelection) {
        let voice = self.slot(slot);
        if voice.get() != selection || voice.failed.load(Ordering::Acquire) {
            voice.set(selection);
        }
    }
}

/// Slot 1, persisted under the key projects saved before there were slots.
pub struct FirstSlotVoice(pub Arc<VoiceSlots>);

impl<'a> PersistentField<'a, VoiceSelection> for FirstSlotVoice {
    fn set(&self, new_value: VoiceSelection) {
        self.0.set_if_changed(0, new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&VoiceSelection) -> R,
    {
        self.0.slot(0).map(f)
    }
}

/// Slots 2 and on, persisted as a list; a list shorter than the slots empties the rest.
pub struct OtherSlotVoices(pub Arc<VoiceSlots>);

impl<'a> PersistentField<'a, Vec<VoiceSelection>> for OtherSlotVoices {
    fn set(&self, new_value: Vec<VoiceSelection>) {
        let mut voices = new_value.into_iter();
        for slot in 1..VOICE_SLOTS {
            self.0.set_if_changed(slot, voices.next().unwrap_or_default());
        }
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Vec<VoiceSelection>) -> R,
    {
        f(&(1..VOICE_SLOTS).map(|slot| self.0.slot(slot).get()).collect())
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

    fn voice(path: &str) -> VoiceSelection {
        VoiceSelection { synthesizer: Some(path.into()), ..Default::default() }
    }

    #[test]
    fn slots_are_named_after_their_voice_and_parsed_back() {
        let slots = VoiceSlots::default();
        slots.slot(2).set(voice("/voices/Alto Sax.onnx"));
        assert_eq!(slots.label(2), "3 · Alto Sax");
        assert_eq!(slots.label(7), "8 · empty");
        assert_eq!(slots.parse("3"), Some(2));
        assert_eq!(slots.parse("3 · Alto Sax"), Some(2));
        assert_eq!(slots.parse("alto sax"), Some(2));
        assert_eq!(slots.parse("9"), None);
        assert_eq!(slots.parse("tenor"), None);
    }

    /// A project load sets every slot; only those it changes are loaded again.
    #[test]
    fn a_state_load_bumps_only_the_slots_it_changes() {
        let slots = Arc::new(VoiceSlots::default());
        let others = OtherSlotVoices(slots.clone());
        others.set(vec![voice("/v/b.onnx"), voice("/v/c.onnx")]);
        let before: Vec<u64> = (0..VOICE_SLOTS).map(|s| slots.slot(s).generation()).collect();
        others.set(vec![voice("/v/b.onnx"), voice("/v/d.onnx")]);
        FirstSlotVoice(slots.clone()).set(VoiceSelection::default());
        let after: Vec<u64> = (0..VOICE_SLOTS).map(|s| slots.slot(s).generation()).collect();
        let changed: Vec<usize> = (0..VOICE_SLOTS).filter(|&s| before[s] != after[s]).collect();
        assert_eq!(changed, [2]);
        assert_eq!(others.map(|list| list.len()), VOICE_SLOTS - 1);

        // A slot whose voice failed to load is tried again, even with the same selection.
        slots.slot(1).set_failed(true);
        let before = slots.slot(1).generation();
        others.set(vec![voice("/v/b.onnx"), voice("/v/d.onnx")]);
        assert_eq!(slots.slot(1).generation(), before + 1);
    }
}
