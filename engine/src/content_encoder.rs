//! Running the content encoder (ContentVec/HuBERT) on a 16 kHz window, in either interface.

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::TensorRef;

use super::built_model_cache;
use super::content_encoder_format::{self, ContentEncoderFormat};
use super::content_frames;
use super::int8::{Calibration, Int8Error, Scope};
use super::model_error::ModelError;
use super::model_error::ModelRole;
use super::model_file::ModelFile;
use super::model_output;
use super::synthesizer_format::ModelVersion;
use crate::execution_provider::Provider;

pub struct ContentEncoder {
    session: Session,
    /// Where `session` runs; the int8 copy is made for the CPU alone.
    provider: Provider,
    /// The ONNX model `session` was opened from: the encoder's file, or the model built from RVC's
    /// `hubert_base.pt`. The int8 copy is made from it.
    model: PathBuf,
    /// Set while an int8 copy is calibrated (see [`crate::int8`]).
    calibration: Option<Calibration>,
    /// `audio [1,N]` (units form) or `source [1,1,N]` (embed form).
    input: &'static str,
    output: String,
    width: usize,
    features: Vec<f32>,
    /// Values of `features` the newest encode wrote.
    encoded: usize,
    /// An fp16 export's features converted to f32.
    half_output: Vec<f32>,
}

impl ContentEncoder {
    /// Open the encoder at `path` to feed a `version` voice, for windows of up to `max_samples`.
    /// Refuses an encoder whose features do not fit the voice.
    /// RVC's `hubert_base.pt` is built into its ONNX form first (or taken from the cache).
    pub fn load(path: &Path, threads: usize, version: ModelVersion, max_samples: usize) -> Result<Self, ModelError> {
        let model = built_model_cache::onnx_for(path)?;
        let ModelFile { session, signature, provider } = ModelFile::open(&model, threads)?;
        let format = content_encoder_format::detect(&signature)?;
        let output = format.output_for(version)?.to_owned();
        let input = match format {
            ContentEncoderFormat::Units { .. } => "audio",
            ContentEncoderFormat::Embed { .. } => "source",
        };
        let width = version.feature_width();
        let frames = content_frames::encoder_frames(max_samples.max(content_frames::ENCODER_FIELD));
        let mut encoder = Self {
            session,
            provider,
            model,
            calibration: None,
            input,
            output,
            width,
            features: vec![0.0; frames * width],
            encoded: 0,
            half_output: vec![0.0; frames * width],
        };
        encoder.check()?;
        Ok(encoder)
    }

    /// One second of silence: the frame count and width must be what a ContentVec gives.
    fn check(&mut self) -> Result<(), ModelError> {
        let path = self.model.clone();
        let width = self.width;
        let probe = vec![0.0f32; 16_000];
        let produced = self.encode(&probe).map_err(|e| match e {
            ModelError::BadOutput { .. } => e,
            _ => ModelError::Invalid(format!("{}: {e}", path.display())),
        })?;
        let expected = content_frames::encoder_frames(probe.len()) * width;
        if produced.len() != expected {
            return Err(ModelError::Invalid(format!(
                "the content encoder gave {} values for one second; a ContentVec-style encoder gives {} frames of {width}",
                produced.len(),
                content_frames::encoder_frames(probe.len())
            )));
        }
        Ok(())
    }

    /// Start making an int8 copy of the encoder: until [`Self::finish_int8_calibration`], encoding
    /// runs a probe that records activation ranges.
    pub fn begin_int8_calibration(&mut self, threads: usize) -> Result<(), Int8Error> {
        let calibration =
            Calibration::begin(&mut self.session, self.provider, &self.model, Scope::ContentEncoder, threads)?;
        self.calibration = Some(calibration);
        Ok(())
    }

    /// End calibration: with `quantise`, swap in the int8 copy once it passes the load check;
    /// otherwise (or if that fails) the float model stays. Returns how many operators run in int8.
    pub fn finish_int8_calibration(&mut self, threads: usize, quantise: bool) -> Result<usize, Int8Error> {
        let calibration =
            self.calibration.take().ok_or_else(|| Int8Error::Calibration("no int8 calibration is running".into()))?;
        let (float, operators) = calibration.finish(&mut self.session, threads, quantise)?;
        if let Err(e) = self.check() {
            self.session = float;
            return Err(Int8Error::FailedCheck(e.to_string()));
        }
        Ok(operators)
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// The features of the newest [`ContentEncoder::encode`], to change in place.
    pub fn features_mut(&mut self) -> &mut [f32] {
        &mut self.features[..self.encoded]
    }

    /// Features (`frames × width`, row-major) for `audio` at 16 kHz; the caller may change them
    /// in place (retrieval does).
    pub fn encode(&mut self, audio: &[f32]) -> Result<&mut [f32], ModelError> {
        let fail = |e: ort::Error| ModelError::Invalid(format!("the content encoder failed: {e}"));
        let shape = if self.input == "audio" { vec![1, audio.len()] } else { vec![1, 1, audio.len()] };
        let tensor = TensorRef::from_array_view((shape, audio)).map_err(fail)?;
        let outputs = self.session.run(ort::inputs![self.input => tensor]).map_err(fail)?;
        if let Some(calibration) = self.calibration.as_mut() {
            calibration.observe(&outputs);
        }
        let (shape, data) = model_output::float_output(
            ModelRole::ContentEncoder,
            &outputs[self.output.as_str()],
            &mut self.half_output,
        )?;
        if shape.len() != 3 || shape[2] as usize != self.width {
            return Err(ModelError::Mismatch(format!(
                "the content encoder gave features of shape {shape:?}; the voice needs {} wide",
                self.width
            )));
        }
        // Upsampling to the voice's frames reads the encoder's frames by index: a model that
        // gives one more or one fewer is not a ContentVec, and its frames would be misaligned.
        let expected = content_frames::encoder_frames(audio.len());
        if shape[1] as usize != expected || data.len() != expected * self.width {
            return Err(ModelError::Invalid(format!(
                "the content encoder gave {} frames for {} samples, where a ContentVec gives {expected}",
                shape[1],
                audio.len()
            )));
        }
        let n = data.len();
        if self.features.len() < n {
            // Only a window longer than the one the encoder was opened for.
            self.features.resize(n, 0.0);
        }
        self.features[..n].copy_from_slice(data);
        self.encoded = n;
        Ok(&mut self.features[..n])
    }
}
