//! What the inference thread runs on each block.
//!
//! A processor's output is weighted: each slot carries the converted signal and how much of the
//! slot it fills, the rest being the dry input (which the plugin's mixer has for every channel,
//! delayed by the latency). Passing the input through is weight 0, so stereo stays stereo; a block
//! that fails to convert fades to weight 0 instead of playing a mono copy of the input.

use super::input_history::InputHistory;

/// Converts one block of mono audio at the host's sample rate into one block of output.
///
/// Implementations run on the inference thread, never on the audio thread, so they may take their
/// time (within the budget the latency reserves) but should not allocate per block: every buffer
/// is sized when the processor is built.
///
/// Signals are premultiplied: `output[i]` is the converted sample already scaled by `weight[i]`,
/// and what plays is `output[i] + (1 - weight[i]) * dry`. Crossfading two weighted signals is then
/// the same crossfade on both slices.
pub trait BlockProcessor: Send {
    /// Samples of delay the processor adds on top of collecting a block. The stream's latency
    /// counts it; a processor must delay by exactly this much.
    fn delay(&self) -> usize;

    /// Convert the newest block of `input` into `output` and `weight`, both the stream's block
    /// long. `input` is the stream's history with that block already appended: the context a
    /// processor converts with, which it reads there instead of keeping a copy.
    fn process_block(&mut self, input: &InputHistory, output: &mut [f32], weight: &mut [f32]);

    /// Forget all state, as after a transport jump (the stream clears the history itself).
    fn reset(&mut self);

    /// Write into `out` and `weight` what this processor would play next, before any new input:
    /// what a successor crossfades from when it takes over. `input` is the stream's history.
    fn pending_output(&self, input: &InputHistory, out: &mut [f32], weight: &mut [f32]);

    /// Continue a stream another processor has been converting (a voice swap): `input` is the
    /// stream's history so far; `pending` and `pending_weight` are what the predecessor would have
    /// played next. The first block must fade in from them, so the swap is heard as a crossfade,
    /// not a gap or a click.
    fn take_over(&mut self, input: &InputHistory, pending: &[f32], pending_weight: &[f32]);
}

/// A predecessor's pending output, faded out over the first samples a processor plays.
pub(crate) struct FadeFrom {
    signal: Vec<f32>,
    weight: Vec<f32>,
    /// Samples still to fade out of; 0 when not fading.
    fading: usize,
}

impl FadeFrom {
    pub(crate) fn new(crossfade: usize) -> Self {
        Self { signal: vec![0.0; crossfade], weight: vec![0.0; crossfade], fading: 0 }
    }

    pub(crate) fn start(&mut self, pending: &[f32], pending_weight: &[f32]) {
        self.signal.fill(0.0);
        self.weight.fill(0.0);
        let n = pending.len().min(pending_weight.len()).min(self.signal.len());
        self.signal[..n].copy_from_slice(&pending[..n]);
        self.weight[..n].copy_from_slice(&pending_weight[..n]);
        self.fading = self.signal.len();
    }

    /// Crossfade the start of `output`/`weight` from what is left of the pending output.
    pub(crate) fn apply(&mut self, output: &mut [f32], weight: &mut [f32]) {
        if self.fading == 0 {
            return;
        }
        let len = self.signal.len();
        let start = len - self.fading;
        for (i, (y, g)) in output.iter_mut().zip(weight.iter_mut()).take(self.fading).enumerate() {
            let (k, w) = (start + i, fade_in(start + i, len));
            *y = *y * w + self.signal[k] * (1.0 - w);
            *g = crossfade_weight(self.weight[k], *g, w);
        }
        self.fading -= self.fading.min(output.len());
    }

    /// What is left of the fade, as it would play from now on over `own` (the processor's own
    /// pending output, already in `out`/`weight`).
    pub(crate) fn pending(&self, out: &mut [f32], weight: &mut [f32]) {
        let len = self.signal.len();
        let start = len - self.fading;
        for (i, (y, g)) in out.iter_mut().zip(weight.iter_mut()).take(self.fading).enumerate() {
            let (k, w) = (start + i, fade_in(start + i, len));
            *y = *y * w + self.signal[k] * (1.0 - w);
            *g = crossfade_weight(self.weight[k], *g, w);
        }
    }

    pub(crate) fn stop(&mut self) {
        self.fading = 0;
    }
}

/// The weight of a crossfade from a slot of weight `from` to one of weight `to`, `w` of the way.
/// Written so that two full weights give exactly 1.
#[inline]
pub fn crossfade_weight(from: f32, to: f32, w: f32) -> f32 {
    if from == to { from } else { from + (to - from) * w }
}

