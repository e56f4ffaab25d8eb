//! Whether the models run in float or from int8 copies, and why.

use crate::int8::Int8Error;

/// What a model runs in.
#[derive(Debug, Clone, PartialEq)]
pub enum Precision {
    /// Float, as the file is; with the reason when an int8 copy was asked for and not made.
    Float(Option<Int8Error>),
    /// An int8 copy, with this many operators in integers.
    Int8 { operators: usize },
}

impl Precision {
    pub(super) fn of(made: Result<usize, Int8Error>) -> Self {
        match made {
            Ok(operators) => Self::Int8 { operators },
            Err(why) => Self::Float(Some(why)),
        }
    }

    pub fn is_int8(&self) -> bool {
        matches!(self, Self::Int8 { .. })
    }

    /// One line for the log, the command line and the editor.
    pub fn summary(&self) -> String {
        match self {
            Self::Float(None) => "float".into(),
            Self::Float(Some(why)) => format!("float ({why})"),
            Self::Int8 { operators } => format!("int8 ({operators} operators)"),
        }
    }
}

/// What the content encoder and the voice model run in (see [`crate::stream::StreamSettings::int8`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPrecision {
    pub content_encoder: Precision,
    pub synthesizer: Precision,
}

impl ModelPrecision {
    pub fn summary(&self) -> String {
        format!("content encoder {}, voice model {}", self.content_encoder.summary(), self.synthesizer.summary())
    }
}
