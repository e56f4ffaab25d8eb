//! Helpers the plugin crate's integration tests share. Each test binary uses a different subset.
#![allow(dead_code)]

use std::path::PathBuf;

use rvc_live_engine::VoiceSelection;

/// A model `cargo xtask models` generated into `.cache/models/<folder>`; a clear failure if the
/// models were never generated.
pub fn model(folder: &str, name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/models").join(folder).join(name);
    assert!(path.is_file(), "{} is missing: run `cargo xtask models` (or `cargo xtask test`)", path.display());
    path
}

/// The analytic models (`models/generate_analytic.py`).
pub fn analytic(name: &str) -> PathBuf {
    model("analytic", name)
}

/// An analytic voice (`synth`) with the analytic ContentVec-framed encoder and the built-in pitch
/// tracker.
pub fn analytic_voice(synth: &str) -> VoiceSelection {
    VoiceSelection {
        synthesizer: Some(analytic(synth)),
        content_encoder: Some(analytic("analytic_content_units.onnx")),
        ..Default::default()
    }
}

/// The real-architecture and pitch models (`models/generate_models.py`).
pub fn generated(name: &str) -> PathBuf {
    model("rvc", name)
}

/// Frequency of a steady tone from its upward zero crossings, interpolated between samples.
pub fn zero_crossing_frequency(signal: &[f32], rate: f64) -> f64 {
    let crossings: Vec<f64> = signal
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] < 0.0 && w[1] >= 0.0)
        .map(|(i, w)| i as f64 + f64::from(-w[0] / (w[1] - w[0])))
        .collect();
    (crossings.len() - 1) as f64 / (crossings.last().unwrap() - crossings[0]) * rate
}

/// 20 s at `rate` of a voice-like harmonic tone (six partials) around 170 Hz whose pitch glides
/// over ±4 semitones with a 5 Hz vibrato; with `pauses`, in phrases of 3.3 s out of every 4 s.
pub fn gliding_voice(rate: f32, pauses: bool) -> Vec<f32> {
    let n = (20.0 * rate) as usize;
    let mut phase = 0.0f64;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let semitones = 4.0 * (2.0 * std::f64::consts::PI * 0.07 * t).sin()
                + 0.3 * (2.0 * std::f64::consts::PI * 5.0 * t).sin();
            phase += 170.0 * 2f64.powf(semitones / 12.0) / f64::from(rate);
            let p = 2.0 * std::f64::consts::PI * phase;
            let voiced = if pauses && t % 4.0 >= 3.3 { 0.0 } else { 1.0 };
            (voiced * 0.25 * (1..=6).map(|k| (k as f64 * p).sin() / k as f64).sum::<f64>()) as f32
        })
        .collect()
}
