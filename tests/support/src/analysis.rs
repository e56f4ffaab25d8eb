//! Measurements of test output that both test suites make.

/// Frequency of a steady tone from its upward zero crossings, interpolated between samples.
pub fn zero_crossing_frequency(signal: &[f32], sample_rate: f64) -> f64 {
    let crossings: Vec<f64> = signal
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] < 0.0 && w[1] >= 0.0)
        .map(|(i, w)| i as f64 + f64::from(-w[0] / (w[1] - w[0])))
        .collect();
    (crossings.len() - 1) as f64 / (crossings.last().unwrap() - crossings[0]) * sample_rate
}
