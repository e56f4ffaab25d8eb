//! The pitch models users pick, with the real pretrained weights their PyPI packages ship (FCPE,
//! CREPE tiny), exported by `cargo xtask models`: tones come back at their pitch, silence unvoiced,
//! and the engine sings what they track.

mod common;

use std::sync::Arc;

use rvc_live_engine::PitchTracker;
use rvc_live_engine::VoiceSelection;
use rvc_live_engine::stream::StreamSettings;
use rvc_live_engine::{ConversionControls, ConversionStats, RvcProcessor};
use rvc_live_engine::{PitchDecoding, PitchModel};
use rvc_live_test_support::signals;

fn tone(frequency: f32, samples: usize, rate: f32) -> Vec<f32> {
    signals::harmonic_tone(|_| f64::from(frequency), samples, f64::from(rate), 0.25)
}

fn median(values: &mut [f32]) -> f32 {
    values.sort_by(f32::total_cmp);
    values[values.len() / 2]
}

#[test]
fn pitch_models_track_tones_and_leave_silence_unvoiced() {
    for (name, decoding) in [("fcpe.onnx", PitchDecoding::Fcpe), ("crepe_tiny.onnx", PitchDecoding::Crepe)] {
        let mut tracker =
            PitchModel::load(&common::model("rvc", name), 1, 16_000).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(tracker.decoding(), decoding);
        for f in [110.0, 220.0, 440.0] {
            let audio = tone(f, 16_000, 16_000.0);
            let mut f0 = vec![0.0; 100];
            tracker.track(&audio, &mut f0).unwrap();
            let mut voiced: Vec<f32> = f0[5..95].iter().copied().filter(|&v| v > 0.0).collect();
            assert!(voiced.len() >= 80, "{name}: {f} Hz voiced in only {} of 90 frames", voiced.len());
            let m = median(&mut voiced);
            assert!((m / f - 1.0).abs() < 0.01, "{name}: {f} Hz tracked as {m}");
        }
        let mut f0 = vec![1.0; 50];
        tracker.track(&vec![0.0; 8000], &mut f0).unwrap();
        assert!(f0.iter().all(|&v| v == 0.0), "{name}: silence is unvoiced");
    }
}

#[test]
fn a_file_that_is_no_pitch_model_is_refused() {
    let Err(err) = PitchModel::load(&common::model("analytic", "affine.onnx"), 1, 16_000) else {
        panic!("an affine map is no pitch model");
    };
    assert!(err.to_string().contains("not a pitch model"), "{err}");
}

#[test]
fn the_engine_sings_the_pitch_fcpe_tracks() {
    let settings = StreamSettings::default();
    let geometry = RvcProcessor::stream_geometry(&settings, 48_000.0, 512);
    let voice = VoiceSelection {
        synthesizer: Some(common::model("analytic", "analytic_synth_v2_40k.onnx")),
        content_encoder: Some(common::model("analytic", "analytic_content_units.onnx")),
        pitch_model: Some(common::model("rvc", "fcpe.onnx")),
        ..Default::default()
    };
    let controls = ConversionControls { semitones: 12.0, ..Default::default() };
    let stats = Arc::new(ConversionStats::default());
    let mut processor =
        RvcProcessor::load(&voice, &geometry, &settings, Arc::new(move || controls), stats.clone(), 1).unwrap();
    let input = tone(165.0, geometry.block * 10, 48_000.0);
    let output = common::convert_blocks(&mut processor, &geometry, &input);
    assert_eq!(stats.failed.load(std::sync::atomic::Ordering::Relaxed), 0);
    let tail = &output[geometry.block * 5..];
    let crossings = tail.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count() as f32;
    let measured = crossings / (tail.len() as f32 / 48_000.0);
    assert!((measured / 330.0 - 1.0).abs() < 0.01, "165 Hz an octave up sang {measured} Hz");
}
