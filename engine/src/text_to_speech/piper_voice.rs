//! A Piper voice: a VITS model (`X.onnx`) and its config (`X.onnx.json`), run with ONNX Runtime.

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::TensorRef;
use serde::Deserialize;

use super::error::TtsError;
use super::phoneme_ids::PhonemeIdMap;
use crate::model_error::{BadValues, ModelError};
use crate::model_file::ModelFile;

/// The parts of a Piper voice's config speaking needs.
#[derive(Debug, Clone, Deserialize)]
pub struct PiperConfig {
    pub audio: AudioConfig,
    pub espeak: EspeakConfig,
    #[serde(default)]
    pub inference: InferenceConfig,
    /// Piper's phonemes come from espeak (`"espeak"`) or are the text's own characters
    /// (`"text"`); only espeak voices are spoken here.
    #[serde(default = "espeak_phonemes")]
    pub phoneme_type: String,
    pub phoneme_id_map: PhonemeIdMap,
    #[serde(default = "one")]
    pub num_speakers: u32,
}

/// The rate the voice speaks at.
#[derive(Debug, Clone, Deserialize)]
pub struct AudioConfig {
    pub sample_rate: u32,
}

/// The espeak voice (language) the phonemes are made with, such as `en-us`.
#[derive(Debug, Clone, Deserialize)]
pub struct EspeakConfig {
    pub voice: String,
}

/// The voice's sampling settings, as trained; [`Scales`] passes them to the model.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct InferenceConfig {
    /// How much the model varies the voice's timbre from one rendering to the next.
    pub noise_scale: f32,
    /// Phoneme durations are multiplied by it: above 1 speaks slower.
    pub length_scale: f32,
    /// How much the model varies the phonemes' durations.
    pub noise_w: f32,
}

/// Piper's defaults, for configs that leave them out.
impl Default for InferenceConfig {
    fn default() -> Self {
        Self { noise_scale: 0.667, length_scale: 1.0, noise_w: 0.8 }
    }
}

fn espeak_phonemes() -> String {
    "espeak".into()
}

fn one() -> u32 {
    1
}

impl PiperConfig {
    /// The config of the voice `model`: `X.onnx.json` beside `X.onnx`, else `X.json`.
    pub fn path_for(model: &Path) -> PathBuf {
        let mut beside = model.as_os_str().to_owned();
        beside.push(".json");
        let beside = PathBuf::from(beside);
        let replaced = model.with_extension("json");
        if beside.is_file() || !replaced.is_file() { beside } else { replaced }
    }

    /// Read and check a config.
    pub fn read(path: &Path) -> Result<Self, TtsError> {
        let fail = |why: String| TtsError::Config { path: path.to_path_buf(), why };
        let text = std::fs::read_to_string(path).map_err(|e| {
            fail(format!("cannot read the voice's config ({e}); a Piper voice `X.onnx` comes with `X.onnx.json`"))
        })?;
        let config: Self = serde_json::from_str(&text).map_err(|e| fail(format!("not a Piper voice config: {e}")))?;
        if config.phoneme_type != "espeak" {
            return Err(fail(format!(
                "the voice takes {:?} phonemes; only voices trained on espeak-ng phonemes are supported",
                config.phoneme_type
            )));
        }
        if !config.phoneme_id_map.has_framing() {
            return Err(fail("its phoneme_id_map lacks Piper's framing symbols ^, _ and $".into()));
        }
        if !(1_000..=192_000).contains(&config.audio.sample_rate) {
            return Err(fail(format!(
                "its sample rate {} Hz is not a rate audio is spoken at",
                config.audio.sample_rate
            )));
        }
        Ok(config)
    }
}

/// The three scales a Piper model takes with each utterance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scales {
    pub noise_scale: f32,
    pub length_scale: f32,
    pub noise_w: f32,
}

