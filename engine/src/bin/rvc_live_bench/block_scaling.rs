//! How a voice's compute grows with the block, from the grid's points at one context: whether a
//! longer block lets this machine keep up, and from which length.
//!
//! A block's compute is close to a line in its length: a part every block pays (the context the
//! models see again, each call's fixed cost) and a part per millisecond converted (the decoder
//! renders every new frame). Where that per-millisecond part is 1 or more, no block length keeps
//! up — the editor's advice to try a longer block cannot help on such a machine, and only
//! cheaper arithmetic or other hardware can.

use serde::Serialize;

use rvc_live_engine::stream::worker_budget::{COMPUTE_HEADROOM, SCHEDULING_SLACK};
use rvc_live_engine::stream::{StreamGeometry, StreamSettings};

/// One grid point's compute, in ms per block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockCost {
    pub block_ms: f64,
    /// Over every block of the file: what real time is judged by.
    pub median_ms: f64,
    /// The block `time_block` timed right after the load, as `activate` times it: what the
    /// measured budget is taken from (absent in runs that did not record it).
    pub timed_ms: Option<f64>,
}

/// `fixed + per_block × block`, fitted by least squares.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CostLine {
    /// Compute every block pays whatever its length, in ms.
    pub fixed_ms: f64,
    /// Compute per ms of block.
    pub per_block_ms: f64,
}

impl CostLine {
    /// `None` with fewer than two distinct blocks, or values that are not numbers.
    pub fn fit(points: &[(f64, f64)]) -> Option<Self> {
        if points.len() < 2 {
            return None;
        }
        let n = points.len() as f64;
        let mean_block = points.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_compute = points.iter().map(|p| p.1).sum::<f64>() / n;
        let spread: f64 = points.iter().map(|p| (p.0 - mean_block).powi(2)).sum();
        // NaN spreads fail this too.
        if spread.is_nan() || spread < 1e-9 {
            return None;
        }
        let per_block_ms = points.iter().map(|p| (p.0 - mean_block) * (p.1 - mean_compute)).sum::<f64>() / spread;
        let line = Self { fixed_ms: mean_compute - per_block_ms * mean_block, per_block_ms };
        (line.fixed_ms.is_finite() && line.per_block_ms.is_finite()).then_some(line)
    }

    pub fn at(&self, block_ms: f64) -> f64 {
        self.fixed_ms + self.per_block_ms * block_ms
    }

    /// Whether the line can stand for a cost away from its points: a block pays something, and a
    /// longer one more. Two noisy points of a small voice can give neither.
    pub fn describes_a_cost(&self) -> bool {
        self.fixed_ms >= 0.0 && self.per_block_ms > 0.0
    }

    /// The shortest block `b` with `scale × at(b) + slack ≤ share × b` (`None`: none, however
    /// long), up to whole frames and at least the shortest block offered, so the block it names
    /// is one the plugin runs.
    fn shortest_block_within(&self, scale: f64, slack_ms: f64, share: f64) -> Option<f64> {
        let room = share - scale * self.per_block_ms;
        (self.describes_a_cost() && room > 0.0).then(|| {
            let exact = (scale * self.fixed_ms + slack_ms) / room;
            let frame = f64::from(StreamGeometry::FRAME_MS);
            ((exact / frame).ceil() * frame).max(f64::from(StreamSettings::BLOCK_MS_RANGE.0))
        })
    }

    fn describe(&self) -> String {
        let sign = if self.per_block_ms < 0.0 { '−' } else { '+' };
        format!("{:.1} ms {sign} {:.2} ms per ms of block", self.fixed_ms, self.per_block_ms.abs())
    }
}

/// What a context's points say about longer and shorter blocks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BlockScaling {
    pub context_ms: f64,
    /// The blocks the lines were fitted over.
    pub shortest_block_ms: f64,
    pub longest_block_ms: f64,
    /// Through the median compute per block.
    pub median: CostLine,
    /// Through the blocks timed at load (absent when the run did not record them).
    pub timed: Option<CostLine>,
    /// The shortest block, in whole frames, whose median compute fits inside it (absent: none
    /// does, or the median line describes no cost to extrapolate).
    pub real_time_from_ms: Option<f64>,
    /// The shortest block whose measured worker budget (the plugin's headroom and slack over the
    /// timed line's compute) fits within the budget's default cap (absent as above).
    pub budget_fits_from_ms: Option<f64>,
    /// What the plugin would report at 48 kHz with 512-sample buffers at that block, when it is one
    /// the plugin offers (set by the report, which knows the plugin's latency).
    pub latency_from_ms: Option<f64>,
}

