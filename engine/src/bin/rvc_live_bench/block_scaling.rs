//! How a voice's compute grows with the block, from the grid's points at one context: whether a
//! longer block lets this machine keep up, and from which length.
//!
//! A block's compute is close to a line in its length: a part every block pays (the context the
//! models see again, each call's fixed cost) and a part per millisecond converted (the decoder
//! renders every new frame). Where that per-millisecond part is 1 or more, no block length keeps
//! up — the editor's advice to try a longer block cannot help on such a machine, and only
//! cheaper arithmetic or other hardware can.

use serde::Serialize;

use rvc_live_engine::stream::StreamSettings;
use rvc_live_engine::stream::worker_budget::{COMPUTE_HEADROOM, SCHEDULING_SLACK};

/// The line through a context's points (least squares over the median compute per block).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BlockScaling {
    pub context_ms: f64,
    /// The blocks the line was fitted over.
    pub shortest_block_ms: f64,
    pub longest_block_ms: f64,
    /// Compute every block pays whatever its length, in ms.
    pub fixed_ms: f64,
    /// Compute per ms of block.
    pub per_block_ms: f64,
    /// The shortest block whose median compute fits inside it (absent: no length does, or the
    /// compute did not grow with the block, which leaves nothing to extrapolate).
    pub real_time_from_ms: Option<f64>,
    /// The shortest block whose measured worker budget (the plugin's headroom and slack over the
    /// compute the line gives) fits within the budget's default cap (absent as above).
    pub budget_fits_from_ms: Option<f64>,
    /// What the plugin would report at 48 kHz with 512-sample buffers at that block (set by the
    /// report, which knows the plugin's latency).
    pub latency_from_ms: Option<f64>,
}

