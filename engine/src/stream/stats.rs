//! Counters the stream publishes for the editor, the log and tests.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use parking_lot::Mutex;

use super::load_histogram::LoadHistogram;

/// Written by the audio thread and the inference thread, read by anyone (GUI, log, tests). Plain
/// relaxed atomics: each value stands alone, and a reader only needs a recent one.
#[derive(Default)]
pub struct StreamStats {
    /// Times the output fell back to the dry signal because converted audio was late. Written by
    /// the audio thread.
    pub underruns: AtomicU64,
    /// Samples output from the dry fallback instead of converted audio. Written by the audio thread.
    pub fallback_samples: AtomicU64,
    /// Times the inference thread fell so far behind that the input queue filled and the stream
    /// restarted. Written by the audio thread.
    pub overflows: AtomicU64,
    /// Blocks converted since activation. Written by the inference thread.
    pub blocks: AtomicU64,
    /// Voices swapped in since activation. Written by the inference thread.
    pub swaps: AtomicU64,
    /// Compute time of the last block divided by the block's duration, as `f32` bits. Written by
    /// the inference thread.
    last_load: AtomicU32,
    /// The largest such ratio since activation, as `f32` bits. Written by the inference thread.
    peak_load: AtomicU32,
    /// Every block's ratio, for the median and the 99th percentile. Written by the inference
    /// thread.
    pub loads: LoadHistogram,
    /// Why the inference thread stopped converting (a panic it caught), if it did. Written by the
    /// inference thread, once; read by the editor, the log and the command-line tool. Never
    /// touched by the audio thread.
    fault: Mutex<Option<String>>,
}

impl StreamStats {
    pub fn record_block(&self, load: f32) {
        self.blocks.fetch_add(1, Ordering::Relaxed);
        self.loads.record(load);
        self.last_load.store(load.to_bits(), Ordering::Relaxed);
        if load > self.peak_load() {
            self.peak_load.store(load.to_bits(), Ordering::Relaxed);
        }
    }

    pub fn last_load(&self) -> f32 {
        f32::from_bits(self.last_load.load(Ordering::Relaxed))
    }

    pub fn peak_load(&self) -> f32 {
        f32::from_bits(self.peak_load.load(Ordering::Relaxed))
    }

    pub fn reset(&self) {
        for counter in [&self.underruns, &self.fallback_samples, &self.overflows, &self.blocks, &self.swaps] {
            counter.store(0, Ordering::Relaxed);
        }
        self.last_load.store(0, Ordering::Relaxed);
        self.peak_load.store(0, Ordering::Relaxed);
        self.loads.reset();
        *self.fault.lock() = None;
    }

    /// The inference thread stopped converting: the reason for the log, the editor and the CLI.
    pub fn set_fault(&self, why: String) {
        *self.fault.lock() = Some(why);
    }

    pub fn fault(&self) -> Option<String> {
        self.fault.lock().clone()
    }
}
