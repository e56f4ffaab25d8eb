//! RVC Live's engine with structurally real models: RVC's own synthesizer architecture (tiny
//! configuration, random weights) in every export convention, and ContentVec-shaped encoders,
//! as `cargo xtask models` generates them (`models/generate_models.py`). Their weights are random,
//! so the voice is noise-like: these tests check that real graphs load, are recognised, and convert
//! without failing, not how they sound.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rvc_live_engine::ModelFile;
use rvc_live_engine::VoiceSelection;
use rvc_live_engine::content_encoder_format::{self, ContentEncoderFormat};
use rvc_live_engine::stream::StreamSettings;
use rvc_live_engine::synthesizer_format::{self, ExportConvention, ModelVersion};
use rvc_live_engine::{ConversionControls, ConversionStats, RvcProcessor};
use rvc_live_engine::{DecodeRange, Synthesizer};

#[test]
fn real_exports_are_recognised_in_every_convention() {
    for (name, convention, half) in [
        ("rvc_v2_40k_tiny_webui.onnx", ExportConvention::RvcWebUi, false),
        ("rvc_v2_40k_tiny_wokada.onnx", ExportConvention::WOkada, false),
        ("rvc_v2_40k_tiny_wokada_fp16_det.onnx", ExportConvention::WOkada, true),
        ("rvc_v2_40k_tiny_partial.onnx", ExportConvention::PartialDecoding { formant_length: true }, false),
    ] {
        let file = ModelFile::open(&common::generated(name), 1).unwrap();
        let format = synthesizer_format::detect(&file.signature).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(format.convention, convention, "{name}");
        assert_eq!(format.version, ModelVersion::V2, "{name}");
        assert!(format.has_f0, "{name}");
        assert_eq!(format.half_precision_features, half, "{name}");
    }
    for (name, expected) in [
        (
            "contentvec_tiny_units.onnx",
            ContentEncoderFormat::Units { outputs: vec![("units9".into(), 256), ("unit12".into(), 768)] },
        ),
        ("contentvec_tiny_embed.onnx", ContentEncoderFormat::Embed { width: Some(768) }),
    ] {
        let file = ModelFile::open(&common::generated(name), 1).unwrap();
        assert_eq!(content_encoder_format::detect(&file.signature).unwrap(), expected, "{name}");
    }
}

#[test]
fn real_voices_render_at_40k_and_deterministic_exports_repeat_exactly() {
    let mut synth = Synthesizer::load(&common::generated("rvc_v2_40k_tiny_wokada_det.onnx"), 1, 120, 0).unwrap();
    assert_eq!(synth.sample_rate(), 40_000);
    let render = |synth: &mut Synthesizer| {
        for (i, v) in synth.features_mut(120).iter_mut().enumerate() {
            *v = ((i * 7919) % 1000) as f32 / 1000.0 - 0.5;
        }
        let pitch = vec![60i64; 120];
        let pitchf = vec![180.0f32; 120];
        synth.render(&pitch, &pitchf, DecodeRange { skip_head: 80, return_length: 40 }).unwrap().to_vec()
    };
    let (first, second) = (render(&mut synth), render(&mut synth));
    assert_eq!(first.len(), 40 * 400);
    assert!(first.iter().all(|v| v.is_finite()));
    assert_eq!(first, second, "a deterministic export renders the same input identically");
}

#[test]
fn real_voices_convert_through_the_streaming_processor() {
    for (synth, encoder) in [
        ("rvc_v2_40k_tiny_webui.onnx", "contentvec_tiny_units.onnx"),
        ("rvc_v2_40k_tiny_partial.onnx", "contentvec_tiny_embed.onnx"),
        ("rvc_v2_40k_tiny_wokada_fp16_det.onnx", "contentvec_tiny_units.onnx"),
    ] {
        let settings = StreamSettings::default();
        let geometry = RvcProcessor::stream_geometry(&settings, 48_000.0, 512);
        let voice = VoiceSelection {
            synthesizer: Some(common::generated(synth)),
            content_encoder: Some(common::generated(encoder)),
            ..Default::default()
        };
        let stats = Arc::new(ConversionStats::default());
        let mut processor =
            RvcProcessor::load(&voice, &geometry, &settings, Arc::new(ConversionControls::default), stats.clone(), 1)
                .unwrap_or_else(|e| panic!("{synth}: {e}"));
        let input: Vec<f32> = (0..geometry.block * 8)
            .map(|n| 0.3 * (2.0 * std::f32::consts::PI * 160.0 * n as f32 / 48_000.0).sin())
            .collect();
        let output = common::convert_blocks(&mut processor, &geometry, &input);
        assert_eq!(stats.failed.load(Ordering::Relaxed), 0, "{synth}: a block failed to convert");
        assert!(output.iter().all(|v| v.is_finite()), "{synth}");
        let rms =
            (output[geometry.block * 4..].iter().map(|v| v * v).sum::<f32>() / (geometry.block * 4) as f32).sqrt();
        assert!(rms > 1e-4, "{synth}: the voice is silent (rms {rms})");
    }
}
