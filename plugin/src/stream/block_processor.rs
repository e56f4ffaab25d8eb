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
}

/// Passes audio through unchanged, delayed by the tail a converting processor holds back for SOLA
/// and its crossfade, so the whole stream already has the timing the conversion will have.
pub struct IdentityProcessor {
    holdback: DelayLine,
}

impl IdentityProcessor {
    pub fn new(delay: usize) -> Self {
        Self { holdback: DelayLine::new(delay) }
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
    }

    fn reset(&mut self) {
        self.holdback.reset();
    }
}
