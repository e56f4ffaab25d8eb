//! Fixed-ratio resampling one block at a time: host rate to the 16 kHz the content encoder and
//! pitch trackers take, and the voice's rate back to the host's.
//!
//! Blocks are whole 10 ms frames, so at every common rate a block maps to a whole number of
//! samples on both sides and a synchronous resampler can keep both sizes fixed. Its delay is
//! exposed so the stream's latency can count it.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

pub struct BlockResampler {
    /// `None` when both rates are equal: the block passes through untouched, with no delay.
    fft: Option<Fft<f32>>,
    input_len: usize,
    output_len: usize,
}

impl BlockResampler {
    /// A resampler taking `input_len` samples at `rate_in` per call. Fails if that many samples do
    /// not correspond to a whole number at `rate_out`, or the rates are unusable.
    pub fn new(rate_in: u32, rate_out: u32, input_len: usize) -> Result<Self, ResamplerSetupError> {
        if rate_in == 0 || rate_out == 0 {
            return Err(ResamplerSetupError::ZeroRate { rate_in, rate_out });
        }
        let scaled = input_len as u64 * u64::from(rate_out);
        if input_len == 0 || !scaled.is_multiple_of(u64::from(rate_in)) {
            return Err(ResamplerSetupError::UnusableBlock { rate_in, rate_out, input_len });
        }
        let output_len = (scaled / u64::from(rate_in)) as usize;
        if rate_in == rate_out {
            return Ok(Self { fft: None, input_len, output_len });
        }
        let fft = Fft::new(rate_in as usize, rate_out as usize, input_len, 1, FixedSync::Both)
            .map_err(|e| ResamplerSetupError::Rubato { rate_in, rate_out, why: e.to_string() })?;
        if fft.input_frames_next() != input_len || fft.output_frames_next() != output_len {
            return Err(ResamplerSetupError::UnusableBlock { rate_in, rate_out, input_len });
        }
        Ok(Self { fft: Some(fft), input_len, output_len })
    }

    #[cfg(test)]
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    pub fn output_len(&self) -> usize {
        self.output_len
    }

    /// Delay the resampler adds, in output samples.
    pub fn delay(&self) -> usize {
        self.fft.as_ref().map_or(0, |f| f.output_delay())
    }

    /// Resample one block. Does not allocate. A block with NaN or infinite samples comes out as
    /// silence (rubato's FFT would panic on it).
    pub fn process(&mut self, input: &[f32], output: &mut [f32]) {
        debug_assert_eq!((input.len(), output.len()), (self.input_len, self.output_len));
        if !input.iter().all(|x| x.is_finite()) {
            output.fill(0.0);
            return;
        }
        let Some(fft) = self.fft.as_mut() else {
            output.copy_from_slice(input);
            return;
        };
        let input = InterleavedSlice::new(input, 1, self.input_len).expect("one channel of input_len frames");
        let mut adapter =
            InterleavedSlice::new_mut(&mut *output, 1, self.output_len).expect("one channel of output_len frames");
        if fft.process_into_buffer(&input, &mut adapter, None).is_err() {
            // Only with buffers of other sizes than it was built for, which `new` rules out.
            output.fill(0.0);
        }
    }

    pub fn reset(&mut self) {
        if let Some(fft) = self.fft.as_mut() {
            fft.reset();
        }
    }
}

/// Resamples a whole window at a time, from a clean state each time, with the resampler's delay
/// trimmed off: output sample `i` is the input at time `i`. Windows overlap from block to block,
/// so there is no continuous stream to keep state for, and a window's timing stays exact.
pub struct WindowResampler {
    fft: Option<Fft<f32>>,
}

