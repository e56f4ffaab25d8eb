//! Why a model file was refused, in words a user can act on.

use std::fmt;

use super::model_output::{BadValues, ModelRole};

#[derive(Debug, Clone, PartialEq)]
pub enum ModelError {
    /// The file is not an ONNX model ONNX Runtime can open (broken, truncated, not ONNX).
    Unreadable(String),
    /// The model's inputs and outputs match none of the interfaces this kind of model comes in.
    UnknownInterface { expected: &'static str, found: String },
    /// The interface is recognised, but something in it is not what that interface requires.
    Invalid(String),
    /// Two models that must work together do not fit each other.
    Mismatch(String),
    /// A model ran but its output cannot be used: NaN, infinite or absurd values.
    BadOutput { role: ModelRole, values: BadValues },
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable(why) => write!(f, "not a readable ONNX model: {why}"),
            Self::UnknownInterface { expected, found } => {
                write!(f, "not {expected}: its interface is unknown ({found})")
            }
            Self::Invalid(why) | Self::Mismatch(why) => f.write_str(why),
            Self::BadOutput { role, values } => write!(f, "{role} produced {values}"),
        }
    }
}

impl std::error::Error for ModelError {}
