//! Input denoise: RNNoise (`nnnoiseless`) on the voice before conversion, so room noise and hiss
//! are not turned into the target voice's breath. It runs on the inference thread, at 48 kHz in
//! 10 ms frames; at other host rates the block is resampled there and back. Its delay is part of
//! the processor's, so the latency counts it.

use nnnoiseless::DenoiseState;

use super::resampler::{BlockResampler, ResamplerSetupError};

const RATE_48K: u32 = 48_000;
/// RNNoise works on 16-bit-scaled samples.
const PCM_SCALE: f32 = 32_768.0;

pub struct Denoiser {
    state: Box<DenoiseState<'static>>,
    to_48k: BlockResampler,
    from_48k: BlockResampler,
    at_48k: Vec<f32>,
    cleaned: Vec<f32>,
    sample_rate: u32,
}

impl Denoiser {
    /// A denoiser for blocks of `block` samples at `sample_rate`. The block must be whole 10 ms
    /// frames at 48 kHz once resampled.
    pub fn new(sample_rate: u32, block: usize) -> Result<Self, DenoiserError> {
        let to_48k = BlockResampler::new(sample_rate, RATE_48K, block)?;
        let frames = to_48k.output_len();
        if !frames.is_multiple_of(DenoiseState::FRAME_SIZE) {
            return Err(DenoiserError::PartialFrames { sample_rate, block });
        }
        let from_48k = BlockResampler::new(RATE_48K, sample_rate, frames)?;
        Ok(Self {
            state: DenoiseState::new(),
            to_48k,
            from_48k,
            at_48k: vec![0.0; frames],
            cleaned: vec![0.0; frames],
            sample_rate,
        })
    }

    /// Delay in host samples: RNNoise's one frame, and the resamplers' delays where the host is
    /// not at 48 kHz (rounded to the nearest host sample).
    pub fn delay(&self) -> usize {
        let at_48k = self.to_48k.delay() + DenoiseState::FRAME_SIZE;
        let host = at_48k as f64 * f64::from(self.sample_rate) / f64::from(RATE_48K);
        host.round() as usize + self.from_48k.delay()
    }

    /// Denoise one block in place. Does not allocate.
    pub fn process(&mut self, block: &mut [f32]) {
        self.to_48k.process(block, &mut self.at_48k);
        for sample in &mut self.at_48k {
            *sample *= PCM_SCALE;
        }
        let frame = DenoiseState::FRAME_SIZE;
        for (out, input) in self.cleaned.chunks_exact_mut(frame).zip(self.at_48k.chunks_exact(frame)) {
            self.state.process_frame(out, input);
        }
        for sample in &mut self.cleaned {
            *sample /= PCM_SCALE;
        }
        self.from_48k.process(&self.cleaned, block);
    }

    pub fn reset(&mut self) {
        self.state = DenoiseState::new();
        self.to_48k.reset();
        self.from_48k.reset();
    }
}

/// Why the denoiser cannot run at a rate and block size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenoiserError {
    Resampler(ResamplerSetupError),
    /// RNNoise takes whole 10 ms frames at 48 kHz; the block resamples to a part of one.
    PartialFrames {
        sample_rate: u32,
        block: usize,
    },
}

impl From<ResamplerSetupError> for DenoiserError {
    fn from(e: ResamplerSetupError) -> Self {
        Self::Resampler(e)
    }
}

impl std::fmt::Display for DenoiserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Resampler(e) => write!(f, "denoise: {e}"),
            Self::PartialFrames { sample_rate, block } => {
                write!(f, "denoise: a {block}-sample block at {sample_rate} Hz is not whole 10 ms frames")
            }
        }
    }
}

impl std::error::Error for DenoiserError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Noise alone, then a voice-like tone in the same noise, in blocks: the noise alone drops,
    /// the tone stays, and it comes out `delay()` samples late.
    fn check(rate: u32, expect_noise_drop: bool) {
        let block = rate as usize / 5;
        let mut denoiser = Denoiser::new(rate, block).unwrap();
        let mut state = 7u32;
        let mut noise = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            // Room hiss around -50 dBFS.
            ((state >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.01
        };
        let (quiet, n) = (block * 40, block * 50);
        let tone: Vec<f32> = (0..n)
            .map(|i| {
                if i < quiet {
                    return 0.0;
                }
                let p = 2.0 * std::f32::consts::PI * 200.0 * i as f32 / rate as f32;
                0.2 * (1..=5).map(|k| (k as f32 * p).sin() / k as f32).sum::<f32>()
            })
            .collect();
        let noisy: Vec<f32> = tone.iter().map(|t| t + noise()).collect();
        let mut out = noisy.clone();
        for chunk in out.chunks_exact_mut(block) {
            denoiser.process(chunk);
        }
        let rms = |s: &[f32]| (s.iter().map(|v| v * v).sum::<f32>() / s.len() as f32).sqrt();
        // Once RNNoise has learnt the noise (it adapts over seconds).
        let noise_in = rms(&noisy[block * 30..quiet]);
        let noise_out = rms(&out[block * 30..quiet]);
        if expect_noise_drop {
            assert!(
                noise_out < 0.5 * noise_in,
                "{rate} Hz: noise alone only went from {noise_in} to {noise_out} (< 6 dB)"
            );
        }

        let delay = denoiser.delay();
        let voiced = quiet + block * 2;
        let score = |d: usize| -> f32 { (voiced..n).map(|i| out[i] * tone[i - d]).sum() };
        let best = (delay - 100..delay + 100).max_by(|&a, &b| score(a).total_cmp(&score(b))).unwrap();
        // RNNoise's overlap-add delays by exactly one frame; its band gains shift the phase of a
        // filtered tone by a sample or two, which is all the measurement may deviate by.
        assert!(best.abs_diff(delay) <= 3, "{rate} Hz: output lags by {best}, reported {delay}");
        assert!(rms(&out[voiced..]) > 0.5 * rms(&tone[voiced..]), "{rate} Hz: the voice was removed too");
    }

    #[test]
    fn denoising_keeps_the_voice_drops_the_noise_and_reports_its_delay() {
        check(48_000, true);
        // Resampled white noise leaves RNNoise's top band empty, and it then hardly suppresses
        // this synthetic hiss (about 1 dB); at 44.1 kHz only the timing and the voice are checked.
        check(44_100, false);
    }
}
