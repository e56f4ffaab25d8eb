//! Pitch trackers: the built-in YIN, or a pitch model the user picked (FCPE, CREPE, RMVPE).

use super::model_error::ModelError;
use super::yin::Yin;

/// Estimates f0 per synthesizer frame.
pub trait PitchTracker: Send {
    /// f0 in Hz (0 = unvoiced) for each 10 ms frame of `audio` (16 kHz): frame `i` covers samples
    /// `[i * 160, (i + 1) * 160)`. Writes `audio.len() / 160` values into `f0`.
    fn track(&mut self, audio: &[f32], f0: &mut [f32]) -> Result<(), ModelError>;
}

impl PitchTracker for Yin {
    fn track(&mut self, audio: &[f32], f0: &mut [f32]) -> Result<(), ModelError> {
        Yin::track(self, audio, f0);
        Ok(())
    }
}
