//! What the inference thread runs on each block.

use crate::delay_line::DelayLine;

/// Converts one block of mono audio at the host's sample rate into one block of output.
///
/// Implementations run on the inference thread, never on the audio thread, so they may take their
/// time (within the budget the latency reserves) but should not allocate per block: every buffer
/// is sized when the processor is built.
pub trait BlockProcessor: Send {
    /// Samples of delay the processor adds on top of collecting a block. The stream's latency
    /// counts it; a processor must delay by exactly this much.
    fn delay(&self) -> usize;

    /// Convert `input` into `output`; both have the stream's block length.
    fn process_block(&mut self, input: &[f32], output: &mut [f32]);

    /// Forget all history, as after a transport jump.
    fn reset(&mut self);

    /// Write into `out` the output this processor would play next, before any new input: what a
    /// successor crossfades from when it takes over. `recent_input` is the stream's input so
    /// far, newest last (see [`BlockProcessor::take_over`]).
    fn pending_output(&self, recent_input: &[f32], out: &mut [f32]);

    /// Continue a stream another processor has been converting (a voice swap): `recent_input` is
    /// the stream's input so far, newest last, as long as the stream keeps it (zeros before the
    /// start); `pending` is what the predecessor would have played next. The first block must
    /// fade in from `pending`, so the swap is heard as a crossfade, not a gap or a click.
    fn take_over(&mut self, recent_input: &[f32], pending: &[f32]);
}

/// Passes audio through unchanged, delayed by the tail a converting processor holds back for SOLA
/// and its crossfade, so the whole stream already has the timing the conversion will have.
pub struct IdentityProcessor {
    holdback: DelayLine,
    /// After taking over from a voice: its pending output, faded out over the first samples.
    fade_from: Vec<f32>,
    /// Samples of `fade_from` still to fade out of; 0 when not fading.
    fading: usize,
}

impl IdentityProcessor {
    /// Delays by `delay`; takes over from another processor with a crossfade of up to `crossfade`
    /// samples.
    pub fn new(delay: usize, crossfade: usize) -> Self {
        Self { holdback: DelayLine::new(delay), fade_from: vec![0.0; crossfade], fading: 0 }
    }
}

impl BlockProcessor for IdentityProcessor {
    fn delay(&self) -> usize {
        self.holdback.delay()
    }

    fn process_block(&mut self, input: &[f32], output: &mut [f32]) {
        for (y, &x) in output.iter_mut().zip(input) {
            *y = self.holdback.process(x);
        }
        if self.fading > 0 {
            let len = self.fade_from.len();
            let start = len - self.fading;
            for (i, y) in output.iter_mut().take(self.fading).enumerate() {
                let w = fade_in(start + i, len);
                *y = *y * w + self.fade_from[start + i] * (1.0 - w);
            }
            self.fading -= self.fading.min(output.len());
        }
    }

    fn reset(&mut self) {
        self.holdback.reset();
        self.fading = 0;
    }

    fn pending_output(&self, recent_input: &[f32], out: &mut [f32]) {
        // The holdback plays the input from `delay` samples ago next.
        let delay = self.holdback.delay();
        let from = recent_input.len().saturating_sub(delay);
        out.fill(0.0);
        for (o, &x) in out.iter_mut().zip(&recent_input[from..]) {
            *o = x;
        }
    }

    fn take_over(&mut self, recent_input: &[f32], pending: &[f32]) {
        self.holdback.reset();
        let delay = self.holdback.delay();
        for &x in &recent_input[recent_input.len().saturating_sub(delay)..] {
            self.holdback.process(x);
        }
        let n = pending.len().min(self.fade_from.len());
        self.fade_from.fill(0.0);
        self.fade_from[..n].copy_from_slice(&pending[..n]);
        self.fading = self.fade_from.len();
    }
}

/// The weight of the incoming signal at sample `i` of a `len`-sample sin² crossfade, the shape
/// SOLA joins blocks with.
pub fn fade_in(i: usize, len: usize) -> f32 {
    let phase = 0.5 * std::f32::consts::PI * (i as f32 + 0.5) / len as f32;
    phase.sin().powi(2)
}