impl BlockScaling {
    /// `None` with fewer than two distinct blocks.
    pub fn fit(context_ms: f64, costs: &[BlockCost]) -> Option<Self> {
        let median = CostLine::fit(&costs.iter().map(|c| (c.block_ms, c.median_ms)).collect::<Vec<_>>())?;
        let timed: Option<Vec<(f64, f64)>> = costs.iter().map(|c| c.timed_ms.map(|t| (c.block_ms, t))).collect();
        let timed = timed.as_deref().and_then(CostLine::fit);
        let cap = f64::from(StreamSettings::default().worker_budget);
        let slack_ms = SCHEDULING_SLACK.as_secs_f64() * 1e3;
        Some(Self {
            context_ms,
            shortest_block_ms: costs.iter().map(|c| c.block_ms).fold(f64::INFINITY, f64::min),
            longest_block_ms: costs.iter().map(|c| c.block_ms).fold(f64::NEG_INFINITY, f64::max),
            median,
            timed,
            real_time_from_ms: median.shortest_block_within(1.0, 0.0, 1.0),
            // Only where the blocks' own compute makes a line: one timing per block is noisier.
            budget_fits_from_ms: timed
                .filter(|_| median.describes_a_cost())
                .and_then(|t| t.shortest_block_within(COMPUTE_HEADROOM, slack_ms, cap)),
            latency_from_ms: None,
        })
    }

    /// The lines of a run: one per context with at least two blocks, in the grid's order.
    pub fn of_points(points: impl IntoIterator<Item = (f64, BlockCost)>) -> Vec<Self> {
        let mut contexts: Vec<(f64, Vec<BlockCost>)> = Vec::new();
        for (context, cost) in points {
            match contexts.iter_mut().find(|(c, _)| (c - context).abs() < 0.5) {
                Some((_, costs)) => costs.push(cost),
                None => contexts.push((context, vec![cost])),
            }
        }
        contexts.iter().filter_map(|(context, costs)| Self::fit(*context, costs)).collect()
    }

    /// The block the budget fits from, when it is one the plugin offers.
    pub fn offered_budget_block_ms(&self) -> Option<f64> {
        self.budget_fits_from_ms.filter(|&ms| ms <= f64::from(StreamSettings::BLOCK_MS_RANGE.1))
    }

