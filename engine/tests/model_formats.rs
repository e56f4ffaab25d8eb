//! Every synthesizer export convention and content encoder form is recognised from the model file
//! alone, and files that cannot work are refused with a reason. Uses the generated analytic models
//! (`cargo xtask models`), which have the exact interfaces of the real exports.

mod common;

use rvc_live_engine::ModelError;
use rvc_live_engine::ModelFile;
use rvc_live_engine::content_encoder_format::{self, ContentEncoderFormat};
use rvc_live_engine::synthesizer_format::{self, ExportConvention, ModelVersion, SynthesizerFormat};

fn synthesizer(name: &str) -> Result<SynthesizerFormat, ModelError> {
    synthesizer_format::detect(&ModelFile::open(&common::analytic(name), 1)?.signature)
}

fn encoder(name: &str) -> ContentEncoderFormat {
    content_encoder_format::detect(&ModelFile::open(&common::analytic(name), 1).unwrap().signature).unwrap()
}

#[test]
fn webui_exports_are_recognised_at_every_rate_and_version() {
    for (name, version) in [
        ("analytic_synth_v2_32k.onnx", ModelVersion::V2),
        ("analytic_synth_v2_40k.onnx", ModelVersion::V2),
        ("analytic_synth_v2_48k.onnx", ModelVersion::V2),
        ("analytic_synth_v1_40k.onnx", ModelVersion::V1),
    ] {
        let format = synthesizer(name).unwrap();
        assert_eq!(format.convention, ExportConvention::RvcWebUi, "{name}");
        assert_eq!(format.version, version, "{name}");
        assert!(format.has_f0, "{name}");
        assert_eq!(format.sample_rate, None, "{name}: WebUI exports carry no metadata");
    }
}

#[test]
fn wokada_exports_are_recognised_with_their_metadata() {
    let format = synthesizer("analytic_synth_wokada_v2_48k.onnx").unwrap();
    assert_eq!(
        format,
        SynthesizerFormat {
            convention: ExportConvention::WOkada,
            version: ModelVersion::V2,
            has_f0: true,
            half_precision_features: false,
            sample_rate: Some(48_000),
        }
    );
    let fp16 = synthesizer("analytic_synth_wokada_v2_40k_fp16.onnx").unwrap();
    assert!(fp16.half_precision_features);
    assert_eq!(fp16.sample_rate, Some(40_000));
    let no_f0 = synthesizer("analytic_synth_wokada_v1_32k_nof0.onnx").unwrap();
    assert_eq!((no_f0.has_f0, no_f0.version, no_f0.sample_rate), (false, ModelVersion::V1, Some(32_000)));
}

#[test]
fn partial_decoding_exports_are_recognised() {
    let format = synthesizer("analytic_synth_partial_v2_40k.onnx").unwrap();
    assert_eq!(format.convention, ExportConvention::PartialDecoding { formant_length: true });
}

#[test]
fn models_that_cannot_be_voices_are_refused_with_a_reason() {
    let err = synthesizer("bad_synth_width_512.onnx").unwrap_err().to_string();
    assert!(err.contains("512 wide"), "{err}");
    let err = synthesizer("affine.onnx").unwrap_err().to_string();
    assert!(err.contains("not an RVC voice model") && err.contains("x [1,?] f32"), "{err}");
    let err = synthesizer("analytic_content_units.onnx").unwrap_err().to_string();
    assert!(err.contains("not an RVC voice model"), "a content encoder is not a voice: {err}");
}

#[test]
fn missing_and_broken_files_are_refused_with_their_path() {
    let missing = std::path::PathBuf::from("/nonexistent/voice.onnx");
    let Err(err) = ModelFile::open(&missing, 1) else { panic!("a missing file must not open") };
    assert!(err.to_string().contains("/nonexistent/voice.onnx does not exist"), "{err}");

    let dir = std::env::temp_dir().join(format!("rvc-live-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.onnx");
    std::fs::write(&garbage, b"definitely not protobuf \x00\x01\x02").unwrap();
    let Err(err) = ModelFile::open(&garbage, 1) else { panic!("garbage must not open") };
    assert!(matches!(err, ModelError::Unreadable(_)) && err.to_string().contains("garbage.onnx"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn content_encoders_are_recognised_in_both_forms() {
    assert_eq!(
        encoder("analytic_content_units.onnx"),
        ContentEncoderFormat::Units { outputs: vec![("units9".into(), 256), ("unit12".into(), 768)] }
    );
    assert_eq!(encoder("analytic_content_embed.onnx"), ContentEncoderFormat::Embed { width: Some(768) });
}

#[test]
fn the_encoder_output_is_chosen_by_the_voice_and_mismatches_are_refused() {
    let units = encoder("analytic_content_units.onnx");
    assert_eq!(units.output_for(ModelVersion::V1).unwrap(), "units9");
    assert_eq!(units.output_for(ModelVersion::V2).unwrap(), "unit12");
    let embed = encoder("analytic_content_embed.onnx");
    assert_eq!(embed.output_for(ModelVersion::V2).unwrap(), "embed");
    let err = embed.output_for(ModelVersion::V1).unwrap_err().to_string();
    assert!(err.contains("768-wide features, but the voice needs 256"), "{err}");
}
