//! What one block of this voice costs on this machine, timed when it loads: the measured worker
//! budget (`stream::worker_budget`) and a remote server's compute in its welcome.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{ConversionControls, ConversionStats, RvcProcessor};
use crate::stream::{BlockProcessor, InputHistory, StreamGeometry, StreamSettings};

/// Blocks converted to time one: the first runs each model cold (memory arenas, kernels chosen),
/// the second still meets caches the first did not fill.
const TIMED_BLOCKS: usize = 3;

/// What a voice whose block does not convert is said to take: the longest block there is, so
/// whatever budget is derived from it is the whole block, its cap (its blocks play the input).
pub const UNCONVERTED_BLOCK: Duration = Duration::from_millis(StreamSettings::BLOCK_MS_RANGE.1 as u64);

/// A voice-like tone well above the loudest silence gate, so the models run.
const TONE_HZ: f32 = 180.0;
const TONE_AMPLITUDE: f32 = 0.3;

impl RvcProcessor {
    /// Convert a few blocks of a tone and return what the slower of the last two took: one
    /// block's compute with every model warm, the last one tracking pitch over its whole window
    /// as the first block of every phrase does (after a gated block the kept pitch is stale). The
    /// silence gate is held open while it runs, so the blocks timed are ones the models convert,
    /// and they count in statistics of their own, not the stream's. The processor is reset
    /// afterwards and starts its stream as if fresh. `None` if a block did not convert.
    pub fn time_block(&mut self, geometry: &StreamGeometry) -> Option<Duration> {
        let asked = (self.controls)();
        let own = std::mem::replace(
            &mut self.controls,
            Arc::new(move || ConversionControls { gate_db: f32::NEG_INFINITY, ..asked }),
        );
        let stream_stats = std::mem::replace(&mut self.stats, Arc::new(ConversionStats::default()));
        let mut history = InputHistory::new(geometry.history());
        let (mut signal, mut weight) = (vec![0.0; geometry.block], vec![0.0; geometry.block]);
        let rate = geometry.sample_rate as f32;
        let mut slowest = Duration::ZERO;
        let mut all_converted = true;
        for b in 0..TIMED_BLOCKS {
            let tone: Vec<f32> = (0..geometry.block)
                .map(|i| {
                    let t = (b * geometry.block + i) as f32 / rate;
                    TONE_AMPLITUDE * (std::f32::consts::TAU * TONE_HZ * t).sin()
                })
                .collect();
            history.push_split(&tone, &[]);
            if b + 1 == TIMED_BLOCKS {
                self.pitch.invalidate();
            }
            let converted = self.stats.converted.load(Ordering::Relaxed);
            let started = Instant::now();
            self.process_block(&history, &mut signal, &mut weight);
            let elapsed = started.elapsed();
            all_converted &= self.stats.converted.load(Ordering::Relaxed) > converted;
            if b + 2 >= TIMED_BLOCKS {
                slowest = slowest.max(elapsed);
            }
        }
        self.controls = own;
        self.stats = stream_stats;
        self.reset();
        all_converted.then_some(slowest)
    }
}
