//! What an int8 copy costs in sound, measured on trained weights, and what a speed-up must score
//! to be on by default.
//!
//! Random-weight models cannot show whether an approximation is audible; a trained vocoder can.
//! `engine/tests/int8_trained_voice.rs` measures the copies on Piper's `en_US-joe-medium` (a VITS
//! whose decoder is a trained HiFi-GAN, RVC's decoder's family), against the float model's
//! rendering of the same sentences, and checks the figures here.

/// Objective scores of a rendering against the float model's rendering of the same speech.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoundCost {
    /// Wideband PESQ (ITU-T P.862.2); identical audio scores 4.64.
    pub pesq_wb: f64,
    /// Mel-cepstral distortion over the active frames, dB.
    pub mcd_db: f64,
    /// How far the level in the pauses rises above the float model's, dB.
    pub pause_rise_db: f64,
}

impl SoundCost {
    /// Whether a speed-up scoring this is transparent enough to be on by default.
    pub fn is_transparent(&self) -> bool {
        self.pesq_wb >= TRANSPARENT_PESQ_WB && self.pause_rise_db <= TRANSPARENT_PAUSE_RISE_DB
    }
}

/// The least wideband PESQ against the float path for a default speed-up.
pub const TRANSPARENT_PESQ_WB: f64 = 4.2;
/// The most the level in pauses may rise over the float path's for a default speed-up, dB.
pub const TRANSPARENT_PAUSE_RISE_DB: f64 = 6.0;

/// The int8 copy of the voice's waveform decoder ([`super::Scope::Decoder`], every convolution
/// after the first upsampling), calibrated on four sentences of the trained voice and scored on
/// four others: the mean of the four. Far from transparent, so the copies are an opt-in, shown
/// with this cost.
pub const DECODER_COST: SoundCost = SoundCost { pesq_wb: 1.70, mcd_db: 4.98, pause_rise_db: 22.0 };
