//! A polyphase windowed-sinc resampler between two whole-number rates, built as RVC's formant
//! shift builds its resampler (`torchaudio.transforms.Resample(upp_res, hop)`: Hann-windowed
//! sinc, 6 zero crossings, cutoff 0.99 of the lower Nyquist, the input zero-padded at both ends,
//! `ceil(len · new / orig)` samples out). Written here rather than taken from `rubato` so a
//! formant-shifted block matches RVC's sample for sample; the ratio changes with the Formant
//! control, and rebuilding the kernel is cheap next to a render.

/// Resamples whole signals from `orig` to `new` samples per unit (both reduced by their gcd).
#[derive(Debug, Clone)]
pub struct SincResampler {
    orig: usize,
    new: usize,
    /// Input samples each side of an output's window.
    width: usize,
    /// `new` phases of `2 · width + orig` taps, phase-major.
    kernel: Vec<f32>,
    /// Per phase, the taps inside the sinc's zero crossings; the others are zero to within
    /// 1e-32 (the window's value there), so they are not multiplied.
    support: Vec<std::ops::Range<usize>>,
}

const ZERO_CROSSINGS: f64 = 6.0;
const ROLLOFF: f64 = 0.99;

impl SincResampler {
    /// A resampler from `orig` to `new` (any common unit: samples per frame, Hz). Allocates.
    pub fn new(orig: usize, new: usize) -> Self {
        assert!(orig > 0 && new > 0, "resampling rates must be positive");
        let g = gcd(orig, new);
        let (orig, new) = (orig / g, new / g);
        let base = orig.min(new) as f64 * ROLLOFF;
        let width = (ZERO_CROSSINGS * orig as f64 / base).ceil() as usize;
        let taps = 2 * width + orig;
        let mut kernel = Vec::with_capacity(new * taps);
        let mut support = Vec::with_capacity(new);
        for phase in 0..new {
            let (mut first, mut last) = (taps, 0);
            for tap in 0..taps {
                let idx = (tap as f64 - width as f64) / orig as f64;
                let unclamped = (-(phase as f64) / new as f64 + idx) * base;
                if unclamped.abs() < ZERO_CROSSINGS {
                    (first, last) = (first.min(tap), tap + 1);
                }
                let t = unclamped.clamp(-ZERO_CROSSINGS, ZERO_CROSSINGS);
                let window = (t * std::f64::consts::PI / ZERO_CROSSINGS / 2.0).cos().powi(2);
                let t = t * std::f64::consts::PI;
                let sinc = if t == 0.0 { 1.0 } else { t.sin() / t };
                kernel.push((sinc * window * base / orig as f64) as f32);
            }
            support.push(first.min(last)..last);
        }
        Self { orig, new, width, kernel, support }
    }

    /// Whether this resampler converts between `orig` and `new`.
    pub fn converts(&self, orig: usize, new: usize) -> bool {
        let g = gcd(orig, new);
        (orig / g, new / g) == (self.orig, self.new)
    }

    /// Samples out for `len` in.
    pub fn output_len(&self, len: usize) -> usize {
        (len * self.new).div_ceil(self.orig)
    }

    /// Resample `input` into the start of `output`; returns the samples written
    /// ([`Self::output_len`]), or `None` when `output` is too short. Does not allocate.
    pub fn process(&self, input: &[f32], output: &mut [f32]) -> Option<usize> {
        let len = self.output_len(input.len());
        if output.len() < len {
            return None;
        }
        let taps = 2 * self.width + self.orig;
        // Input sample `i` of the window starting at `start` in the zero-padded signal.
        let at = |padded: isize| -> f32 {
            let i = padded - self.width as isize;
            if i >= 0 && (i as usize) < input.len() { input[i as usize] } else { 0.0 }
        };
        for (n, out) in output[..len].iter_mut().enumerate() {
            let (block, phase) = (n / self.new, n % self.new);
            let support = self.support[phase].clone();
            let weights = &self.kernel[phase * taps..(phase + 1) * taps][support.clone()];
            // Tap k of this output reads the zero-padded signal at block · orig + k.
            let start = (block * self.orig + support.start) as isize;
            // The window lies inside the input except near its ends: index directly there.
            let first = start - self.width as isize;
            *out = if first >= 0 && (first as usize + weights.len()) <= input.len() {
                let window = &input[first as usize..first as usize + weights.len()];
                window.iter().zip(weights).map(|(x, w)| x * w).sum()
            } else {
                weights.iter().enumerate().map(|(k, w)| at(start + k as isize) * w).sum()
            };
        }
        Some(len)
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_rates_pass_a_band_limited_signal_through() {
        let resampler = SincResampler::new(400, 400);
        let x: Vec<f32> = (0..4000).map(|n| (n as f32 * 0.05).sin() * 0.5).collect();
        let mut y = vec![0.0; 4000];
        assert_eq!(resampler.process(&x, &mut y), Some(4000));
        let worst = x[100..3900].iter().zip(&y[100..3900]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst < 0.01, "{worst}");
    }

    #[test]
    fn a_tone_keeps_its_frequency_in_the_new_units() {
        // 449 -> 400 samples per frame: a tone of period 44.9 samples comes out with period 40.
        let resampler = SincResampler::new(449, 400);
        let x: Vec<f32> = (0..449 * 20).map(|n| (2.0 * std::f32::consts::PI * n as f32 / 44.9).sin()).collect();
        let mut y = vec![0.0; 400 * 20];
        assert_eq!(resampler.process(&x, &mut y), Some(400 * 20));
        let crossings = y[400..7600].windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        assert!((crossings as f64 - 7200.0 / 40.0).abs() <= 1.0, "{crossings} upward crossings");
        assert!(resampler.process(&x, &mut [0.0; 10]).is_none());
    }
}
