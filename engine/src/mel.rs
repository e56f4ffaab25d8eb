//! RVC's log-mel front end for RMVPE (`MelSpectrogram` in RVC's `rmvpe.py`, as `RMVPE` configures
//! it): 16 kHz, `torch.stft` with n_fft = win = 1024, hop 160, periodic Hann window, `center=True`
//! (reflect padding of 512 on each side), magnitude `sqrt(re² + im²)`, librosa's mel filterbank with
//! 128 HTK-scale bands from 30 to 8000 Hz and Slaney area normalisation, then `ln(max(x, 1e-5))`.
//! Frame `t` is centred on sample `160 t`; `n` samples give `n / 160 + 1` frames.
//!
//! The transform runs in f64: torch's f32 STFT is off by up to ~3e-3 in the log of bands some 110 dB
//! under a frame's loudest, where its rounding noise floor sits, so the exact value is the reference
//! to hold, and it costs nothing at 100 frames a second.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

/// FFT size and window length.
pub const N_FFT: usize = 1024;
/// Samples between frames (10 ms at 16 kHz).
pub const HOP: usize = 160;
/// Mel bands.
pub const N_MELS: usize = 128;
const SAMPLE_RATE: f64 = 16_000.0;
const F_MIN: f64 = 30.0;
const F_MAX: f64 = 8_000.0;
const CLAMP: f64 = 1e-5;
/// Reflect padding needs more input samples than the pad (512), as `torch.stft` does.
pub const MIN_SAMPLES: usize = N_FFT / 2 + 1;

/// One band of the filterbank: its non-zero weights, starting at FFT bin `start`.
struct Band {
    start: usize,
    weights: Vec<f64>,
}

/// The log-mel spectrogram, with every buffer sized at construction.
pub struct MelSpectrogram {
    fft: Arc<dyn RealToComplex<f64>>,
    window: Vec<f64>,
    bands: Vec<Band>,
    padded: Vec<f32>,
    frame: Vec<f64>,
    spectrum: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    magnitude: Vec<f64>,
}

impl MelSpectrogram {
    /// A front end for inputs of up to `max_samples` samples without allocating.
    pub fn new(max_samples: usize) -> Self {
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(N_FFT);
        // torch.hann_window is periodic: the denominator is N, not N - 1.
        let window = (0..N_FFT)
            .map(|n| f64::from((0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / N_FFT as f64).cos()) as f32))
            .collect();
        let bands = mel_filterbank()
            .into_iter()
            .map(|row| {
                let start = row.iter().position(|&w| w > 0.0).unwrap_or(0);
                let end = row.iter().rposition(|&w| w > 0.0).map_or(start, |e| e + 1);
                Band { start, weights: row[start..end].iter().map(|&w| f64::from(w)).collect() }
            })
            .collect();
        Self {
            window,
            bands,
            padded: vec![0.0; max_samples.max(MIN_SAMPLES) + N_FFT],
            frame: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            magnitude: vec![0.0; N_FFT / 2 + 1],
            fft,
        }
    }

    /// Frames for `samples` samples (`center=True`).
    pub fn frames(samples: usize) -> usize {
        samples / HOP + 1
    }

    /// Writes the log-mel of `audio` (at least [`MIN_SAMPLES`] samples) band-major: band `m`,
    /// frame `t` goes to `out[m * stride + t]`, for `t < frames(audio.len()) <= stride`.
    pub fn compute(&mut self, audio: &[f32], out: &mut [f32], stride: usize) {
        let n = audio.len();
        assert!(n >= MIN_SAMPLES, "reflect padding needs at least {MIN_SAMPLES} samples, got {n}");
        let frames = Self::frames(n);
        assert!(frames <= stride && out.len() >= N_MELS * stride, "log-mel buffer too small");
        let pad = N_FFT / 2;
        if self.padded.len() < n + 2 * pad {
            self.padded.resize(n + 2 * pad, 0.0);
        }
        for (j, x) in self.padded[..n + 2 * pad].iter_mut().enumerate() {
            // Reflect without repeating the edge sample, as torch's "reflect" mode does.
            let i = j as isize - pad as isize;
            let i = if i < 0 {
                -i
            } else if i >= n as isize {
                2 * (n as isize - 1) - i
            } else {
                i
            };
            *x = audio[i as usize];
        }
        for t in 0..frames {
            let segment = &self.padded[t * HOP..t * HOP + N_FFT];
            for ((x, &s), &w) in self.frame.iter_mut().zip(segment).zip(&self.window) {
                *x = f64::from(s) * w;
            }
            self.fft
                .process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch)
                .expect("buffers are sized by the plan");
            for (m, c) in self.magnitude.iter_mut().zip(&self.spectrum) {
                *m = (c.re * c.re + c.im * c.im).sqrt();
            }
            for (band, row) in self.bands.iter().zip(out.chunks_mut(stride)) {
                let bins = &self.magnitude[band.start..band.start + band.weights.len()];
                let energy: f64 = band.weights.iter().zip(bins).map(|(w, m)| w * m).sum();
                row[t] = energy.max(CLAMP).ln() as f32;
            }
        }
    }
}

