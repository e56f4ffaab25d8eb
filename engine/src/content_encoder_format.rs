//! Which content encoder interface a model has, and which of its outputs feeds a given voice.
//!
//! Two forms are common: `audio [1,N] -> units9 [1,T,256], unit12 [1,T,768]` (one model serving
//! v1 and v2 voices) and `source [1,1,N] -> embed [1,T,C]` (one model per width). Both take 16 kHz
//! audio and give 50 frames per second.

use super::model_error::ModelError;
use super::model_signature::{Element, ModelSignature};
use super::synthesizer_format::ModelVersion;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentEncoderFormat {
    /// `audio [1,N]`; the named outputs with their widths.
    Units { outputs: Vec<(String, usize)> },
    /// `source [1,1,N] -> embed`; the width, when the model fixes it.
    Embed { width: Option<usize> },
}

const EXPECTED: &str = "a content encoder (ContentVec/HuBERT)";

pub fn detect(signature: &ModelSignature) -> Result<ContentEncoderFormat, ModelError> {
    if let Some(audio) = signature.input("audio") {
        if audio.dims.len() != 2 || audio.element != Element::F32 {
            return Err(ModelError::Invalid(format!("`{audio}` should be [1, samples] f32")));
        }
        let outputs: Vec<(String, usize)> = [("units9", 256), ("unit12", 768)]
            .into_iter()
            .filter_map(|(name, width)| {
                let spec = signature.output(name)?;
                Some((name.to_owned(), spec.dim(2).map_or(width, |w| w as usize)))
            })
            .collect();
        if outputs.is_empty() {
            return Err(ModelError::UnknownInterface { expected: EXPECTED, found: signature.describe() });
        }
        return Ok(ContentEncoderFormat::Units { outputs });
    }
    if let (Some(source), Some(embed)) = (signature.input("source"), signature.output("embed")) {
        if source.dims.len() != 3 || source.element != Element::F32 {
            return Err(ModelError::Invalid(format!("`{source}` should be [1, 1, samples] f32")));
        }
        return Ok(ContentEncoderFormat::Embed { width: embed.dim(2).map(|w| w as usize) });
    }
    Err(ModelError::UnknownInterface { expected: EXPECTED, found: signature.describe() })
}

impl ContentEncoderFormat {
    /// The output that gives the features `version` voices take.
    pub fn output_for(&self, version: ModelVersion) -> Result<&str, ModelError> {
        let wanted = version.feature_width();
        match self {
            Self::Units { outputs } => {
                outputs.iter().find(|(_, w)| *w == wanted).map(|(n, _)| n.as_str()).ok_or_else(|| {
                    let widths: Vec<String> = outputs.iter().map(|(n, w)| format!("{n} ({w})")).collect();
                    ModelError::Mismatch(format!(
                        "the content encoder gives {}, but the voice needs {wanted}-wide features",
                        widths.join(" and ")
                    ))
                })
            }
            Self::Embed { width: Some(width) } if *width != wanted => Err(ModelError::Mismatch(format!(
                "the content encoder gives {width}-wide features, but the voice needs {wanted}"
            ))),
            // An open width is checked against the first features it produces.
            Self::Embed { .. } => Ok("embed"),
        }
    }
}