/// Passes audio through the stream as converted audio: the mono input, delayed by the tail a
/// converting processor holds back for SOLA and its crossfade, at full weight. It proves the
/// stream's timing (what comes out must be the input exactly `latency` slots later) and stands in
/// for a converting processor in tests and benchmarks.
pub struct IdentityProcessor {
    delay: usize,
    fade: FadeFrom,
}

impl IdentityProcessor {
    /// Delays by `delay`; takes over from another processor with a crossfade of up to `crossfade`
    /// samples. Reads its input `delay` samples back in the stream's history, which must keep a
    /// block and the delay (see [`super::StreamGeometry::history`]).
    pub fn new(delay: usize, crossfade: usize) -> Self {
        Self { delay, fade: FadeFrom::new(crossfade) }
    }
}

impl BlockProcessor for IdentityProcessor {
    fn delay(&self) -> usize {
        self.delay
    }

    fn process_block(&mut self, input: &InputHistory, output: &mut [f32], weight: &mut [f32]) {
        let n = output.len();
        for (i, y) in output.iter_mut().enumerate() {
            *y = input.back(self.delay + n - i);
        }
        weight.fill(1.0);
        self.fade.apply(output, weight);
    }

    fn reset(&mut self) {
        self.fade.stop();
    }

    fn pending_output(&self, input: &InputHistory, out: &mut [f32], weight: &mut [f32]) {
        // The next block starts with the input from `delay` samples ago.
        for (i, o) in out.iter_mut().enumerate() {
            *o = if i < self.delay { input.back(self.delay - i) } else { 0.0 };
        }
        weight.fill(1.0);
        self.fade.pending(out, weight);
    }

    fn take_over(&mut self, _input: &InputHistory, pending: &[f32], pending_weight: &[f32]) {
        self.fade.start(pending, pending_weight);
    }
}

/// No voice: every slot is the dry input (weight 0), which the plugin's mixer plays channel by
/// channel, delayed by the latency: stereo stays stereo, exactly as it came in. Keeps the timing
/// of a converting processor (`delay`) so the latency does not depend on whether a voice loads.
pub struct DryProcessor {
    delay: usize,
    fade: FadeFrom,
}

impl DryProcessor {
    pub fn new(delay: usize, crossfade: usize) -> Self {
        Self { delay, fade: FadeFrom::new(crossfade) }
    }
}

impl BlockProcessor for DryProcessor {
    fn delay(&self) -> usize {
        self.delay
    }

    fn process_block(&mut self, _input: &InputHistory, output: &mut [f32], weight: &mut [f32]) {
        output.fill(0.0);
        weight.fill(0.0);
        self.fade.apply(output, weight);
    }

    fn reset(&mut self) {
        self.fade.stop();
    }

    fn pending_output(&self, _input: &InputHistory, out: &mut [f32], weight: &mut [f32]) {
        out.fill(0.0);
        weight.fill(0.0);
        self.fade.pending(out, weight);
    }

    fn take_over(&mut self, _input: &InputHistory, pending: &[f32], pending_weight: &[f32]) {
        self.fade.start(pending, pending_weight);
    }
}

/// The weight of the incoming signal at sample `i` of a `len`-sample sin² crossfade, the shape
/// SOLA joins blocks with.
pub fn fade_in(i: usize, len: usize) -> f32 {
    let phase = 0.5 * std::f32::consts::PI * (i as f32 + 0.5) / len as f32;
    phase.sin().powi(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A voice handing over to "no voice" fades its pending output out while the weight falls to
    /// the dry input's, sample by sample, with no step at either end.
    #[test]
    fn the_dry_processor_fades_out_of_a_voice_it_takes_over_from() {
        let crossfade = 64;
        let mut dry = DryProcessor::new(100, crossfade);
        let pending = vec![0.5f32; crossfade];
        let history = InputHistory::new(200);
        dry.take_over(&history, &pending, &vec![1.0; crossfade]);
        let (mut out, mut weight) = (vec![9.0; 200], vec![9.0; 200]);
        dry.process_block(&history, &mut out, &mut weight);
        assert!(weight[0] > 0.99 && out[0] > 0.49, "starts where the voice was: {} {}", weight[0], out[0]);
        for i in 1..crossfade {
            assert!(weight[i] <= weight[i - 1] && (weight[i] - weight[i - 1]).abs() < 0.05, "slot {i}");
            assert!((out[i] - 0.5 * weight[i]).abs() < 1e-6, "premultiplied at {i}");
        }
        assert!(weight[crossfade..].iter().all(|&g| g == 0.0) && out[crossfade..].iter().all(|&y| y == 0.0));
    }

    #[test]
    fn full_weights_crossfade_to_exactly_full_weight() {
        for i in 0..100 {
            assert_eq!(crossfade_weight(1.0, 1.0, fade_in(i, 100)), 1.0);
        }
    }
}