impl From<InferenceConfig> for Scales {
    fn from(c: InferenceConfig) -> Self {
        Self { noise_scale: c.noise_scale, length_scale: c.length_scale, noise_w: c.noise_w }
    }
}

/// A Piper voice ready to speak phoneme ids.
pub struct PiperVoice {
    session: Session,
    config: PiperConfig,
    output: String,
    /// Whether the model takes a speaker id (multi-speaker voices).
    takes_speaker: bool,
}

impl PiperVoice {
    /// Open the voice `model` and its config, running on `threads` intra-op threads.
    pub fn open(model: &Path, threads: usize) -> Result<Self, TtsError> {
        let file = ModelFile::open(model, threads)?;
        let signature = &file.signature;
        let output = match (signature.has_inputs(&["input", "input_lengths", "scales"]), signature.outputs.first()) {
            (true, Some(output)) => output.name.clone(),
            _ => {
                let found = signature.describe();
                return Err(ModelError::UnknownInterface { expected: "a Piper (VITS) voice", found }.into());
            }
        };
        let takes_speaker = signature.input("sid").is_some();
        // Read after the model is known to be a Piper voice, so another kind of model is called
        // that rather than a voice without its config.
        let config = PiperConfig::read(&PiperConfig::path_for(model))?;
        Ok(Self { session: file.session, config, output, takes_speaker })
    }

    /// The voice's config.
    pub fn config(&self) -> &PiperConfig {
        &self.config
    }

    /// The rate the voice speaks at, Hz.
    pub fn sample_rate(&self) -> u32 {
        self.config.audio.sample_rate
    }

    /// Speak one utterance's phoneme ids (see [`PhonemeIdMap::ids`]) as speaker `speaker` (ignored
    /// by single-speaker voices). The audio is checked: NaN or infinite samples are an error.
    pub fn speak(&mut self, ids: &[i64], scales: Scales, speaker: u32) -> Result<Vec<f32>, TtsError> {
        if speaker >= self.config.num_speakers.max(1) {
            return Err(TtsError::Inference(format!(
                "speaker {speaker} does not exist: the voice has {} speaker(s)",
                self.config.num_speakers.max(1)
            )));
        }
        let fail = |e: ort::Error| TtsError::Inference(e.to_string());
        let lengths = [ids.len() as i64];
        let scales = [scales.noise_scale, scales.length_scale, scales.noise_w];
        let sid = [i64::from(speaker)];
        let input = TensorRef::from_array_view(([1, ids.len()], ids)).map_err(fail)?;
        let input_lengths = TensorRef::from_array_view(([1], &lengths[..])).map_err(fail)?;
        let scales = TensorRef::from_array_view(([3], &scales[..])).map_err(fail)?;
        let outputs = if self.takes_speaker {
            let sid = TensorRef::from_array_view(([1], &sid[..])).map_err(fail)?;
            self.session
                .run(ort::inputs!["input" => input, "input_lengths" => input_lengths, "scales" => scales, "sid" => sid])
        } else {
            self.session.run(ort::inputs!["input" => input, "input_lengths" => input_lengths, "scales" => scales])
        }
        .map_err(fail)?;
        let (shape, audio) = outputs[self.output.as_str()].try_extract_tensor::<f32>().map_err(fail)?;
        // Piper gives [1, 1, 1, samples] (older exports [1, 1, samples]): one utterance, whatever
        // the axes, so all of it is the audio.
        let expected: i64 = shape.iter().product();
        if shape.is_empty() || usize::try_from(expected).ok() != Some(audio.len()) {
            return Err(TtsError::Inference(format!("its output has the shape {shape:?} for {} values", audio.len())));
        }
        if audio.iter().any(|v| v.is_nan()) {
            return Err(TtsError::BadAudio(BadValues::NaN));
        }
        if audio.iter().any(|v| v.is_infinite()) {
            return Err(TtsError::BadAudio(BadValues::Infinite));
        }
        Ok(audio.to_vec())
    }
}
