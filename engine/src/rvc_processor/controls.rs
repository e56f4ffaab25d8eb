//! What the user sets that the conversion reads each block.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// What the user sets that the conversion reads each block.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConversionControls {
    /// Pitch shift in semitones.
    pub semitones: f32,
    /// Formant shift in semitones, for voices that can take one (see [`crate::formant`]).
    pub formant: f32,
    /// Blocks quieter than this (dBFS RMS) are not converted.
    pub gate_db: f32,
    /// RVC's `rms_mix_rate`: 1 keeps the voice's own loudness, 0 gives it the input's.
    pub envelope: f32,
    /// How far content frames move toward what they retrieve from the voice's index (RVC's
    /// `index_rate`); nothing happens without an index.
    pub index_rate: f32,
    /// RVC's `protect`: how much of the retrieval unvoiced frames keep (0.5 and above: all of it).
    pub protect: f32,
}

impl ConversionControls {
    /// RVC WebUI's default Index Rate for converting files. Its real-time window starts at 0
    /// because Python's retrieval costs it latency; here the index stage is a small part of a
    /// block, so a loaded index is heard from the start.
    pub const DEFAULT_INDEX_RATE: f32 = 0.75;
    /// RVC WebUI's default Protect.
    pub const DEFAULT_PROTECT: f32 = 0.33;
    /// The widest pitch shift any front end offers (two octaves each way, and some headroom).
    pub const SEMITONES_RANGE: (f32, f32) = (-48.0, 48.0);
    pub const GATE_DB_RANGE: (f32, f32) = (-140.0, 0.0);

    /// The same controls with every value in its range and NaN replaced by the default: what a
    /// peer sends (the remote engine's clients) is not trusted to be either.
    pub fn clamped(self) -> Self {
        let d = Self::default();
        let clamp = |v: f32, lo: f32, hi: f32, default: f32| if v.is_finite() { v.clamp(lo, hi) } else { default };
        let (formant_lo, formant_hi) = (*crate::formant::RANGE.start(), *crate::formant::RANGE.end());
        Self {
            semitones: clamp(self.semitones, Self::SEMITONES_RANGE.0, Self::SEMITONES_RANGE.1, d.semitones),
            formant: clamp(self.formant, formant_lo, formant_hi, d.formant),
            gate_db: clamp(self.gate_db, Self::GATE_DB_RANGE.0, Self::GATE_DB_RANGE.1, d.gate_db),
            envelope: clamp(self.envelope, 0.0, 1.0, d.envelope),
            index_rate: clamp(self.index_rate, 0.0, 1.0, d.index_rate),
            protect: clamp(self.protect, 0.0, crate::retrieval_index::PROTECT_OFF, d.protect),
        }
    }
}

impl Default for ConversionControls {
    fn default() -> Self {
        Self {
            semitones: 0.0,
            formant: 0.0,
            gate_db: -100.0,
            envelope: 1.0,
            index_rate: Self::DEFAULT_INDEX_RATE,
            protect: Self::DEFAULT_PROTECT,
        }
    }
}

/// Where the processor reads its controls each block: the plugin's parameters (atomics).
pub type ControlSource = Arc<dyn Fn() -> ConversionControls + Send + Sync>;
