//! The latency RVC Live documents, computed independently of the plugin so a test can compare
//! what the plugin reports against the formula rather than against itself.
//!
//! `L = block + max_frames_count + worker_budget + fallback_fade + crossfade + sola_search`, every
//! term in samples at the sample rate; the block is whole 10 ms frames, the fallback fade 5 ms.

use crate::state::StreamSettings;

/// Every term of the formula, so a failing test can say which one disagrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedLatency {
    pub block: usize,
    pub max_frames: usize,
    pub worker_budget: usize,
    pub fallback_fade: usize,
    pub crossfade: usize,
    pub sola_search: usize,
}

impl ExpectedLatency {
    pub fn new(settings: StreamSettings, sample_rate: f64, max_frames: u32) -> Self {
        let ms = |v: f64| (v * sample_rate / 1000.0).round() as usize;
        let block_ms = f64::from(settings.block_ms).clamp(20.0, 1000.0);
        let frames = (block_ms / 10.0).round().max(1.0);
        let block = ms(frames * 10.0).max(1);
        Self {
            block,
            max_frames: max_frames.max(1) as usize,
            worker_budget: (block as f64 * f64::from(settings.worker_budget).clamp(0.05, 1.0)).ceil() as usize,
            fallback_fade: ms(5.0).max(1),
            crossfade: ms(f64::from(settings.crossfade_ms).clamp(0.0, 150.0)),
            sola_search: ms(f64::from(settings.sola_search_ms).clamp(0.0, 20.0)),
        }
    }

    pub fn defaults(sample_rate: f64, max_frames: u32) -> Self {
        Self::new(StreamSettings::default(), sample_rate, max_frames)
    }

    pub fn total(&self) -> usize {
        self.block + self.max_frames + self.worker_budget + self.fallback_fade + self.crossfade + self.sola_search
    }

    /// The formula with the worker budget a measured-budget plugin reserved, taken from the
    /// latency it `reported`: every other term must be the formula's, and the budget at least a
    /// sample and at most the settings' cap (`worker_budget` here). The test fails otherwise.
    pub fn with_measured_budget(&self, reported: usize) -> Self {
        let others = self.total() - self.worker_budget;
        assert!(
            reported > others && reported <= self.total(),
            "reported {reported} samples: the formula's other terms alone make {others} and the budget may add at \
             most {}; terms: {self:?}",
            self.worker_budget
        );
        Self { worker_budget: reported - others, ..*self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formula_adds_up_by_hand() {
        // Pinned settings, not the defaults, so the sum can be written out: 120 ms block, 4096
        // frames, 120 ms budget, 5 ms fade, 40 ms crossfade, 10 ms search.
        let settings = StreamSettings {
            block_ms: 120.0,
            crossfade_ms: 40.0,
            sola_search_ms: 10.0,
            worker_budget: 1.0,
            measured_budget: false,
        };
        let l = ExpectedLatency::new(settings, 48_000.0, 4096);
        assert_eq!(l.total(), 5760 + 4096 + 5760 + 240 + 1920 + 480);
    }

    #[test]
    fn a_measured_budget_is_what_the_other_terms_leave() {
        let l = ExpectedLatency::defaults(48_000.0, 512);
        let measured = l.with_measured_budget(l.total() - 1000);
        assert_eq!(measured.worker_budget, l.worker_budget - 1000);
        assert_eq!(measured.total(), l.total() - 1000);
    }

    #[test]
    #[should_panic(expected = "the formula's other terms alone")]
    fn a_latency_beyond_the_cap_is_no_measured_budget() {
        let l = ExpectedLatency::defaults(48_000.0, 512);
        l.with_measured_budget(l.total() + 1);
    }

    #[test]
    fn half_samples_round_away_from_zero() {
        // 5 ms at 44.1 kHz is 220.5 samples.
        assert_eq!(ExpectedLatency::defaults(44_100.0, 512).fallback_fade, 221);
    }
}
