//! What the user sets that the conversion reads each block.

use std::sync::Arc;

/// What the user sets that the conversion reads each block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConversionControls {
    /// Pitch shift in semitones.
    pub semitones: f32,
    /// Blocks quieter than this (dBFS RMS) are not converted.
    pub gate_db: f32,
    /// RVC's `rms_mix_rate`: 1 keeps the voice's own loudness, 0 gives it the input's.
    pub envelope: f32,
}

impl Default for ConversionControls {
    fn default() -> Self {
        Self { semitones: 0.0, gate_db: -100.0, envelope: 1.0 }
    }
}

/// Where the processor reads its controls each block: the plugin's parameters (atomics).
pub type ControlSource = Arc<dyn Fn() -> ConversionControls + Send + Sync>;