impl WindowResampler {
    pub fn new(rate_in: u32, rate_out: u32) -> Result<Self, ResamplerSetupError> {
        if rate_in == 0 || rate_out == 0 {
            return Err(ResamplerSetupError::ZeroRate { rate_in, rate_out });
        }
        if rate_in == rate_out {
            return Ok(Self { fft: None });
        }
        // Chunks of about 20 ms at the input rate, rounded to what the rate pair allows.
        let chunk = (rate_in as usize / 50).max(64);
        let fft = Fft::new(rate_in as usize, rate_out as usize, chunk, 1, FixedSync::Input)
            .map_err(|e| ResamplerSetupError::Rubato { rate_in, rate_out, why: e.to_string() })?;
        Ok(Self { fft: Some(fft) })
    }

    /// Room `output` needs for `input_len` input samples (the resampler pads its last chunk).
    pub fn output_capacity(&mut self, input_len: usize) -> usize {
        match self.fft.as_mut() {
            Some(fft) => fft.process_all_needed_output_len(input_len),
            None => input_len,
        }
    }

    /// Resample `input` into the start of `output` (at least `output_capacity` long). Returns the
    /// number of samples written. Does not allocate.
    pub fn resample(&mut self, input: &[f32], output: &mut [f32]) -> Result<usize, ResampleError> {
        // rubato's FFT panics on NaN; the callers check model outputs, this keeps it that way.
        if !input.iter().all(|x| x.is_finite()) {
            return Err(ResampleError::NonFinite);
        }
        let needed = self.output_capacity(input.len());
        if output.len() < needed {
            return Err(ResampleError::OutputTooShort { needed, given: output.len() });
        }
        let Some(fft) = self.fft.as_mut() else {
            output[..input.len()].copy_from_slice(input);
            return Ok(input.len());
        };
        fft.reset();
        let capacity = output.len();
        let input_adapter = InterleavedSlice::new(input, 1, input.len()).expect("one channel");
        let mut output_adapter = InterleavedSlice::new_mut(output, 1, capacity).expect("one channel");
        let (_, written) = fft
            .process_all_into_buffer(&input_adapter, &mut output_adapter, input.len(), None)
            .map_err(|e| ResampleError::Rubato(e.to_string()))?;
        Ok(written)
    }
}

/// Why a resampler could not be built for a pair of rates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResamplerSetupError {
    ZeroRate {
        rate_in: u32,
        rate_out: u32,
    },
    /// Blocks of `input_len` samples are no whole number of samples at the other rate, or not a
    /// size rubato can take whole.
    UnusableBlock {
        rate_in: u32,
        rate_out: u32,
        input_len: usize,
    },
    /// rubato refused the pair of rates.
    Rubato {
        rate_in: u32,
        rate_out: u32,
        why: String,
    },
}

impl std::fmt::Display for ResamplerSetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ZeroRate { rate_in, rate_out } => write!(f, "cannot resample {rate_in} Hz to {rate_out} Hz"),
            Self::UnusableBlock { rate_in, rate_out, input_len } => {
                write!(f, "{input_len}-sample blocks at {rate_in} Hz cannot be resampled whole to {rate_out} Hz")
            }
            Self::Rubato { rate_in, rate_out, why } => write!(f, "no {rate_in} Hz to {rate_out} Hz resampler: {why}"),
        }
    }
}

impl std::error::Error for ResamplerSetupError {}

/// Why a window could not be resampled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResampleError {
    /// The window holds NaN or infinite samples.
    NonFinite,
    OutputTooShort {
        needed: usize,
        given: usize,
    },
    Rubato(String),
}

impl std::fmt::Display for ResampleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NonFinite => f.write_str("the audio to resample holds NaN or infinite samples"),
            Self::OutputTooShort { needed, given } => {
                write!(f, "resampling needs room for {needed} samples, the buffer holds {given}")
            }
            Self::Rubato(why) => write!(f, "resampling failed: {why}"),
        }
    }
}

