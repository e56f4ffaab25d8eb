//! Rendering through every synthesizer export convention with the analytic voices, whose output
//! is a known sine at `pitchf`.

mod common;

use rvc_live_engine::synthesizer_format::ExportConvention;
use rvc_live_engine::{DecodeRange, Synthesizer};

fn load(name: &str) -> Synthesizer {
    Synthesizer::load(&common::analytic(name), 1, 200, 0).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The analytic voice's output for `frames` frames at `f0`, phase starting at zero.
fn sine(f0: f64, rate: f64, samples: usize) -> Vec<f32> {
    (1..=samples).map(|n| (0.5 * (2.0 * std::f64::consts::PI * f0 * n as f64 / rate).sin()) as f32).collect()
}

fn render_steady(synth: &mut Synthesizer, frames: usize, f0: f32, range: DecodeRange) -> Vec<f32> {
    synth.features_mut(frames).fill(0.1);
    let pitch = vec![100i64; frames];
    let pitchf = vec![f0; frames];
    synth.render(&pitch, &pitchf, range).unwrap().to_vec()
}

fn assert_close(actual: &[f32], expected: &[f32], tolerance: f32, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let worst = actual.iter().zip(expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= tolerance, "{what}: max error {worst}");
}

#[test]
fn the_sample_rate_is_measured_when_no_metadata_gives_it() {
    for (name, rate) in [
        ("analytic_synth_v2_32k.onnx", 32_000),
        ("analytic_synth_v2_40k.onnx", 40_000),
        ("analytic_synth_v2_48k.onnx", 48_000),
    ] {
        let synth = load(name);
        assert_eq!(synth.sample_rate(), rate, "{name}");
        assert_eq!(synth.hop(), rate as usize / 100, "{name}");
    }
}

#[test]
fn every_convention_renders_the_requested_frames() {
    let whole = DecodeRange { skip_head: 0, return_length: 50 };
    for name in [
        "analytic_synth_v2_40k.onnx",
        "analytic_synth_v1_40k.onnx",
        "analytic_synth_wokada_v2_48k.onnx",
        "analytic_synth_wokada_v2_40k_fp16.onnx",
    ] {
        let mut synth = load(name);
        let rate = f64::from(synth.sample_rate());
        let out = render_steady(&mut synth, 50, 220.0, whole);
        // The fp16 export returns half-precision audio (11-bit mantissa), which the runner widens.
        let tolerance = if name.contains("fp16") { 1e-3 } else { 1e-5 };
        assert_close(&out, &sine(220.0, rate, 50 * synth.hop()), tolerance, name);

        // A slice of the window: the same samples as the whole render had there.
        let part = render_steady(&mut synth, 50, 220.0, DecodeRange { skip_head: 10, return_length: 20 });
        let hop = synth.hop();
        assert_close(&part, &out[10 * hop..30 * hop], 1e-6, name);
    }
}

#[test]
fn partial_decoding_renders_only_the_new_frames() {
    let mut synth = load("analytic_synth_partial_v2_40k.onnx");
    assert!(matches!(synth.format().convention, ExportConvention::PartialDecoding { .. }));
    let out = render_steady(&mut synth, 60, 330.0, DecodeRange { skip_head: 35, return_length: 25 });
    // The analytic export restarts its phase at the first decoded frame, as RVC's source does.
    assert_close(&out, &sine(330.0, 40_000.0, 25 * 400), 1e-5, "partial");
}

#[test]
fn a_voice_without_f0_renders_from_features_alone() {
    let mut synth = load("analytic_synth_wokada_v1_32k_nof0.onnx");
    assert!(!synth.format().has_f0);
    let out = render_steady(&mut synth, 30, 0.0, DecodeRange { skip_head: 0, return_length: 30 });
    assert_eq!(out.len(), 30 * 320);
}

#[test]
fn exports_that_cannot_stream_are_refused_at_load() {
    let Err(err) = Synthesizer::load(&common::analytic("bad_synth_fixed_length.onnx"), 1, 200, 0) else {
        panic!("a fixed-length export must be refused");
    };
    let message = err.to_string();
    assert!(message.contains("does not run at 33 frames") && message.contains("cannot stream"), "{message}");
    let Err(err) = Synthesizer::load(&common::analytic("bad_synth_width_512.onnx"), 1, 200, 0) else {
        panic!("a 512-wide voice must be refused");
    };
    assert!(err.to_string().contains("512 wide"));
}
