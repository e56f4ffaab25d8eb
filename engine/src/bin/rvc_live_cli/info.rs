//! `rvc-live info FILE`: what a model or index file is to RVC Live, or why it cannot be used.
//! Each kind of file is tried in turn by the engine's own loaders, so the answer is the one the
//! plugin would reach.

use std::path::Path;
use std::time::Instant;

use rvc_live_engine::built_model_cache::{self, SharedModel};
use rvc_live_engine::content_encoder_format::{self, ContentEncoderFormat};
use rvc_live_engine::synthesizer_format::ModelVersion;
use rvc_live_engine::voice_checkpoint::VoiceCheckpoint;
use rvc_live_engine::voice_graph;
use rvc_live_engine::{IvfFlatIndex, ModelFile, PitchDecoding, PitchModel, Synthesizer};

/// Frames a voice is opened for to measure its rate: a second of 10 ms frames.
const PROBE_FRAMES: usize = 100;
/// Samples a pitch model is opened for: a second at 16 kHz.
const PROBE_SAMPLES: usize = 16_000;

/// The lines describing `path`, or why it is of no use.
pub fn describe(path: &Path) -> Result<Vec<String>, String> {
    if !path.is_file() {
        return Err(format!("{}: no such file", path.display()));
    }
    let extension = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "index" => describe_index(path),
        "onnx" => describe_onnx(path),
        "pth" => describe_checkpoint(path),
        "pt" => describe_shared_checkpoint(path),
        _ => Err(format!(
            "{}: not a file RVC Live uses (.pth voices, .onnx models, .index retrieval indexes)",
            path.display()
        )),
    }
}

/// A voice's `.pth`: what it says of itself, then the model built from it, as the plugin builds it.
fn describe_checkpoint(path: &Path) -> Result<Vec<String>, String> {
    let checkpoint = VoiceCheckpoint::open(path).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let built = voice_graph::build(&checkpoint, voice_graph::embedded_templates()).map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let precision = if checkpoint.weights.any_half() { "fp16" } else { "fp32" };
    Ok(vec![
        format!("{}: an RVC voice checkpoint ({})", path.display(), checkpoint.facts),
        format!(
            "  builds as RVC {}, {} speaker{}, {precision} weights ({:.2} s to build)",
            built.fits.describe(),
            checkpoint.speakers(),
            if checkpoint.speakers() == 1 { "" } else { "s" },
            seconds
        ),
    ])
}

/// RVC's `hubert_base.pt` (fairseq's layout) or `rmvpe.pt`, as the engine builds them.
fn describe_shared_checkpoint(path: &Path) -> Result<Vec<String>, String> {
    let line = match built_model_cache::build_shared_model(path)? {
        (SharedModel::Hubert, _, template) => {
            format!("RVC's HuBERT content encoder as fairseq's checkpoint (builds as {template}, units for v1 and v2)")
        }
        (SharedModel::Rmvpe, _, template) => {
            format!("RVC's RMVPE pitch model as a torch checkpoint (builds as {template}, mel input)")
        }
    };
    Ok(vec![format!("{}: {line}", path.display())])
}

fn describe_index(path: &Path) -> Result<Vec<String>, String> {
    let index = IvfFlatIndex::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let voices = match ModelVersion::with_feature_width(index.dim()) {
        Some(version) => format!("for RVC {} voices", version.name()),
        None => "no RVC voice has features this wide".to_owned(),
    };
    Ok(vec![
        format!("{}: a retrieval index (faiss IVF-Flat), {voices}", path.display()),
        format!("  {}", index.summary()),
    ])
}

/// A voice, a content encoder or a pitch model, in that order; the reason each refused when none
/// took it.
fn describe_onnx(path: &Path) -> Result<Vec<String>, String> {
    let mut refusals = Vec::new();
    match Synthesizer::load(path, 1, PROBE_FRAMES, 0) {
        Ok(voice) => return Ok(voice_lines(path, &voice)),
        Err(e) => refusals.push(format!("  as a voice: {e}")),
    }
    match ModelFile::open(path, 1).and_then(|file| content_encoder_format::detect(&file.signature)) {
        Ok(format) => return Ok(content_encoder_lines(path, &format)),
        Err(e) => refusals.push(format!("  as a content encoder: {e}")),
    }
    match PitchModel::load(path, 1, PROBE_SAMPLES) {
        Ok(model) => {
            let kind = match model.decoding() {
                PitchDecoding::Fcpe => "FCPE",
                PitchDecoding::Crepe => "CREPE",
                PitchDecoding::RmvpeMel => "RMVPE, mel input",
                PitchDecoding::RmvpeWave => "RMVPE, waveform input",
            };
            return Ok(vec![format!("{}: a pitch model ({kind})", path.display())]);
        }
        Err(e) => refusals.push(format!("  as a pitch model: {e}")),
    }
    Err(format!("{}: not a model RVC Live can use\n{}", path.display(), refusals.join("\n")))
}

fn voice_lines(path: &Path, voice: &Synthesizer) -> Vec<String> {
    let format = voice.format();
    let (version, width, convention) =
        (format.version.name(), format.version.feature_width(), format.convention.name());
    let pitch = if format.has_f0 { "with f0" } else { "without f0" };
    let half = if format.half_precision_features { ", fp16 features" } else { "" };
    let formant =
        if voice.shifts_formants() { "takes a formant shift" } else { "no formant shift (no formant length)" };
    vec![
        format!("{}: an RVC voice ({convention})", path.display()),
        format!("  {version} ({width}-wide features), {pitch}{half}, {} Hz, {formant}", voice.sample_rate()),
    ]
}

fn content_encoder_lines(path: &Path, format: &ContentEncoderFormat) -> Vec<String> {
    let serves = match format {
        ContentEncoderFormat::Units { outputs } => {
            outputs.iter().map(|(name, width)| format!("{name} ({width} wide)")).collect::<Vec<_>>().join(", ")
        }
        ContentEncoderFormat::Embed { width: Some(width) } => format!("embed ({width} wide)"),
        ContentEncoderFormat::Embed { width: None } => "embed (width set at run time)".to_owned(),
    };
    vec![format!("{}: a content encoder (ContentVec/HuBERT)", path.display()), format!("  outputs {serves}")]
}
