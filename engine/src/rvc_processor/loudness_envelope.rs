//! RVC's loudness envelope mix: the voice takes on the input's loudness, as much as the user asks.

/// Frame of RVC's loudness envelope (RMS over 40 ms, hopped by 10 ms).
const FRAME_SECONDS: f64 = 0.04;

/// The input's and the voice's loudness per output sample, and the mix between them.
pub(super) struct LoudnessEnvelope {
    frame: usize,
    input: Vec<f32>,
    output: Vec<f32>,
}

impl LoudnessEnvelope {
    pub fn new(sample_rate: u32, block: usize) -> Self {
        let frame = ((FRAME_SECONDS * f64::from(sample_rate)).round() as usize).max(1);
        Self { frame, input: vec![0.0; block], output: vec![0.0; block] }
    }

    /// Give `output` the loudness of `input` (the input it was converted from, sample for
    /// sample), RMS over RVC's 40 ms frames around each sample: fully at `envelope` 0, not at all
    /// at 1.
    pub fn mix(&mut self, input: &[f32], output: &mut [f32], envelope: f32) {
        if envelope >= 1.0 {
            return;
        }
        rms_envelope(input, self.frame, &mut self.input);
        rms_envelope(output, self.frame, &mut self.output);
        for ((y, &rin), &rout) in output.iter_mut().zip(&self.input).zip(&self.output) {
            // RVC: out *= (rms_in / rms_out) ^ (1 - rms_mix_rate), with a floor against silence.
            *y *= (rin / rout.max(1e-3)).powf(1.0 - envelope);
        }
    }
}

/// `out[i]` = RMS of `signal` over the `frame` samples centred on `i` (clipped at the ends), by a
/// running sum: linear in the block, no allocation.
fn rms_envelope(signal: &[f32], frame: usize, out: &mut [f32]) {
    let n = signal.len();
    let half = frame / 2;
    let mut sum = 0.0f64;
    let (mut lo, mut hi) = (0usize, 0usize);
    for (i, o) in out[..n].iter_mut().enumerate() {
        let (want_lo, want_hi) = (i.saturating_sub(half), (i + half + 1).min(n));
        while hi < want_hi {
            sum += f64::from(signal[hi] * signal[hi]);
            hi += 1;
        }
        while lo < want_lo {
            sum -= f64::from(signal[lo] * signal[lo]);
            lo += 1;
        }
        *o = (sum.max(0.0) / (hi - lo) as f64).sqrt() as f32;
    }
}
