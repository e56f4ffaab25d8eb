//! The processor the inference thread drives: the voices loaded into slots, the one the host
//! selects, and the switch from one to another.
//!
//! Like fundsp's `realnet`, the swap is a wrapper with the same trait as what it wraps: the
//! inference thread runs one [`BlockProcessor`] and never learns that voices change. Every slot
//! holds a processor ready to convert (a voice, or the dry processor while it has none), so
//! switching slots costs no load: the selected one takes over between two blocks with the same
//! crossfade a newly loaded voice gets. A processor the loader sends replaces its slot's; the one
//! it replaced goes back to the loader to be freed there, because the inference thread's time is
//! the stream's budget.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rtrb::{Consumer, Producer, RingBuffer};

use super::block_processor::BlockProcessor;
use super::input_history::InputHistory;
use super::stats::StreamStats;

/// A processor on its way to or from the inference thread.
pub type ProcessorBox = Box<dyn BlockProcessor>;

/// A processor the loader built for voice slot `slot`.
pub struct SlotProcessor {
    pub slot: usize,
    pub processor: ProcessorBox,
}

/// The loader's ends of the queues around the inference thread: a new processor (a voice) goes in
/// through `incoming`; the one it replaced comes back through `retired`.
pub struct ProcessorSwap {
    pub incoming: Producer<SlotProcessor>,
    pub retired: Consumer<ProcessorBox>,
}

/// Processors on their way in: the loader sends one at a time.
const INCOMING_QUEUE: usize = 2;

/// Runs the selected slot's processor, and lets another take over from it between two blocks.
/// Lives on the inference thread.
pub struct VoiceSwapper {
    slots: Vec<ProcessorBox>,
    /// The slot that converts now.
    active: usize,
    incoming: Consumer<SlotProcessor>,
    retired: Producer<ProcessorBox>,
    /// What the active processor would play next, handed to its successor to fade from.
    pending: Vec<f32>,
    pending_weight: Vec<f32>,
    /// Set by [`Self::fall_back`]: from then on what the loader sends goes back unused, since it
    /// may share models with the voice that broke.
    faulted: bool,
    /// Counts the swaps.
    stats: Arc<StreamStats>,
}

impl VoiceSwapper {
    /// Start with `slots` (at least one; all with the same delay), `active` converting, with a
    /// crossfade of `crossfade` samples whenever another takes over. Returns the loader's ends of
    /// the queues.
    pub fn new(
        slots: Vec<ProcessorBox>,
        active: usize,
        crossfade: usize,
        stats: Arc<StreamStats>,
    ) -> (Self, ProcessorSwap) {
        assert!(!slots.is_empty(), "a stream converts with at least one processor");
        let (swap_in, incoming) = RingBuffer::new(INCOMING_QUEUE);
        // Room for every slot's processor at once, for the fallback after a panic.
        let (retired, swap_out) = RingBuffer::new(slots.len() + INCOMING_QUEUE);
        let swapper = Self {
            active: active.min(slots.len() - 1),
            slots,
            incoming,
            retired,
            pending: vec![0.0; crossfade],
            pending_weight: vec![0.0; crossfade],
            faulted: false,
            stats,
        };
        (swapper, ProcessorSwap { incoming: swap_in, retired: swap_out })
    }

    /// Replace every slot's processor for good with what `fallback` makes, without a crossfade:
    /// after a panic, whatever the processors hold (models shared between voices included) may be
    /// broken, so nothing converts until the next activation starts a new stream. They go back to
    /// the loader like any replaced processor (dropping them here could panic again); those that
    /// do not fit in that queue are handed back to the caller to dispose of.
    pub fn fall_back(&mut self, mut fallback: impl FnMut() -> ProcessorBox) -> Vec<ProcessorBox> {
        self.faulted = true;
        let mut left = Vec::new();
        for slot in &mut self.slots {
            let broken = std::mem::replace(slot, fallback());
            if let Err(rtrb::PushError::Full(broken)) = self.retired.push(broken) {
                left.push(broken);
            }
        }
        left
    }

    /// Let slot `slot` take over before the next block (if it is not converting already), from
    /// the stream's `input` so far. A slot that does not exist, or whose processor's delay differs
    /// (which would shift the output against the reported latency), is not switched to.
    pub fn select(&mut self, slot: usize, input: &InputHistory) {
        if slot == self.active || slot >= self.slots.len() || self.slots[slot].delay() != self.delay() {
            return;
        }
        self.slots[self.active].pending_output(input, &mut self.pending, &mut self.pending_weight);
        self.slots[slot].take_over(input, &self.pending, &self.pending_weight);
        self.active = slot;
        self.stats.swaps.fetch_add(1, Ordering::Relaxed);
    }

    /// Put a processor the loader sent in its slot before the next block, from the stream's
    /// `input` so far (the block just converted included): in the active slot it takes over now;
    /// in another it waits there, converting nothing, until that slot is selected. One whose delay
    /// differs, or any after a fault, is sent back unused.
    fn swap_in_next(&mut self, input: &InputHistory) {
        let Ok(SlotProcessor { slot, processor: mut next }) = self.incoming.pop() else {
            return;
        };
        if !self.faulted && slot < self.slots.len() && next.delay() == self.delay() {
            if slot == self.active {
                let current = &self.slots[slot];
                current.pending_output(input, &mut self.pending, &mut self.pending_weight);
                next.take_over(input, &self.pending, &self.pending_weight);
                self.stats.swaps.fetch_add(1, Ordering::Relaxed);
            }
            std::mem::swap(&mut self.slots[slot], &mut next);
        }
        // The loader drains this queue before sending again; should it ever be full, the old
        // processor is freed here instead, which only costs time.
        let _ = self.retired.push(next);
    }
}

impl BlockProcessor for VoiceSwapper {
    fn delay(&self) -> usize {
        self.slots[self.active].delay()
    }

    fn process_block(&mut self, input: &InputHistory, output: &mut [f32], weight: &mut [f32]) {
        self.slots[self.active].process_block(input, output, weight);
        // Between this block and the next: `input` is then exactly what the stream has so far.
        self.swap_in_next(input);
    }

    fn reset(&mut self) {
        // The others reset when they take over.
        self.slots[self.active].reset();
    }

    fn pending_output(&self, input: &InputHistory, out: &mut [f32], weight: &mut [f32]) {
        self.slots[self.active].pending_output(input, out, weight);
    }

    fn take_over(&mut self, input: &InputHistory, pending: &[f32], pending_weight: &[f32]) {
        self.slots[self.active].take_over(input, pending, pending_weight);
    }
}
