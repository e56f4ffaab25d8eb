//! The processor the inference thread drives: the current voice, and the swap to the next one.
//!
//! Like fundsp's `realnet`, the swap is a wrapper with the same trait as what it wraps: the
//! inference thread runs one [`BlockProcessor`] and never learns that voices change. A processor
//! the loader sends takes over between two blocks; the one it replaced goes back to the loader to
//! be freed there, because the inference thread's time is the stream's budget.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rtrb::{Consumer, Producer, RingBuffer};

use super::block_processor::BlockProcessor;
use super::input_history::InputHistory;
use super::stats::StreamStats;

/// A processor on its way to or from the inference thread.
pub type ProcessorBox = Box<dyn BlockProcessor>;

/// The loader's ends of the queues around the inference thread: a new processor (a voice) goes in
/// through `incoming`; the one it replaced comes back through `retired`.
pub struct ProcessorSwap {
    pub incoming: Producer<ProcessorBox>,
    pub retired: Consumer<ProcessorBox>,
}

/// Processors in flight either way; the loader sends one at a time and drains the retired queue
/// before sending the next, so two slots are plenty.
const SWAP_QUEUE: usize = 2;

/// Runs the current processor, and lets the next one take over from it between two blocks.
/// Lives on the inference thread.
pub struct VoiceSwapper {
    current: ProcessorBox,
    incoming: Consumer<ProcessorBox>,
    retired: Producer<ProcessorBox>,
    /// What the current processor would play next, handed to its successor to fade from.
    pending: Vec<f32>,
    pending_weight: Vec<f32>,
    /// Counts the swaps.
    stats: Arc<StreamStats>,
}

impl VoiceSwapper {
    /// Start with `processor`, with a crossfade of `crossfade` samples to those that take over
    /// later. Returns the loader's ends of the queues.
    pub fn new(processor: ProcessorBox, crossfade: usize, stats: Arc<StreamStats>) -> (Self, ProcessorSwap) {
        let (swap_in, incoming) = RingBuffer::new(SWAP_QUEUE);
        let (retired, swap_out) = RingBuffer::new(SWAP_QUEUE);
        let swapper = Self {
            current: processor,
            incoming,
            retired,
            pending: vec![0.0; crossfade],
            pending_weight: vec![0.0; crossfade],
            stats,
        };
        (swapper, ProcessorSwap { incoming: swap_in, retired: swap_out })
    }

    /// Replace the current processor for good with `fallback`, without a crossfade: after a
    /// panic, whatever the current one holds may be broken. It goes back to the loader like any
    /// replaced processor (dropping it here could panic again); should that queue be full, it is
    /// handed back to the caller to dispose of.
    pub fn fall_back(&mut self, fallback: ProcessorBox) -> Option<ProcessorBox> {
        let broken = std::mem::replace(&mut self.current, fallback);
        match self.retired.push(broken) {
            Ok(()) => None,
            Err(rtrb::PushError::Full(broken)) => Some(broken),
        }
    }

    /// Let a processor the loader sent take over before the next block, from the stream's `input`
    /// so far (the block just converted included). One whose delay differs would shift the output
    /// against the reported latency, so it is sent back unused.
    fn swap_in_next(&mut self, input: &InputHistory) {
        let Ok(mut next) = self.incoming.pop() else {
            return;
        };
        if next.delay() == self.current.delay() {
            self.current.pending_output(input, &mut self.pending, &mut self.pending_weight);
            next.take_over(input, &self.pending, &self.pending_weight);
            std::mem::swap(&mut self.current, &mut next);
            self.stats.swaps.fetch_add(1, Ordering::Relaxed);
        }
        // The loader drains this queue before sending again; should it ever be full, the old
        // processor is freed here instead, which only costs time.
        let _ = self.retired.push(next);
    }
}

impl BlockProcessor for VoiceSwapper {
    fn delay(&self) -> usize {
        self.current.delay()
    }

    fn process_block(&mut self, input: &InputHistory, output: &mut [f32], weight: &mut [f32]) {
        self.current.process_block(input, output, weight);
        // Between this block and the next: `input` is then exactly what the stream has so far.
        self.swap_in_next(input);
    }

    fn reset(&mut self) {
        self.current.reset();
    }

    fn pending_output(&self, input: &InputHistory, out: &mut [f32], weight: &mut [f32]) {
        self.current.pending_output(input, out, weight);
    }

    fn take_over(&mut self, input: &InputHistory, pending: &[f32], pending_weight: &[f32]) {
        self.current.take_over(input, pending, pending_weight);
    }
}