/// librosa's `filters.mel(sr=16000, n_fft=1024, n_mels=128, fmin=30, fmax=8000, htk=True)`
/// (Slaney norm): rows of `N_FFT / 2 + 1` weights. librosa computes in f64 into an f32 array, then
/// scales that array in place by the norm; the roundings here follow it.
fn mel_filterbank() -> Vec<Vec<f32>> {
    let hz_to_mel = |f: f64| 2595.0 * (1.0 + f / 700.0).log10();
    let mel_to_hz = |m: f64| 700.0 * (10f64.powf(m / 2595.0) - 1.0);
    let (lo, hi) = (hz_to_mel(F_MIN), hz_to_mel(F_MAX));
    let points = N_MELS + 2;
    // np.linspace: start + i * step, with the last point exactly the end.
    let step = (hi - lo) / (points - 1) as f64;
    let mel_f: Vec<f64> =
        (0..points).map(|i| mel_to_hz(if i == points - 1 { hi } else { lo + i as f64 * step })).collect();
    let bins = N_FFT / 2 + 1;
    let fft_freqs: Vec<f64> = (0..bins).map(|k| k as f64 * SAMPLE_RATE / N_FFT as f64).collect();
    (0..N_MELS)
        .map(|i| {
            let (lower_width, upper_width) = (mel_f[i + 1] - mel_f[i], mel_f[i + 2] - mel_f[i + 1]);
            let norm = 2.0 / (mel_f[i + 2] - mel_f[i]);
            fft_freqs
                .iter()
                .map(|&f| {
                    let lower = -(mel_f[i] - f) / lower_width;
                    let upper = (mel_f[i + 2] - f) / upper_width;
                    let triangle = lower.min(upper).max(0.0) as f32;
                    (f64::from(triangle) * norm) as f32
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_triangles_inside_the_range() {
        let bank = mel_filterbank();
        assert_eq!(bank.len(), N_MELS);
        let bin_hz = SAMPLE_RATE / N_FFT as f64;
        for row in &bank {
            let first = row.iter().position(|&w| w > 0.0).unwrap();
            let last = row.iter().rposition(|&w| w > 0.0).unwrap();
            assert!(first as f64 * bin_hz >= F_MIN && last as f64 * bin_hz <= F_MAX);
            assert!(row[first..=last].iter().all(|&w| w > 0.0), "a band has a hole");
        }
    }

    #[test]
    fn a_tone_peaks_in_the_band_around_its_frequency() {
        let audio: Vec<f32> =
            (0..4000).map(|n| (2.0 * std::f32::consts::PI * 1000.0 * n as f32 / 16e3).sin()).collect();
        let mut mel = MelSpectrogram::new(4000);
        let frames = MelSpectrogram::frames(audio.len());
        let mut out = vec![0.0; N_MELS * frames];
        mel.compute(&audio, &mut out, frames);
        let t = frames / 2;
        let peak = (0..N_MELS).max_by(|&a, &b| out[a * frames + t].total_cmp(&out[b * frames + t])).unwrap();
        let centre = |m: usize| {
            let hz_to_mel = |f: f64| 2595.0 * (1.0 + f / 700.0).log10();
            let mel = hz_to_mel(F_MIN) + (m + 1) as f64 * (hz_to_mel(F_MAX) - hz_to_mel(F_MIN)) / (N_MELS + 1) as f64;
            700.0 * (10f64.powf(mel / 2595.0) - 1.0)
        };
        assert!((centre(peak) / 1000.0 - 1.0).abs() < 0.05, "peak band {peak} centred at {} Hz", centre(peak));
    }
}
