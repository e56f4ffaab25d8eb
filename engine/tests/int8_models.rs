//! The int8 copies of the content encoder and the voice's decoder (`engine::int8`, the opt-in
//! "fast (approximate)" precision) must stay as close to the float models they are made from as
//! they were measured to be, through the whole pipeline. How they sound on trained weights is
//! `int8_trained_voice.rs`'s question; this one bounds the engine's use of them. The real RVC
//! architecture (seeded weights, the
//! deterministic export, so both runs see the same noise) converts a gliding voice it was not
//! calibrated on, at two levels and two pitch shifts; the int8 output must stay within a fixed
//! signal-to-error ratio of the float output, keep its loudness, and the copies must really be in
//! use.
//!
//! `RVC_LIVE_INT8_SET=full` runs the same checks on the full-size voice and content encoder (made
//! by `cargo xtask models --set full`).

mod common;

use std::sync::Arc;

use rvc_live_engine::VoiceSelection;
use rvc_live_engine::stream::{StreamGeometry, StreamSettings};
use rvc_live_engine::{ConversionControls, ConversionStats, Precision, RvcProcessor};

const RATE: f32 = 48_000.0;
/// The int8 output's power over the float output's, in dB.
const MAX_LOUDNESS_CHANGE_DB: f64 = 0.5;

/// The set's models and the least float-output power over the power of the difference, in dB,
/// over a whole conversion. Measured: full size 21.6–24.8 dB; the tiny set's random-weight encoder
/// passes feature errors on more strongly, 10.0 dB (its decoder alone, 25.6 dB).
fn fixture() -> (&'static str, &'static str, f64) {
    match std::env::var("RVC_LIVE_INT8_SET").as_deref() {
        Ok("full") => ("rvc_v2_40k_partial_det.onnx", "contentvec_units.onnx", 20.0),
        _ => ("rvc_v2_40k_tiny_partial_det.onnx", "contentvec_tiny_units.onnx", 8.0),
    }
}

fn voice() -> VoiceSelection {
    let (synthesizer, encoder, _) = fixture();
    VoiceSelection {
        synthesizer: Some(common::generated(synthesizer)),
        content_encoder: Some(common::generated(encoder)),
        pitch_model: Some(common::generated("fcpe.onnx")),
        ..Default::default()
    }
}

fn load(int8: bool, semitones: f32) -> RvcProcessor {
    let settings = StreamSettings { int8, ..StreamSettings::default() };
    let geometry = StreamGeometry::new(settings, RATE, 512);
    let controls = ConversionControls { semitones, ..ConversionControls::default() };
    let stats = Arc::new(ConversionStats::default());
    RvcProcessor::load(&voice(), &geometry, &settings, Arc::new(move || controls), stats, 2).unwrap()
}

fn db(ratio: f64) -> f64 {
    10.0 * ratio.log10()
}

fn power(signal: impl Iterator<Item = f32>) -> f64 {
    signal.map(|v| f64::from(v) * f64::from(v)).sum()
}

#[test]
fn the_int8_models_sound_like_the_float_ones() {
    let voice = common::gliding_voice(RATE, true);
    let (_, _, min_signal_to_error_db) = fixture();
    for semitones in [0.0, 12.0] {
        let mut float = load(false, semitones);
        let mut int8 = load(true, semitones);
        assert_eq!(float.precision().synthesizer, Precision::Float(None));
        assert_eq!(float.precision().content_encoder, Precision::Float(None));
        for (what, precision, least) in [
            ("content encoder", &int8.precision().content_encoder, 10),
            ("voice model", &int8.precision().synthesizer, 20),
        ] {
            let Precision::Int8 { operators } = *precision else {
                panic!("no int8 copy of the {what} was made: {}", precision.summary());
            };
            assert!(operators >= least, "only {operators} operators of the {what} run in int8");
        }
        for gain in [0.5f32, 2.0] {
            let input: Vec<f32> = voice.iter().map(|x| x * gain).collect();
            let reference = float.convert_whole(&input).unwrap();
            let quantised = int8.convert_whole(&input).unwrap();
            assert_eq!(reference.len(), quantised.len());
            let signal = power(reference.iter().copied());
            let error = power(reference.iter().zip(&quantised).map(|(a, b)| a - b));
            let loudness = db(power(quantised.iter().copied()) / signal);
            let ser = db(signal / error);
            eprintln!("{semitones:+} semitones, gain {gain}: signal to error {ser:.1} dB, loudness {loudness:+.2} dB");
            assert!(signal > 0.0, "the float models rendered silence");
            assert!(ser >= min_signal_to_error_db, "{semitones:+} st, gain {gain}: signal to error {ser:.1} dB");
            assert!(loudness.abs() <= MAX_LOUDNESS_CHANGE_DB, "{semitones:+} st, gain {gain}: {loudness:+.2} dB");
        }
    }
}

/// Models the copies are not made for (the analytic test models: no transposed-convolution
/// decoder, no transformer) keep working in float, exactly, and say why.
#[test]
fn models_without_anything_to_quantise_stay_in_float() {
    let settings = StreamSettings { int8: true, ..StreamSettings::default() };
    let geometry = StreamGeometry::new(settings, RATE, 512);
    let voice = common::analytic_voice("analytic_synth_v2_40k.onnx");
    let stats = Arc::new(ConversionStats::default());
    let processor =
        RvcProcessor::load(&voice, &geometry, &settings, Arc::new(ConversionControls::default), stats, 1).unwrap();
    match &processor.precision().synthesizer {
        Precision::Float(Some(why)) => assert!(why.to_string().contains("no decoder convolutions"), "{why}"),
        other => panic!("{other:?}"),
    }
    match &processor.precision().content_encoder {
        Precision::Float(Some(why)) => assert!(why.to_string().contains("no transformer layers"), "{why}"),
        other => panic!("{other:?}"),
    }
}
