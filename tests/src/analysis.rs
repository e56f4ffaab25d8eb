//! Measurements on rendered audio: where things landed, how far output is from what was expected,
//! and which of the plugin's two paths (converted or dry fallback) produced each sample.

use crate::fft::cross_correlation;
pub use rvc_live_test_support::analysis::zero_crossing_frequency;

/// The largest absolute difference between `a` and `b` over their common length, and where.
pub fn max_abs_error(a: &[f32], b: &[f32]) -> (f32, usize) {
    a.iter().zip(b).enumerate().fold((0.0, 0), |(worst, at), (i, (&x, &y))| {
        let e = (x - y).abs();
        // NaN counts as the worst error possible.
        if e > worst || e.is_nan() && !worst.is_nan() { (e, i) } else { (worst, at) }
    })
}

/// Index of the largest magnitude in `x[range]`.
pub fn peak_index(x: &[f32], range: std::ops::Range<usize>) -> usize {
    let end = range.end.min(x.len());
    (range.start..end).max_by(|&a, &b| x[a].abs().total_cmp(&x[b].abs())).unwrap_or(range.start)
}

/// The lag (0..=max_lag) at which `output` best matches `reference`.
pub fn delay_by_cross_correlation(reference: &[f32], output: &[f32], max_lag: usize) -> usize {
    let c = cross_correlation(reference, output, max_lag);
    (0..c.len()).max_by(|&a, &b| c[a].total_cmp(&c[b])).unwrap_or(0)
}

/// The largest sample-to-sample step, a measure of clicks.
pub fn max_step(x: &[f32]) -> f32 {
    x.windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0, f32::max)
}

pub fn all_finite(channels: &[Vec<f32>]) -> bool {
    channels.iter().flatten().all(|v| v.is_finite())
}

/// What a stereo output says about the path that made it, given a left-only input `x`, already
/// shifted by the latency. The converted path plays the mono mix `x / 2` on both channels, the dry
/// fallback plays `x` on the left and silence on the right, and the plugin cross-fades between
/// them with a weight `w`: left = `(1 - w/2) x`, right = `w/2 x`. So left + right must equal `x`
/// whatever the weight (the two paths are aligned), and `w = 2 right / x` must stay in `0..=1`.
/// With no voice nothing converts: every judged sample must then be pure fallback (`w = 0`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PathReport {
    /// Samples where `|x|` was large enough to judge the weight.
    pub judged: usize,
    /// Of those, samples that were purely converted (`w ≈ 1`) or purely fallback (`w ≈ 0`).
    pub converted: usize,
    pub fallback: usize,
    /// The first and last judged sample that was not purely converted.
    pub first_not_converted: Option<usize>,
    pub last_not_converted: Option<usize>,
    /// The largest `|left + right - x|` anywhere: alignment of the two paths.
    pub max_alignment_error: f32,
    /// How far the weight strayed outside `0..=1`.
    pub max_weight_excess: f32,
}

impl PathReport {
    pub fn new(left: &[f32], right: &[f32], x_shifted: &[f32], range: std::ops::Range<usize>) -> Self {
        const JUDGE: f32 = 0.05;
        const PURE: f32 = 1e-3;
        let mut report = Self {
            judged: 0,
            converted: 0,
            fallback: 0,
            first_not_converted: None,
            last_not_converted: None,
            max_alignment_error: 0.0,
            max_weight_excess: 0.0,
        };
        for n in range {
            let (l, r, x) = (left[n], right[n], x_shifted[n]);
            let alignment = (l + r - x).abs();
            if alignment > report.max_alignment_error || alignment.is_nan() {
                report.max_alignment_error = alignment;
            }
            if x.abs() < JUDGE {
                continue;
            }
            report.judged += 1;
            let w = 2.0 * r / x;
            report.max_weight_excess = report.max_weight_excess.max(-w).max(w - 1.0);
            if (w - 1.0).abs() <= PURE {
                report.converted += 1;
            } else {
                if w.abs() <= PURE {
                    report.fallback += 1;
                }
                report.first_not_converted.get_or_insert(n);
                report.last_not_converted = Some(n);
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_report_tells_converted_from_fallback() {
        let x = [0.0, 0.5, -0.5, 0.5, -0.5, 0.5];
        // Fallback, then a half-way mix, then converted.
        let left = [0.0, 0.5, -0.375, 0.25, -0.25, 0.25];
        let right = [0.0, 0.0, -0.125, 0.25, -0.25, 0.25];
        let r = PathReport::new(&left, &right, &x, 0..6);
        assert_eq!((r.judged, r.converted, r.fallback), (5, 3, 1));
        assert_eq!((r.first_not_converted, r.last_not_converted), (Some(1), Some(2)));
        assert!(r.max_alignment_error < 1e-7 && r.max_weight_excess <= 0.0);
    }

    #[test]
    fn misaligned_paths_show_up_as_alignment_error() {
        let x = [0.5, -0.5];
        let r = PathReport::new(&[0.25, 0.25], &[0.25, -0.25], &x, 0..2);
        assert!(r.max_alignment_error > 0.4);
    }

    #[test]
    fn cross_correlation_finds_a_known_delay() {
        let reference = crate::signals::noise(2000, 3, 0.5);
        let output = crate::signals::delayed(&reference, 777);
        assert_eq!(delay_by_cross_correlation(&reference, &output, 5000), 777);
    }
}
