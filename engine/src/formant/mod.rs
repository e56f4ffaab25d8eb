//! Formant shift, RVC's way (its real-time pipeline since 2024): the voice's latent and its pitch
//! source are stretched to `ceil(frames · 2^(semitones/12))` frames inside a partial-decoding
//! export (`formant_length`), the longer render is resampled back to the block's length, which
//! raises every frequency by the factor, and the pitch the voice is given was lowered by the same
//! shift beforehand. Net effect: the formants move, the pitch stays.
//!
//! Only exports with a `formant_length` input can do it (partial decoding as deiteris' fork
//! exports it, and every voice RVC Live builds from a `.pth`); others ignore the setting.

mod sinc_resampler;

pub use sinc_resampler::SincResampler;

use std::ops::RangeInclusive;

/// The Formant control's range in semitones. RVC's own slider spans ±2; further shifts still
/// work the same way, with the artefacts a bigger resampling ratio brings.
pub const RANGE: RangeInclusive<f32> = -6.0..=6.0;

/// How far a shift of `semitones` stretches the latent (RVC's `factor`).
pub fn factor(semitones: f32) -> f64 {
    2f64.powf(f64::from(semitones) / 12.0)
}

/// Frames the decoder renders for `frames` new ones (RVC's `return_length2`).
pub fn stretched_frames(frames: usize, semitones: f32) -> usize {
    (frames as f64 * factor(semitones)).ceil() as usize
}

/// Samples per frame the stretched render is read at before it is resampled to `hop` per frame
/// (RVC's `upp_res`: the floor of the factor times the voice's rate over 100).
pub fn stretched_hop(hop: usize, semitones: f32) -> usize {
    (factor(semitones) * (hop * 100) as f64 / 100.0).floor() as usize
}

/// The most frames a render of `frames` can stretch to anywhere in [`RANGE`].
pub fn max_stretched_frames(frames: usize) -> usize {
    stretched_frames(frames, *RANGE.end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_shift_is_the_identity() {
        assert_eq!(stretched_frames(17, 0.0), 17);
        assert_eq!(stretched_hop(400, 0.0), 400);
    }

    #[test]
    fn the_frames_and_hop_follow_rvcs_rounding() {
        // factor 2^(2/12) = 1.12246: ceil(19.08) = 20, floor(448.98) = 448.
        assert_eq!(stretched_frames(17, 2.0), 20);
        assert_eq!(stretched_hop(400, 2.0), 448);
        // Lower: 2^(-1.5/12) = 0.9170: ceil(15.59) = 16, floor(440.2) = 440 at 48 kHz.
        assert_eq!(stretched_frames(17, -1.5), 16);
        assert_eq!(stretched_hop(480, -1.5), 440);
        assert!(max_stretched_frames(17) >= stretched_frames(17, 5.99));
    }
}
