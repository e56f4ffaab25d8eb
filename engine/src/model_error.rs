//! Why a model file was refused, in words a user can act on.

use std::fmt;

use crate::denoiser::DenoiserError;
use crate::onnx_runtime::SessionError;
use crate::resampler::{ResampleError, ResamplerSetupError};

#[derive(Debug, Clone, PartialEq)]
pub enum ModelError {
    /// The file is not an ONNX model ONNX Runtime can open (broken, truncated, not ONNX), or
    /// ONNX Runtime itself is missing.
    Unreadable(SessionError),
    /// The model's inputs and outputs match none of the interfaces this kind of model comes in.
    UnknownInterface { expected: &'static str, found: String },
    /// The interface is recognised, but something in it is not what that interface requires.
    Invalid(String),
    /// Two models that must work together do not fit each other.
    Mismatch(String),
    /// A model ran but its output cannot be used: NaN, infinite or absurd values.
    BadOutput { role: ModelRole, values: BadValues },
    /// The voice's rate and the host's have no resampler between them.
    Resampler(ResamplerSetupError),
    /// Denoise cannot run at the host's rate and block size.
    Denoiser(DenoiserError),
    /// Audio on its way between the host's rate and a model's could not be resampled.
    Resample(ResampleError),
}

impl From<ResamplerSetupError> for ModelError {
    fn from(e: ResamplerSetupError) -> Self {
        Self::Resampler(e)
    }
}

impl From<DenoiserError> for ModelError {
    fn from(e: DenoiserError) -> Self {
        Self::Denoiser(e)
    }
}

impl From<ResampleError> for ModelError {
    fn from(e: ResampleError) -> Self {
        Self::Resample(e)
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The runtime's own message says what is missing; the file is not to blame.
            Self::Unreadable(why @ SessionError::Runtime { .. }) => why.fmt(f),
            Self::Unreadable(why) => write!(f, "not a readable ONNX model: {why}"),
            Self::UnknownInterface { expected, found } => {
                write!(f, "not {expected}: its interface is unknown ({found})")
            }
            Self::Invalid(why) | Self::Mismatch(why) => f.write_str(why),
            Self::BadOutput { role, values } => write!(f, "{role} produced {values}"),
            Self::Resampler(e) => e.fmt(f),
            Self::Denoiser(e) => e.fmt(f),
            Self::Resample(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ModelError {}

/// Which of the voice's models an output or a failure belongs to, named as the user knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelRole {
    Voice,
    ContentEncoder,
    PitchModel,
}

impl ModelRole {
    /// The largest magnitude an output of this role can sensibly have. RVC's decoder ends in a
    /// tanh (±1); ContentVec/HuBERT features stay within a few tens; pitch models give Hz (or a
    /// confidence, or RMVPE's salience). Far beyond these, the model is broken, and its output
    /// would only reach the user as a deafening burst.
    pub fn magnitude_bound(self) -> f32 {
        match self {
            Self::Voice => 100.0,
            Self::ContentEncoder => 1.0e4,
            Self::PitchModel => 1.0e5,
        }
    }
}

impl fmt::Display for ModelRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Voice => "the voice model",
            Self::ContentEncoder => "the content encoder",
            Self::PitchModel => "the pitch model",
        })
    }
}

/// What was wrong with an output's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BadValues {
    NaN,
    Infinite,
    /// Finite, but beyond [`ModelRole::magnitude_bound`]; the largest magnitude seen.
    OutOfRange {
        peak: f32,
    },
}

impl fmt::Display for BadValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NaN => f.write_str("NaN values"),
            Self::Infinite => f.write_str("infinite values"),
            Self::OutOfRange { peak } => write!(f, "out-of-range values (magnitude up to {peak:.3e})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::onnx_runtime::RuntimeError;

    /// Without ONNX Runtime the message names the model that was to open and blames the missing
    /// runtime, not the file.
    #[test]
    fn a_missing_runtime_is_not_called_an_unreadable_model() {
        let why = RuntimeError { attempts: vec![(PathBuf::from("/opt/ort/libonnxruntime.so"), "no such file".into())] };
        let model = PathBuf::from("/voices/alto/model.onnx");
        let message = ModelError::Unreadable(SessionError::Runtime { model: Some(model), why }).to_string();
        assert!(message.starts_with("/voices/alto/model.onnx: ONNX Runtime could not be loaded"), "{message}");
        assert!(message.contains("/opt/ort/libonnxruntime.so: no such file"), "{message}");
        assert!(!message.contains("not a readable ONNX model"), "{message}");
    }
}
