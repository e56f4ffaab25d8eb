//! RVC's pitch post-processing: the pitch shift, and the coarse pitch the synthesizer embeds.
//!
//! RVC quantises pitch on the mel scale between 50 and 1100 Hz into 255 steps: step 1 means
//! unvoiced (or at most 50 Hz), 255 at least 1100 Hz. The synthesizer takes both that coarse pitch
//! (an embedding index) and the shifted pitch in Hz (for its sine source).

/// The pitch range RVC's real-time pipeline works in.
pub const F0_MIN_HZ: f64 = 50.0;
pub const F0_MAX_HZ: f64 = 1100.0;
pub const COARSE_MIN: i64 = 1;
pub const COARSE_MAX: i64 = 255;

fn mel(f0: f64) -> f64 {
    1127.0 * (1.0 + f0 / 700.0).ln()
}

/// The factor a shift of `semitones` (fractions are cents) multiplies pitch by.
pub fn shift_ratio(semitones: f64) -> f64 {
    2f64.powf(semitones / 12.0)
}

/// The coarse pitch of `f0_hz` (already shifted), exactly as RVC computes it, including its
/// round-half-to-even.
pub fn coarse(f0_hz: f32) -> i64 {
    let (mel_min, mel_max) = (mel(F0_MIN_HZ), mel(F0_MAX_HZ));
    let mut m = mel(f64::from(f0_hz));
    if m > 0.0 {
        m = (m - mel_min) * (COARSE_MAX - COARSE_MIN) as f64 / (mel_max - mel_min) + 1.0;
    }
    // NaN (from garbage input) compares false everywhere and lands on "unvoiced".
    let m = if m.is_nan() || m <= 1.0 { 1.0 } else { m.min(COARSE_MAX as f64) };
    m.round_ties_even() as i64
}

/// Shift `f0` (Hz per frame, 0 = unvoiced) by `semitones` in place and write each frame's coarse
/// pitch into `coarse_out`.
pub fn post_process(f0: &mut [f32], semitones: f32, coarse_out: &mut [i64]) {
    let ratio = shift_ratio(f64::from(semitones)) as f32;
    for (f, c) in f0.iter_mut().zip(coarse_out.iter_mut()) {
        *f = if f.is_finite() && *f > 0.0 { *f * ratio } else { 0.0 };
        *c = coarse(*f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_ends_map_to_the_ends_of_the_coarse_scale() {
        assert_eq!(coarse(0.0), 1);
        assert_eq!(coarse(F0_MIN_HZ as f32), 1);
        assert_eq!(coarse(F0_MAX_HZ as f32), 255);
        assert_eq!(coarse(5000.0), 255);
        assert_eq!(coarse(f32::NAN), 1);
    }

    #[test]
    fn coarse_pitch_is_monotonic_and_covers_every_step() {
        let mut seen = [false; 256];
        let mut previous = 0;
        for i in 0..=20_000 {
            let c = coarse(40.0 + i as f32 * 0.06);
            assert!(c >= previous);
            previous = c;
            seen[c as usize] = true;
        }
        assert!(seen[1..].iter().all(|&s| s), "every step from 1 to 255 is reachable");
    }

    #[test]
    fn shift_is_exact_in_octaves_and_semitones() {
        let mut f0 = [220.0, 0.0, 440.0, f32::NAN];
        let mut c = [0; 4];
        post_process(&mut f0, 12.0, &mut c);
        assert_eq!(f0, [440.0, 0.0, 880.0, 0.0]);
        assert_eq!(c[1], 1, "unvoiced stays unvoiced");
        assert_eq!(c[3], 1, "garbage is unvoiced");
        let mut f0 = [440.0];
        post_process(&mut f0, -0.5, &mut c[..1]);
        assert!((f0[0] - 440.0 * 2f32.powf(-0.5 / 12.0)).abs() < 1e-3);
    }
}
