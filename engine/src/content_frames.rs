//! How content-encoder frames (50 per second) become synthesizer frames (100 per second), exactly
//! as RVC does it: append a copy of the last frame, repeat every frame twice, and keep as many as
//! the window has 10 ms frames.

/// Samples per content-encoder frame step at 16 kHz (20 ms).
pub const ENCODER_STRIDE: usize = 320;
/// Samples the encoder's convolutional front end sees per frame (25 ms).
pub const ENCODER_FIELD: usize = 400;
/// Samples per synthesizer frame at 16 kHz (10 ms).
pub const SYNTH_HOP_16K: usize = 160;

/// Frames the content encoder gives for `samples` at 16 kHz; none for less than one field.
pub fn encoder_frames(samples: usize) -> usize {
    if samples < ENCODER_FIELD { 0 } else { (samples - ENCODER_FIELD) / ENCODER_STRIDE + 1 }
}

/// Frames the synthesizer takes for `samples` at 16 kHz (RVC's `p_len`).
pub fn synth_frames(samples: usize) -> usize {
    samples / SYNTH_HOP_16K
}

/// Spread `encoder` (`frames × width`, row-major) over `synth_frames(samples)` frames into `out`.
/// Returns the number of synthesizer frames written.
pub fn upsample(encoder: &[f32], width: usize, samples: usize, out: &mut [f32]) -> usize {
    let frames = encoder.len() / width;
    let wanted = synth_frames(samples);
    debug_assert!(frames > 0 && out.len() >= wanted * width);
    for (i, row) in out[..wanted * width].chunks_exact_mut(width).enumerate() {
        // Frame i repeats encoder frame i/2; past the end, the appended copy of the last one.
        let source = (i / 2).min(frames - 1);
        row.copy_from_slice(&encoder[source * width..(source + 1) * width]);
    }
    wanted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_counts_follow_contentvec_and_rvc() {
        assert_eq!(encoder_frames(399), 0);
        assert_eq!(encoder_frames(400), 1);
        assert_eq!(encoder_frames(16_000), 49, "one second gives 49 frames, not 50");
        assert_eq!(encoder_frames(12_960), 40);
        assert_eq!(synth_frames(12_960), 81);
    }

    /// RVC's doubling plus one appended frame always covers the synthesizer's frames.
    #[test]
    fn upsampled_frames_always_cover_the_window() {
        for samples in ENCODER_FIELD..20_000 {
            assert!(2 * (encoder_frames(samples) + 1) >= synth_frames(samples), "{samples} samples");
        }
    }

    #[test]
    fn each_frame_is_repeated_twice_and_the_last_one_extends() {
        let width = 2;
        let samples = 12_960;
        let encoder: Vec<f32> = (0..encoder_frames(samples) * width).map(|v| v as f32).collect();
        let mut out = vec![-1.0; synth_frames(samples) * width];
        assert_eq!(upsample(&encoder, width, samples, &mut out), 81);
        assert_eq!(&out[..8], &[0.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0, 3.0]);
        // Frames 78 and 79 repeat encoder frame 39; frame 80 is the appended copy of it.
        assert_eq!(&out[80 * width..], &encoder[39 * width..]);
        assert_eq!(&out[78 * width..79 * width], &encoder[39 * width..]);
    }
}
