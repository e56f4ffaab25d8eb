//! Counters of what the conversion did, stage by stage.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use crate::model_error::ModelError;

/// The stages of converting a block, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Denoise, and the host rate to 16 kHz.
    Input,
    Content,
    Pitch,
    /// Index retrieval and Protect, and spreading the content frames over the voice's frames.
    Retrieval,
    Synthesis,
    /// The voice's rate to the host rate, SOLA and the envelope.
    Output,
}

impl Stage {
    pub const ALL: [Stage; 6] =
        [Stage::Input, Stage::Content, Stage::Pitch, Stage::Retrieval, Stage::Synthesis, Stage::Output];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Input => "denoise + resample in",
            Stage::Content => "content encoder",
            Stage::Pitch => "pitch",
            Stage::Retrieval => "index",
            Stage::Synthesis => "synthesizer",
            Stage::Output => "resample out + SOLA",
        }
    }
}

/// Counters of what the conversion did, for the log, the editor and benchmarks. Written by the
/// inference thread, read by anyone (never by the audio thread).
#[derive(Default)]
pub struct ConversionStats {
    /// Blocks that failed to convert and played the input instead.
    pub failed: AtomicU64,
    /// Whether the newest block failed: failures are logged when they start and when they end,
    /// not once per block.
    failing: AtomicBool,
    /// Why the newest failed block failed.
    last_failure: parking_lot::Mutex<Option<String>>,
    /// Blocks the silence gate kept from the model.
    pub gated: AtomicU64,
    /// Blocks converted.
    pub converted: AtomicU64,
    /// Time spent in each [`Stage`] over all converted blocks, in nanoseconds.
    pub stage_nanos: [AtomicU64; Stage::ALL.len()],
}

impl ConversionStats {
    /// Mean time per converted block in `stage`, in milliseconds.
    pub fn mean_ms(&self, stage: Stage) -> f64 {
        let blocks = self.converted.load(Ordering::Relaxed).max(1);
        self.stage_nanos[stage as usize].load(Ordering::Relaxed) as f64 / blocks as f64 / 1e6
    }

    /// A block failed and plays the input instead.
    pub(super) fn record_failure(&self, why: &ModelError) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let message = why.to_string();
        if !self.failing.swap(true, Ordering::Relaxed) {
            tracing::error!("RVC Live could not convert a block, the input plays instead: {message}");
        }
        *self.last_failure.lock() = Some(message);
    }

    pub(super) fn record_success(&self) {
        if self.failing.swap(false, Ordering::Relaxed) {
            tracing::info!("RVC Live converts again after {} failed blocks", self.failed.load(Ordering::Relaxed));
        }
    }

    /// Whether the newest block failed.
    pub fn is_failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }

    /// Why the newest failed block failed, if one did since the voice loaded.
    pub fn last_failure(&self) -> Option<String> {
        self.last_failure.lock().clone()
    }

    pub(super) fn add(&self, stage: Stage, since: Instant) -> Instant {
        let now = Instant::now();
        self.stage_nanos[stage as usize].fetch_add((now - since).as_nanos() as u64, Ordering::Relaxed);
        now
    }
}
