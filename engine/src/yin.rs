//! The built-in pitch tracker: YIN (de Cheveigné & Kawahara, 2002) at 16 kHz, one estimate per
//! 10 ms frame, in RVC's 50–1100 Hz range. It needs no model file, so a voice converts even
//! before the user has picked a pitch model.

use super::f0::{F0_MAX_HZ, F0_MIN_HZ};

const SAMPLE_RATE: f32 = 16_000.0;
const HOP: usize = 160;
/// The integration window of the difference function (32 ms).
const WINDOW: usize = 512;
/// Below this normalised difference a lag counts as periodic.
const THRESHOLD: f32 = 0.15;
/// Frames quieter than this RMS are unvoiced (about -60 dBFS).
const SILENCE_RMS: f32 = 1e-3;

pub struct Yin {
    tau_min: usize,
    tau_max: usize,
    /// The analysis span around one frame's centre: window plus the longest lag.
    span: Vec<f32>,
    diff: Vec<f32>,
}

impl Default for Yin {
    fn default() -> Self {
        let tau_min = (SAMPLE_RATE / F0_MAX_HZ as f32).floor() as usize;
        let tau_max = (SAMPLE_RATE / F0_MIN_HZ as f32).ceil() as usize;
        Self { tau_min, tau_max, span: vec![0.0; WINDOW + tau_max], diff: vec![0.0; tau_max + 1] }
    }
}

impl Yin {
    /// Samples of context a frame's estimate reaches on each side of its centre.
    pub fn reach(&self) -> usize {
        self.span.len() / 2
    }

    /// Estimate f0 (Hz, 0 = unvoiced) for each 10 ms frame of `audio` (16 kHz): frame `i` covers
    /// samples `[i * 160, (i + 1) * 160)` and is analysed around its centre, with silence assumed
    /// beyond the ends of `audio`. Writes `audio.len() / 160` values into `f0`. Does not allocate.
    pub fn track(&mut self, audio: &[f32], f0: &mut [f32]) {
        let frames = audio.len() / HOP;
        let half = self.span.len() as isize / 2;
        for (i, out) in f0[..frames].iter_mut().enumerate() {
            let start = (i * HOP + HOP / 2) as isize - half;
            for (k, s) in self.span.iter_mut().enumerate() {
                let at = start + k as isize;
                *s = if at >= 0 && (at as usize) < audio.len() { audio[at as usize] } else { 0.0 };
            }
            *out = self.estimate();
        }
    }

    fn estimate(&mut self) -> f32 {
        let window = &self.span[..WINDOW];
        let energy = window.iter().map(|x| x * x).sum::<f32>() / WINDOW as f32;
        if energy.sqrt() < SILENCE_RMS {
            return 0.0;
        }
        // Difference function, then its cumulative-mean normalisation (d'(0) = 1).
        for tau in 1..=self.tau_max {
            self.diff[tau] = window.iter().zip(&self.span[tau..tau + WINDOW]).map(|(a, b)| (a - b) * (a - b)).sum();
        }
        self.diff[0] = 1.0;
        let mut running = 0.0;
        for tau in 1..=self.tau_max {
            running += self.diff[tau];
            self.diff[tau] = if running > 0.0 { self.diff[tau] * tau as f32 / running } else { 1.0 };
        }
        // The first dip below the threshold, followed down to its minimum.
        let Some(mut tau) = (self.tau_min..=self.tau_max).find(|&t| self.diff[t] < THRESHOLD) else {
            return 0.0;
        };
        while tau < self.tau_max && self.diff[tau + 1] < self.diff[tau] {
            tau += 1;
        }
        // Parabolic interpolation around the minimum for sub-sample precision.
        let refined = if tau > 1 && tau < self.tau_max {
            let (a, b, c) = (self.diff[tau - 1], self.diff[tau], self.diff[tau + 1]);
            let denominator = a - 2.0 * b + c;
            if denominator.abs() > 1e-12 { tau as f32 + 0.5 * (a - c) / denominator } else { tau as f32 }
        } else {
            tau as f32
        };
        let f0 = SAMPLE_RATE / refined;
        if (F0_MIN_HZ as f32..=F0_MAX_HZ as f32).contains(&f0) { f0 } else { 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn median(values: &[f32]) -> f32 {
        let mut v: Vec<f32> = values.to_vec();
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    }

    /// A voice-like tone: a sawtooth (every harmonic), the case where trackers jump an octave.
    fn sawtooth(f0: f32, seconds: f32) -> Vec<f32> {
        let n = (SAMPLE_RATE * seconds) as usize;
        (0..n).map(|i| 0.3 * (2.0 * ((i as f32 * f0 / SAMPLE_RATE) % 1.0) - 1.0)).collect()
    }

    #[test]
    fn steady_tones_are_tracked_within_one_percent() {
        let mut yin = Yin::default();
        for f in [55.0, 110.0, 220.0, 440.0, 880.0, 1050.0] {
            let audio = sawtooth(f, 0.5);
            let mut f0 = vec![0.0; audio.len() / HOP];
            yin.track(&audio, &mut f0);
            let inner = &f0[5..f0.len() - 5];
            assert!(inner.iter().all(|&v| v > 0.0), "{f} Hz: unvoiced frames in a steady tone");
            let m = median(inner);
            assert!((m / f - 1.0).abs() < 0.01, "{f} Hz tracked as {m}");
        }
    }

    #[test]
    fn a_glide_is_followed_frame_by_frame() {
        let mut yin = Yin::default();
        let n = 16_000;
        let mut phase = 0.0f32;
        let (audio, truth): (Vec<f32>, Vec<f32>) = (0..n)
            .map(|i| {
                let f = 100.0 * 4f32.powf(i as f32 / n as f32);
                phase += f / SAMPLE_RATE;
                ((2.0 * std::f32::consts::PI * phase).sin() * 0.5, f)
            })
            .unzip();
        let mut f0 = vec![0.0; n / HOP];
        yin.track(&audio, &mut f0);
        for (i, &v) in f0.iter().enumerate().skip(5).take(f0.len() - 10) {
            let expected = truth[i * HOP + HOP / 2];
            assert!((v / expected - 1.0).abs() < 0.02, "frame {i}: {v} Hz vs {expected} Hz");
        }
    }

    #[test]
    fn silence_and_noise_are_unvoiced() {
        let mut yin = Yin::default();
        let mut f0 = vec![1.0; 50];
        yin.track(&vec![0.0; 8000], &mut f0);
        assert!(f0.iter().all(|&v| v == 0.0));
        // A fixed-seed pseudo-random noise: no period anywhere.
        let mut state = 12345u32;
        let noise: Vec<f32> = (0..8000)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        yin.track(&noise, &mut f0);
        let voiced = f0.iter().filter(|&&v| v > 0.0).count();
        assert!(voiced <= 2, "{voiced} of 50 noise frames called voiced");
    }
}
