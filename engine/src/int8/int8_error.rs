//! Why a model stays in float: the int8 copy could not be made, or would not help.

use std::path::PathBuf;

use crate::execution_provider::Provider;
use crate::onnx_runtime::SessionError;

#[derive(Debug, Clone, PartialEq)]
pub enum Int8Error {
    /// The model runs on a hardware provider, where the copy would not run.
    NotOnCpu(Provider),
    /// The model's file could not be read again to make the copy.
    Unreadable {
        path: PathBuf,
        why: String,
    },
    /// The file does not parse as an ONNX model, or the copy could not be written.
    Protobuf(String),
    OldOpset {
        opset: i64,
        minimum: i64,
    },
    /// Nothing in the model is of the kind the copy quantises: what was looked for.
    NothingToQuantise(&'static str),
    /// Every operator to quantise saw a constant input or output during calibration.
    NoSignal,
    /// Calibration was stopped before it ran, or ran and failed (the reason).
    Calibration(String),
    /// ONNX Runtime refused the probe or the copy.
    Session(SessionError),
    /// The copy failed the checks the float model passed at load.
    FailedCheck(String),
}

impl From<SessionError> for Int8Error {
    fn from(e: SessionError) -> Self {
        Self::Session(e)
    }
}

impl std::fmt::Display for Int8Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotOnCpu(provider) => write!(f, "it runs on {provider}, which keeps it in float"),
            Self::Unreadable { path, why } => write!(f, "cannot read {}: {why}", path.display()),
            Self::Protobuf(why) => f.write_str(why),
            Self::OldOpset { opset, minimum } => write!(f, "its opset {opset} is older than {minimum}"),
            Self::NothingToQuantise(what) => write!(f, "no {what} were found"),
            Self::NoSignal => f.write_str("calibration saw no signal in the operators to quantise"),
            Self::Calibration(why) => f.write_str(why),
            Self::Session(e) => e.fmt(f),
            Self::FailedCheck(why) => write!(f, "the int8 copy failed its check: {why}"),
        }
    }
}

impl std::error::Error for Int8Error {}