impl std::error::Error for ResampleError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A glide from 100 Hz to 2 kHz over one second: no period, so only one delay fits.
    fn glide(rate: f64, len: usize) -> Vec<f32> {
        (0..len)
            .map(|n| {
                let t = n as f64 / rate;
                (2.0 * std::f64::consts::PI * (100.0 * t + 950.0 * t * t)).sin() as f32 * 0.5
            })
            .collect()
    }

    fn run(resampler: &mut BlockResampler, input: &[f32]) -> Vec<f32> {
        let mut out = Vec::new();
        for block in input.chunks_exact(resampler.input_len()) {
            let mut y = vec![0.0; resampler.output_len()];
            resampler.process(block, &mut y);
            out.extend(y);
        }
        out
    }

    /// The trimmed delay leaves at most a fraction of a sample: the window's timing is exact to
    /// within one output sample (rubato rounds its filter's delay to whole output samples).
    #[test]
    fn a_window_comes_out_time_aligned_within_a_sample() {
        for (rate_in, rate_out) in [(48_000u32, 16_000u32), (44_100, 16_000), (40_000, 48_000), (32_000, 44_100)] {
            let mut resampler = WindowResampler::new(rate_in, rate_out).unwrap();
            let input = glide(f64::from(rate_in), rate_in as usize / 2);
            let mut output = vec![0.0; resampler.output_capacity(input.len())];
            let written = resampler.resample(&input, &mut output).unwrap();
            let whole = (input.len() as f64 * f64::from(rate_out) / f64::from(rate_in)).ceil() as usize;
            assert_eq!(written, whole, "the whole window, resampled");
            // Away from the window's edges, where the filter sees the zeros beyond it.
            let edge = rate_out as usize / 100;
            let error_at = |shift: f64| {
                (edge..written - edge)
                    .map(|i| {
                        let t = (i as f64 - shift) / f64::from(rate_out);
                        let expected = (2.0 * std::f64::consts::PI * (100.0 * t + 950.0 * t * t)).sin() * 0.5;
                        (f64::from(output[i]) - expected).abs()
                    })
                    .fold(0.0, f64::max)
            };
            let (best, error) = (-100..=100)
                .map(|k| f64::from(k) / 100.0)
                .map(|shift| (shift, error_at(shift)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap();
            assert!(error < 5e-3, "{rate_in} -> {rate_out}: error {error} at best shift {best}");
        }
    }

    #[test]
    fn block_sizes_follow_the_ratio_and_odd_ones_are_refused() {
        assert_eq!(BlockResampler::new(48_000, 16_000, 9600).unwrap().output_len(), 3200);
        assert_eq!(BlockResampler::new(44_100, 16_000, 8820).unwrap().output_len(), 3200);
        assert_eq!(BlockResampler::new(16_000, 40_000, 3200).unwrap().output_len(), 8000);
        assert!(BlockResampler::new(22_050, 16_000, 2206).is_err(), "2206 samples at 22.05 kHz are 1600.7 at 16 kHz");
        let same = BlockResampler::new(48_000, 48_000, 480).unwrap();
        assert_eq!((same.output_len(), same.delay()), (480, 0));
    }

    /// A tone comes out as the same tone at the new rate, exactly `delay()` output samples late.
    #[test]
    fn output_is_the_input_at_the_new_rate_delayed_by_the_reported_delay() {
        for (rate_in, rate_out, block) in
            [(48_000u32, 16_000u32, 9600usize), (44_100, 16_000, 8820), (16_000, 40_000, 3200)]
        {
            let mut resampler = BlockResampler::new(rate_in, rate_out, block).unwrap();
            let seconds = 1.0;
            let input = glide(f64::from(rate_in), (f64::from(rate_in) * seconds) as usize);
            let output = run(&mut resampler, &input);
            let expected = glide(f64::from(rate_out), output.len());
            let delay = resampler.delay();
            assert!(delay > 0);
            // Skip the filter's start-up, then every sample must match.
            let worst =
                (200..output.len() - delay).map(|k| (output[k + delay] - expected[k]).abs()).fold(0.0f32, f32::max);
            assert!(worst < 5e-3, "{rate_in} -> {rate_out}: error {worst} with delay {delay}");
        }
    }
}