    /// What the lines say, in one sentence for the report.
    pub fn summary(&self) -> String {
        let line = format!(
            "context {:.0} ms, blocks {:.0}–{:.0} ms: a block costs {}",
            self.context_ms,
            self.shortest_block_ms,
            self.longest_block_ms,
            self.median.describe()
        );
        let max_block = f64::from(StreamSettings::BLOCK_MS_RANGE.1);
        let outside = |ms: f64| {
            if ms < self.shortest_block_ms || ms > self.longest_block_ms { ", outside the blocks measured" } else { "" }
        };
        if !self.median.describes_a_cost() {
            return format!(
                "{line} — not a cost to extrapolate (a block must cost something, a longer one more): \
                 nothing to estimate other blocks from"
            );
        }
        let Some(real_time) = self.real_time_from_ms else {
            return format!("{line} — no block length keeps up on this machine");
        };
        if real_time > max_block {
            return format!(
                "{line} — no block the plugin offers keeps up on this machine (real time only beyond {max_block:.0} ms)"
            );
        }
        let budget = match (self.timed, self.offered_budget_block_ms()) {
            (None, _) => "no load-time timings in this run to estimate the measured budget from".to_owned(),
            (Some(timed), _) if !timed.describes_a_cost() => {
                format!("the load-time timings ({}) give no budget estimate", timed.describe())
            }
            (Some(_), None) => "no block the plugin offers leaves the measured budget its headroom".to_owned(),
            (Some(_), Some(ms)) => format!(
                "the measured budget fits from {ms:.0} ms{}{}",
                outside(ms),
                self.latency_from_ms.map_or(String::new(), |l| format!(" (reported latency {l:.0} ms)"))
            ),
        };
        format!("{line} — real time from blocks of {real_time:.0} ms{}; {budget}", outside(real_time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs(points: &[(f64, f64, f64)]) -> Vec<BlockCost> {
        points
            .iter()
            .map(|&(block_ms, median_ms, timed)| BlockCost { block_ms, median_ms, timed_ms: Some(timed) })
            .collect()
    }

    #[test]
    fn a_line_through_exact_points_gives_its_intercept_slope_and_whole_frame_thresholds() {
        let scaling =
            BlockScaling::fit(250.0, &costs(&[(100.0, 80.0, 80.0), (200.0, 130.0, 130.0), (300.0, 180.0, 180.0)]))
                .unwrap();
        assert!((scaling.median.fixed_ms - 30.0).abs() < 1e-9 && (scaling.median.per_block_ms - 0.5).abs() < 1e-9);
        // 30 + 0.5 b ≤ b from b = 60, a whole number of frames.
        assert_eq!(scaling.real_time_from_ms, Some(60.0));
        let budget = scaling.budget_fits_from_ms.unwrap();
        let frame = f64::from(StreamGeometry::FRAME_MS);
        assert_eq!(budget % frame, 0.0, "a block the plugin runs");
        let slack = SCHEDULING_SLACK.as_secs_f64() * 1e3;
        let cap = f64::from(StreamSettings::default().worker_budget);
        let needs = |b: f64| COMPUTE_HEADROOM * (30.0 + 0.5 * b) + slack;
        assert!(needs(budget) <= cap * budget, "the budget fits its cap at the block named");
        assert!(needs(budget - frame) > cap * (budget - frame), "and not a frame shorter");
    }

    #[test]
    fn the_budget_is_estimated_from_the_timed_blocks_not_the_median() {
        let scaling =
            BlockScaling::fit(250.0, &costs(&[(100.0, 40.0, 60.0), (200.0, 50.0, 70.0), (300.0, 60.0, 80.0)])).unwrap();
        let slower =
            BlockScaling::fit(250.0, &costs(&[(100.0, 40.0, 40.0), (200.0, 50.0, 50.0), (300.0, 60.0, 60.0)])).unwrap();
        assert_eq!(scaling.real_time_from_ms, slower.real_time_from_ms);
        assert!(scaling.budget_fits_from_ms.unwrap() > slower.budget_fits_from_ms.unwrap());
        let untimed: Vec<BlockCost> = costs(&[(100.0, 40.0, 0.0), (200.0, 50.0, 0.0)])
            .into_iter()
            .map(|c| BlockCost { timed_ms: None, ..c })
            .collect();
        let untimed = BlockScaling::fit(250.0, &untimed).unwrap();
        assert_eq!(untimed.budget_fits_from_ms, None);
        assert!(untimed.summary().contains("no load-time timings"), "{}", untimed.summary());
    }

    #[test]
    fn a_block_that_costs_more_than_it_lasts_per_ms_never_keeps_up() {
        let scaling =
            BlockScaling::fit(250.0, &costs(&[(120.0, 294.0, 300.0), (200.0, 420.0, 430.0), (300.0, 560.0, 570.0)]))
                .unwrap();
        assert!(scaling.median.per_block_ms > 1.0);
        assert_eq!((scaling.real_time_from_ms, scaling.budget_fits_from_ms), (None, None));
        assert!(scaling.summary().contains("no block length keeps up"));
    }

    #[test]
    fn a_line_that_keeps_up_only_beyond_the_longest_block_offered_says_so() {
        let scaling =
            BlockScaling::fit(250.0, &costs(&[(120.0, 267.3, 270.0), (200.0, 352.2, 360.0), (300.0, 446.6, 450.0)]))
                .unwrap();
        let max_block = f64::from(StreamSettings::BLOCK_MS_RANGE.1);
        assert!(scaling.real_time_from_ms.unwrap() > max_block);
        assert_eq!(scaling.offered_budget_block_ms(), None);
        assert!(scaling.summary().contains("no block the plugin offers keeps up"), "{}", scaling.summary());
    }

    #[test]
    fn a_line_that_is_not_a_cost_is_not_extrapolated() {
        for points in [[(120.0, 31.9, 40.0), (200.0, 30.9, 41.0)], [(120.0, 5.0, 40.0), (200.0, 60.0, 41.0)]] {
            let scaling = BlockScaling::fit(250.0, &costs(&points)).unwrap();
            assert!(!scaling.median.describes_a_cost());
            assert_eq!((scaling.real_time_from_ms, scaling.budget_fits_from_ms), (None, None));
            assert!(scaling.summary().contains("nothing to estimate"), "{}", scaling.summary());
        }
    }

    #[test]
    fn a_threshold_below_the_blocks_measured_is_marked_and_at_least_the_shortest_offered() {
        let scaling = BlockScaling::fit(250.0, &costs(&[(120.0, 30.0, 34.0), (200.0, 32.0, 36.0)])).unwrap();
        let shortest = f64::from(StreamSettings::BLOCK_MS_RANGE.0);
        assert!(scaling.real_time_from_ms.unwrap() >= shortest);
        assert!(scaling.summary().contains("outside the blocks measured"), "{}", scaling.summary());
    }

    #[test]
    fn fewer_than_two_blocks_or_no_numbers_give_no_line() {
        assert_eq!(CostLine::fit(&[]), None);
        assert_eq!(CostLine::fit(&[(120.0, 30.0)]), None);
        assert_eq!(CostLine::fit(&[(120.0, 30.0), (120.0, 31.0)]), None);
        assert_eq!(CostLine::fit(&[(f64::NAN, 30.0), (120.0, 31.0)]), None);
        assert_eq!(CostLine::fit(&[(100.0, f64::NAN), (120.0, 31.0)]), None);
        let cost =
            |context: f64, block_ms: f64, median_ms: f64| (context, BlockCost { block_ms, median_ms, timed_ms: None });
        let lines =
            BlockScaling::of_points([cost(250.0, 120.0, 100.0), cost(500.0, 120.0, 150.0), cost(500.0, 200.0, 190.0)]);
        assert_eq!(lines.len(), 1, "only the context with two blocks");
        assert_eq!(lines[0].context_ms, 500.0);
        assert!((lines[0].median.per_block_ms - 0.5).abs() < 1e-9);
    }
}
