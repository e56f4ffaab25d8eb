//! How long the inference thread takes per block, as a distribution: the log and the soak report
//! the median and the 99th percentile against the budget, not just the worst block.

use std::sync::atomic::{AtomicU64, Ordering};

/// Buckets per factor of ten of load (compute time over the block's duration): about 4 % wide.
const BUCKETS_PER_DECADE: f32 = 60.0;
/// Loads from 10^-4 (a gated block) to 10^2 (a stall of a hundred blocks).
const LOWEST_DECADE: f32 = -4.0;
const DECADES: f32 = 6.0;
const BUCKETS: usize = (BUCKETS_PER_DECADE * DECADES) as usize;

/// Written by the inference thread (one relaxed increment per block), read by anyone.
pub struct LoadHistogram {
    counts: [AtomicU64; BUCKETS],
}

impl Default for LoadHistogram {
    fn default() -> Self {
        Self { counts: std::array::from_fn(|_| AtomicU64::new(0)) }
    }
}

impl LoadHistogram {
    pub fn record(&self, load: f32) {
        self.counts[bucket(load)].fetch_add(1, Ordering::Relaxed);
    }

    /// The load below which a fraction `q` of the recorded blocks fell (the bucket's upper edge),
    /// or `None` before the first block.
    pub fn quantile(&self, q: f64) -> Option<f32> {
        let counts: Vec<u64> = self.counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &count) in counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(upper_edge(i));
            }
        }
        Some(upper_edge(BUCKETS - 1))
    }

    pub fn reset(&self) {
        for count in &self.counts {
            count.store(0, Ordering::Relaxed);
        }
    }
}

fn bucket(load: f32) -> usize {
    if load.is_nan() || load <= 0.0 {
        return 0;
    }
    let position = (load.log10() - LOWEST_DECADE) * BUCKETS_PER_DECADE;
    (position.max(0.0) as usize).min(BUCKETS - 1)
}

fn upper_edge(bucket: usize) -> f32 {
    10f32.powf(LOWEST_DECADE + (bucket as f32 + 1.0) / BUCKETS_PER_DECADE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_land_within_a_bucket_of_the_true_value() {
        let histogram = LoadHistogram::default();
        assert_eq!(histogram.quantile(0.5), None);
        // 1000 blocks at loads 0.001 .. 1.0.
        for i in 1..=1000 {
            histogram.record(i as f32 / 1000.0);
        }
        let width = 10f32.powf(1.0 / BUCKETS_PER_DECADE);
        for (q, truth) in [(0.5, 0.5f32), (0.99, 0.99), (1.0, 1.0)] {
            let got = histogram.quantile(q).unwrap();
            assert!(got >= truth && got <= truth * width * 1.001, "q {q}: {got} vs {truth}");
        }
        histogram.record(f32::NAN);
        histogram.record(1e9);
        histogram.reset();
        assert_eq!(histogram.quantile(0.5), None);
    }
}