impl BlockScaling {
    /// The line through `(block ms, median compute ms)` points; `None` with fewer than two
    /// distinct blocks.
    pub fn fit(context_ms: f64, points: &[(f64, f64)]) -> Option<Self> {
        let n = points.len() as f64;
        let mean_block = points.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_compute = points.iter().map(|p| p.1).sum::<f64>() / n;
        let spread: f64 = points.iter().map(|p| (p.0 - mean_block).powi(2)).sum();
        if points.len() < 2 || spread < 1e-9 {
            return None;
        }
        let per_block_ms = points.iter().map(|p| (p.0 - mean_block) * (p.1 - mean_compute)).sum::<f64>() / spread;
        let fixed_ms = mean_compute - per_block_ms * mean_block;
        // compute(b) ≤ share × b, with compute(b) = scale × (fixed + per_block × b) + slack.
        let shortest = |scale: f64, slack: f64, share: f64| {
            let room = share - scale * per_block_ms;
            (room > 0.0 && per_block_ms > 0.0).then(|| ((scale * fixed_ms + slack) / room).max(0.0))
        };
        let cap = f64::from(StreamSettings::default().worker_budget);
        let slack_ms = SCHEDULING_SLACK.as_secs_f64() * 1e3;
        Some(Self {
            context_ms,
            shortest_block_ms: points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min),
            longest_block_ms: points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max),
            fixed_ms,
            per_block_ms,
            real_time_from_ms: shortest(1.0, 0.0, 1.0),
            budget_fits_from_ms: shortest(COMPUTE_HEADROOM, slack_ms, cap),
            latency_from_ms: None,
        })
    }

    /// The line's compute for a block of `block_ms`.
    pub fn compute_ms(&self, block_ms: f64) -> f64 {
        self.fixed_ms + self.per_block_ms * block_ms
    }

    /// The lines of a run: one per context with at least two blocks, in the grid's order.
    pub fn of_points(points: impl IntoIterator<Item = (f64, f64, f64)>) -> Vec<Self> {
        let mut contexts: Vec<(f64, Vec<(f64, f64)>)> = Vec::new();
        for (context, block, compute) in points {
            match contexts.iter_mut().find(|(c, _)| (c - context).abs() < 0.5) {
                Some((_, points)) => points.push((block, compute)),
                None => contexts.push((context, vec![(block, compute)])),
            }
        }
        contexts.iter().filter_map(|(context, points)| Self::fit(*context, points)).collect()
    }

    /// What the line says, in one sentence for the report.
    pub fn summary(&self) -> String {
        let line = format!(
            "context {:.0} ms, blocks {:.0}–{:.0} ms: a block costs {:.1} ms + {:.2} ms per ms of block",
            self.context_ms, self.shortest_block_ms, self.longest_block_ms, self.fixed_ms, self.per_block_ms
        );
        let max_block = f64::from(StreamSettings::BLOCK_MS_RANGE.1);
        let beyond = |ms: f64| if ms > self.longest_block_ms { ", beyond the blocks measured" } else { "" };
        if self.per_block_ms <= 0.0 {
            return format!(
                "context {:.0} ms, blocks {:.0}–{:.0} ms: a longer block cost no more ({:.2} ms per ms of block, \
                 within the noise) — nothing to estimate other blocks from",
                self.context_ms, self.shortest_block_ms, self.longest_block_ms, self.per_block_ms
            );
        }
        match (self.real_time_from_ms, self.budget_fits_from_ms) {
            (None, _) => format!("{line} — no block length keeps up on this machine"),
            (Some(real_time), _) if real_time > max_block => format!(
                "{line} — no block the plugin offers keeps up on this machine (real time only from blocks of {real_time:.0} ms)"
            ),
            (Some(real_time), budget) => {
                let budget = match budget.filter(|&ms| ms <= max_block) {
                    Some(ms) => format!(
                        "the measured budget fits from {ms:.0} ms{}{}",
                        beyond(ms),
                        self.latency_from_ms.map_or(String::new(), |l| format!(" (reported latency {l:.0} ms)"))
                    ),
                    None => "no block the plugin offers leaves the measured budget its headroom".to_owned(),
                };
                format!("{line} — real time from blocks of {real_time:.0} ms{}; {budget}", beyond(real_time))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_through_exact_points_gives_its_intercept_and_slope() {
        let scaling = BlockScaling::fit(250.0, &[(100.0, 80.0), (200.0, 130.0), (300.0, 180.0)]).unwrap();
        assert!((scaling.fixed_ms - 30.0).abs() < 1e-9 && (scaling.per_block_ms - 0.5).abs() < 1e-9);
        // 30 + 0.5 b ≤ b from b = 60.
        assert!((scaling.real_time_from_ms.unwrap() - 60.0).abs() < 1e-9);
        let slack = SCHEDULING_SLACK.as_secs_f64() * 1e3;
        let cap = f64::from(StreamSettings::default().worker_budget);
        let budget = scaling.budget_fits_from_ms.unwrap();
        let budget_at = COMPUTE_HEADROOM * (30.0 + 0.5 * budget) + slack;
        assert!((budget_at - cap * budget).abs() < 1e-6, "the budget just fits its cap there");
    }

    #[test]
    fn a_block_that_costs_more_than_it_lasts_per_ms_never_keeps_up() {
        let scaling = BlockScaling::fit(250.0, &[(120.0, 294.0), (200.0, 420.0), (300.0, 560.0)]).unwrap();
        assert!(scaling.per_block_ms > 1.0);
        assert_eq!(scaling.real_time_from_ms, None);
        assert_eq!(scaling.budget_fits_from_ms, None);
        assert!(scaling.summary().contains("no block length keeps up"));
    }

    #[test]
    fn a_line_that_keeps_up_only_beyond_the_longest_block_offered_says_so() {
        let scaling = BlockScaling::fit(250.0, &[(120.0, 267.3), (200.0, 352.2), (300.0, 446.6)]).unwrap();
        let max_block = f64::from(StreamSettings::BLOCK_MS_RANGE.1);
        assert!(scaling.real_time_from_ms.unwrap() > max_block);
        assert!(scaling.summary().contains("no block the plugin offers keeps up"), "{}", scaling.summary());
    }

    #[test]
    fn a_compute_that_does_not_grow_with_the_block_is_not_extrapolated() {
        let scaling = BlockScaling::fit(250.0, &[(120.0, 31.9), (200.0, 30.9)]).unwrap();
        assert!(scaling.per_block_ms < 0.0);
        assert_eq!((scaling.real_time_from_ms, scaling.budget_fits_from_ms), (None, None));
        assert!(scaling.summary().contains("nothing to estimate"), "{}", scaling.summary());
    }

    #[test]
    fn one_block_per_context_gives_no_line() {
        let lines = BlockScaling::of_points([(250.0, 120.0, 100.0), (500.0, 120.0, 150.0), (500.0, 200.0, 190.0)]);
        assert_eq!(lines.len(), 1, "only the context with two blocks");
        assert_eq!(lines[0].context_ms, 500.0);
        assert!((lines[0].per_block_ms - 0.5).abs() < 1e-9);
    }
}
