//! The settings that take effect when a stream starts: how the inference thread cuts the voice
//! into blocks, and what each block's conversion runs with (context, denoise, int8 copies).

use serde::{Deserialize, Serialize};

/// Block, crossfade, SOLA search and worker budget as the user sets them, and the conversion's
/// context, denoise and int8 choice. Each changes the reported latency or what the stream must
/// hold and load (the window, the denoiser, the models' copies), so they are persisted with the
/// project and take effect at the next activation rather than being automatable parameters; the
/// controls that can change between two blocks are the engine's `ConversionControls`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamSettings {
    /// Audio converted per inference call. Rounded to whole 10 ms frames, the RVC frame rate.
    pub block_ms: f32,
    /// Length of the crossfade that joins consecutive converted blocks.
    pub crossfade_ms: f32,
    /// How far the SOLA search may shift a block to find the best join.
    pub sola_search_ms: f32,
    /// The time the inference thread may take per block, as a fraction of the block. The latency
    /// reserves this much, so a thread that stays within it never runs the output queue dry. With
    /// [`Self::measured_budget`] it is the most the measured budget may reserve.
    pub worker_budget: f32,
    /// Reserve what the voice's blocks measure on this machine when it loads (see
    /// [`super::worker_budget`]) instead of the whole `worker_budget`: the same conversion,
    /// sample for sample, at a latency shorter by what the machine does not need.
    pub measured_budget: bool,
    /// Audio before the block that the voice model also sees (RVC's "extra"), so each block is
    /// converted knowing what came before. It costs compute, not latency.
    pub context_ms: f32,
    /// Denoise the voice (RNNoise) before converting it. Adds 10 ms of latency.
    pub denoise: bool,
    /// On the CPU, run the content encoder and the voice model's waveform decoder from int8 copies
    /// calibrated at load: about 1.6 times as fast on a whole block, but approximate — on a trained vocoder they score
    /// [`crate::int8::DECODER_COST`] against float (`engine/tests/int8_trained_voice.rs`), an
    /// audible difference and hiss in the pauses, so it is off by default. Models on a GPU, or
    /// ones a copy cannot be made of, run in float either way.
    pub int8: bool,
}

impl StreamSettings {
    pub const BLOCK_MS_RANGE: (f32, f32) = (20.0, 1000.0);
    pub const CROSSFADE_MS_RANGE: (f32, f32) = (0.0, 150.0);
    pub const SOLA_SEARCH_MS_RANGE: (f32, f32) = (0.0, 20.0);
    pub const WORKER_BUDGET_RANGE: (f32, f32) = (0.05, 1.0);
    pub const CONTEXT_MS_RANGE: (f32, f32) = (0.0, 5000.0);

    /// The same settings with every value forced into its range, so a hand-edited or corrupted
    /// project can never produce a nonsensical geometry. NaN falls back to the default.
    pub fn clamped(self) -> Self {
        let d = Self::default();
        let clamp = |v: f32, (lo, hi): (f32, f32), default: f32| {
            if v.is_finite() { v.clamp(lo, hi) } else { default }
        };
        Self {
            block_ms: clamp(self.block_ms, Self::BLOCK_MS_RANGE, d.block_ms),
            crossfade_ms: clamp(self.crossfade_ms, Self::CROSSFADE_MS_RANGE, d.crossfade_ms),
            sola_search_ms: clamp(self.sola_search_ms, Self::SOLA_SEARCH_MS_RANGE, d.sola_search_ms),
            worker_budget: clamp(self.worker_budget, Self::WORKER_BUDGET_RANGE, d.worker_budget),
            measured_budget: self.measured_budget,
            context_ms: clamp(self.context_ms, Self::CONTEXT_MS_RANGE, d.context_ms),
            denoise: self.denoise,
            int8: self.int8,
        }
    }
}

impl Default for StreamSettings {
    fn default() -> Self {
        // The largest block whose latency stays within the RVC GUI's (about 310 ms: 2 × 120 ms
        // plus 66 ms at a 512-sample buffer), with its 40 ms SOLA crossfade and 10 ms search; a
        // 250 ms context is between w-okada's default (85 ms) and what its guide suggests on a
        // GPU (170–340 ms). The models run in float: the int8 copies are not transparent on
        // trained weights (see `int8`). The budget is what the voice measures, at most a block.
        Self {
            block_ms: 120.0,
            crossfade_ms: 40.0,
            sola_search_ms: 10.0,
            worker_budget: 1.0,
            measured_budget: true,
            context_ms: 250.0,
            denoise: false,
            int8: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamped_keeps_values_in_range_and_replaces_nan() {
        let s = StreamSettings {
            block_ms: 5.0,
            crossfade_ms: f32::NAN,
            sola_search_ms: 99.0,
            worker_budget: -1.0,
            measured_budget: true,
            context_ms: 1e9,
            denoise: true,
            int8: false,
        };
        let c = s.clamped();
        assert_eq!(c.block_ms, 20.0);
        assert_eq!(c.crossfade_ms, StreamSettings::default().crossfade_ms);
        assert_eq!(c.sola_search_ms, 20.0);
        assert_eq!(c.worker_budget, 0.05);
        assert_eq!(c.context_ms, 5000.0);
    }

    #[test]
    fn missing_fields_take_defaults_when_deserialised() {
        let s: StreamSettings = serde_json::from_str(r#"{"block_ms": 120.0}"#).unwrap();
        assert_eq!(s.block_ms, 120.0);
        assert_eq!(s.crossfade_ms, StreamSettings::default().crossfade_ms);
    }
}
