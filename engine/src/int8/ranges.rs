//! Calibration ranges and the 8-bit encodings made from them.

use std::collections::HashMap;

/// The smallest and largest value each probed tensor took during calibration.
#[derive(Debug, Default, Clone)]
pub struct TensorRanges {
    ranges: HashMap<String, (f32, f32)>,
}

impl TensorRanges {
    /// Widen `name`'s range to cover `values`; NaN and infinities are not evidence of the range.
    pub fn observe(&mut self, name: &str, values: &[f32]) {
        let (lo, hi) = values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if lo > hi {
            return;
        }
        let entry = self.ranges.entry(name.to_owned()).or_insert((lo, hi));
        *entry = (entry.0.min(lo), entry.1.max(hi));
    }

    pub fn get(&self, name: &str) -> Option<(f32, f32)> {
        self.ranges.get(name).copied()
    }
}

/// An unsigned 8-bit affine encoding, `x ≈ scale · (q − zero_point)`, covering a calibrated range
/// widened by `headroom` (louder input than calibration clips later) and always holding 0 exactly
/// (zero padding must stay zero).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActivationCode {
    pub scale: f32,
    pub zero_point: u8,
}

impl ActivationCode {
    pub fn covering((lo, hi): (f32, f32), headroom: f32) -> Option<Self> {
        let lo = (lo * headroom).min(0.0);
        let hi = (hi * headroom).max(0.0);
        let scale = (hi - lo) / 255.0;
        if !scale.is_finite() || scale < 1e-12 {
            return None;
        }
        let zero_point = (-lo / scale).round().clamp(0.0, 255.0) as u8;
        Some(Self { scale, zero_point })
    }
}

/// The largest weight code. On x86 CPUs without VNNI, ONNX Runtime's u8×s8 kernels add pairs of
/// products into saturating 16-bit sums (`vpmaddubsw`): with full 8-bit weights two large products
/// (255 × 127 × 2) overflow them. On a 2-core AVX2 machine that cost loud input (the test voice at
/// twice its level) 1.5–9 dB of signal to error: the tiny set fell to 7.7–8.3 dB, the full-size
/// voice to 14.4 dB. Seven-bit weights (255 × 63 × 2 < 2^15), ONNX Runtime's `reduce_range`,
/// cannot overflow; they cost a bit of weight precision (the tiny set's loud input 9.2–10.1 dB, the
/// full-size voice's quiet input 23.5 → 18.7 dB). Unsigned weights avoid both but their u8×u8
/// kernels ran the decoder five times slower there. CPUs with VNNI sum in 32 bits and keep all
/// eight bits.
fn weight_peak() -> f32 {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        if std::arch::is_x86_feature_detected!("avx512vnni") || std::arch::is_x86_feature_detected!("avxvnni") {
            127.0
        } else {
            63.0
        }
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    {
        127.0
    }
}

/// Per-output-channel symmetric int8 weights: each channel's largest magnitude maps to the
/// largest code (see [`weight_peak`]).
pub struct ChannelWeights {
    pub scales: Vec<f32>,
    pub values: Vec<i8>,
}

pub fn quantise_weights(weight: &[f32], out_channels: usize) -> ChannelWeights {
    let per_channel = weight.len() / out_channels;
    let mut scales = Vec::with_capacity(out_channels);
    let mut values = Vec::with_capacity(weight.len());
    let top = weight_peak();
    for channel in weight.chunks_exact(per_channel) {
        let peak = channel.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let scale = if peak > 0.0 { peak / top } else { 1.0 };
        scales.push(scale);
        values.extend(channel.iter().map(|v| (v / scale).round().clamp(-top, top) as i8));
    }
    ChannelWeights { scales, values }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_widen_and_ignore_non_finite_values() {
        let mut r = TensorRanges::default();
        r.observe("x", &[0.5, -0.25, f32::NAN]);
        r.observe("x", &[2.0, f32::INFINITY]);
        r.observe("y", &[f32::NAN]);
        assert_eq!(r.get("x"), Some((-0.25, 2.0)));
        assert_eq!(r.get("y"), None);
    }

    #[test]
    fn activation_code_holds_zero_exactly_and_spans_the_range() {
        let code = ActivationCode::covering((-1.0, 3.0), 1.0).unwrap();
        let decode = |q: u8| code.scale * (f32::from(q) - f32::from(code.zero_point));
        assert_eq!(decode(code.zero_point), 0.0);
        assert!((decode(0) + 1.0).abs() < code.scale);
        assert!((decode(255) - 3.0).abs() < code.scale);
        // A one-sided range still includes zero.
        let positive = ActivationCode::covering((0.5, 2.0), 1.0).unwrap();
        assert_eq!(positive.zero_point, 0);
        assert!(ActivationCode::covering((0.0, 0.0), 1.0).is_none());
    }

    #[test]
    fn weights_round_trip_within_half_a_step_per_channel() {
        let w = [0.5f32, -1.0, 0.25, 0.0, 0.0, 0.0, 3.0, 1.5, -0.75];
        let q = quantise_weights(&w, 3);
        assert_eq!(q.scales[1], 1.0, "an all-zero channel keeps a usable scale");
        for (i, (&v, &qv)) in w.iter().zip(&q.values).enumerate() {
            let scale = q.scales[i / 3];
            assert!((f32::from(qv) * scale - v).abs() <= scale / 2.0 + 1e-7, "{i}");
        }
        let top = weight_peak() as i8;
        assert_eq!(q.values[1], -top);
        assert_eq!(q.values[6], top);
    }
}
