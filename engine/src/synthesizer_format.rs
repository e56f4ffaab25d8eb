//! Which RVC synthesizer export a model is, read from its inputs, outputs and metadata; no user
//! flags. Three conventions exist in the field:
//!
//! - RVC WebUI: `phone, phone_lengths, pitch, pitchf, ds, rnd -> audio [1,1,T*hop]`; no metadata,
//!   the noise is an input, and the sample rate shows only in the output length.
//! - w-okada: `feats, p_len, pitch, pitchf, sid -> audio [T*hop]`, with JSON under the `metadata`
//!   key (sample rate, f0, feature width); `feats` may be fp16.
//! - Partial decoding (deiteris): w-okada's plus `skip_head, return_length` (and optionally
//!   `formant_length`) scalars, so only the new frames are decoded.
//!
//! Models without f0 lack the two pitch inputs. v1 models take 256-wide features, v2 768.

use serde::Deserialize;

use super::model_error::ModelError;
use super::model_signature::{Element, ModelSignature, TensorSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportConvention {
    RvcWebUi,
    WOkada,
    PartialDecoding { formant_length: bool },
}

impl ExportConvention {
    /// The convention in words, for the log, the editor and `rvc-live info`.
    pub fn name(self) -> &'static str {
        match self {
            Self::RvcWebUi => "RVC WebUI export (whole-window decode)",
            Self::WOkada => "w-okada export (whole-window decode)",
            Self::PartialDecoding { .. } => "partial decoding",
        }
    }

    /// Whether the export takes a formant length, which a formant shift needs (see
    /// [`crate::formant`]).
    pub fn shifts_formants(self) -> bool {
        self == Self::PartialDecoding { formant_length: true }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelVersion {
    /// 256-wide features: HuBERT/ContentVec layer 9 through its final projection.
    V1,
    /// 768-wide features: layer 12.
    V2,
}

impl ModelVersion {
    /// "v1" or "v2", as RVC names them.
    pub fn name(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }

    /// The version whose features are `width` wide, if any.
    pub fn with_feature_width(width: usize) -> Option<Self> {
        [Self::V1, Self::V2].into_iter().find(|v| v.feature_width() == width)
    }

    pub fn feature_width(self) -> usize {
        match self {
            Self::V1 => 256,
            Self::V2 => 768,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthesizerFormat {
    pub convention: ExportConvention,
    pub version: ModelVersion,
    /// Whether the model takes pitch (coarse and in Hz).
    pub has_f0: bool,
    /// Whether the features input is fp16.
    pub half_precision_features: bool,
    /// From the metadata; WebUI exports carry none, so it is measured by a warm-up run.
    pub sample_rate: Option<u32>,
}

/// w-okada's metadata JSON; only the fields RVC Live checks.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WOkadaMetadata {
    sampling_rate: Option<u32>,
    f0: Option<bool>,
    emb_channels: Option<i64>,
}

const WEBUI: &[&str] = &["phone", "phone_lengths", "ds", "rnd"];
const WOKADA: &[&str] = &["feats", "p_len", "sid"];
const EXPECTED: &str = "an RVC voice model (synthesizer)";

pub fn detect(signature: &ModelSignature) -> Result<SynthesizerFormat, ModelError> {
    let (convention, features) = if signature.has_inputs(WEBUI) {
        (ExportConvention::RvcWebUi, "phone")
    } else if signature.has_inputs(WOKADA) {
        let partial = signature.has_inputs(&["skip_head", "return_length"]);
        if !partial && (signature.input("skip_head").is_some() || signature.input("return_length").is_some()) {
            return Err(ModelError::Invalid("partial decoding needs both `skip_head` and `return_length`".into()));
        }
        let convention = if partial {
            ExportConvention::PartialDecoding { formant_length: signature.input("formant_length").is_some() }
        } else {
            ExportConvention::WOkada
        };
        (convention, "feats")
    } else {
        return Err(ModelError::UnknownInterface { expected: EXPECTED, found: signature.describe() });
    };

    let has_f0 = match (signature.input("pitch"), signature.input("pitchf")) {
        (Some(pitch), Some(pitchf)) => {
            expect_element(pitch, Element::I64)?;
            expect_element(pitchf, Element::F32)?;
            true
        }
        (None, None) => false,
        _ => {
            return Err(ModelError::Invalid(
                "the model takes only one of `pitch` and `pitchf`; f0 models take both".into(),
            ));
        }
    };

    let metadata = match signature.metadata.get("metadata") {
        Some(json) => Some(
            serde_json::from_str::<WOkadaMetadata>(json)
                .map_err(|e| ModelError::Invalid(format!("its `metadata` entry is not valid JSON: {e}")))?,
        ),
        None => None,
    };

    let feats = signature.input(features).expect("checked above");
    if feats.dims.len() != 3 {
        return Err(ModelError::Invalid(format!("`{feats}` should be [1, frames, width]")));
    }
    let half_precision_features = match feats.element {
        Element::F32 => false,
        Element::F16 => true,
        _ => return Err(ModelError::Invalid(format!("`{feats}` should hold f32 or f16"))),
    };
    let declared = metadata.as_ref().and_then(|m| m.emb_channels);
    let width = match (feats.dim(2), declared) {
        (Some(w), Some(d)) if w != d => {
            return Err(ModelError::Invalid(format!("its features are {w} wide but its metadata says {d}")));
        }
        (Some(w), _) | (None, Some(w)) => w,
        (None, None) => return Err(ModelError::Invalid(format!("the width of `{feats}` is not fixed"))),
    };
    let version = match width {
        256 => ModelVersion::V1,
        768 => ModelVersion::V2,
        other => {
            return Err(ModelError::Invalid(format!(
                "its features are {other} wide; RVC voices take 256 (v1) or 768 (v2)"
            )));
        }
    };
    if let Some(m) = &metadata
        && m.f0.is_some_and(|f0| f0 != has_f0)
    {
        return Err(ModelError::Invalid(format!(
            "its metadata says f0 = {}, but it {} pitch inputs",
            !has_f0,
            if has_f0 { "has" } else { "lacks" }
        )));
    }

    let [audio] = signature.outputs.as_slice() else {
        return Err(ModelError::Invalid(format!("a voice model has one output (audio); {}", signature.describe())));
    };
    let rank = if convention == ExportConvention::RvcWebUi { 3 } else { 1 };
    if audio.dims.len() != rank {
        return Err(ModelError::Invalid(format!("its output `{audio}` should be {rank}-dimensional audio")));
    }
    // w-okada's fp16 exports give fp16 audio; the runner converts it.
    if !matches!(audio.element, Element::F32 | Element::F16) {
        let element = match audio.element {
            Element::I64 => "int64",
            _ => "not a float type",
        };
        return Err(ModelError::Invalid(format!(
            "the voice model's output `{}` is {element}: audio must be f32 or f16",
            audio.name
        )));
    }

    Ok(SynthesizerFormat {
        convention,
        version,
        has_f0,
        half_precision_features,
        sample_rate: metadata.and_then(|m| m.sampling_rate),
    })
}

fn expect_element(spec: &TensorSpec, element: Element) -> Result<(), ModelError> {
    if spec.element == element {
        Ok(())
    } else {
        Err(ModelError::Invalid(format!("`{spec}` has the wrong element type for an RVC voice")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webui(width: i64) -> ModelSignature {
        ModelSignature {
            inputs: vec![
                TensorSpec::new("phone", Element::F32, &[1, -1, width]),
                TensorSpec::new("phone_lengths", Element::I64, &[1]),
                TensorSpec::new("pitch", Element::I64, &[1, -1]),
                TensorSpec::new("pitchf", Element::F32, &[1, -1]),
                TensorSpec::new("ds", Element::I64, &[1]),
                TensorSpec::new("rnd", Element::F32, &[1, 192, -1]),
            ],
            outputs: vec![TensorSpec::new("audio", Element::F32, &[1, 1, -1])],
            metadata: Default::default(),
        }
    }

    #[test]
    fn webui_export_is_recognised() {
        let format = detect(&webui(768)).unwrap();
        assert_eq!(format.convention, ExportConvention::RvcWebUi);
        assert_eq!(format.version, ModelVersion::V2);
        assert!(format.has_f0 && !format.half_precision_features);
        assert_eq!(format.sample_rate, None);
        assert_eq!(detect(&webui(256)).unwrap().version, ModelVersion::V1);
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        let err = detect(&webui(512)).unwrap_err().to_string();
        assert!(err.contains("512 wide") && err.contains("256 (v1) or 768 (v2)"), "{err}");

        let mut one_pitch = webui(768);
        one_pitch.inputs.retain(|t| t.name != "pitchf");
        assert!(detect(&one_pitch).unwrap_err().to_string().contains("only one of `pitch` and `pitchf`"));

        let mut lying = webui(768);
        lying.metadata.insert("metadata".into(), r#"{"f0": false, "embChannels": 768}"#.into());
        assert!(detect(&lying).unwrap_err().to_string().contains("metadata says f0 = false"));

        let mut width_lie = webui(768);
        width_lie.metadata.insert("metadata".into(), r#"{"embChannels": 256}"#.into());
        assert!(detect(&width_lie).unwrap_err().to_string().contains("768 wide but its metadata says 256"));

        let unknown = ModelSignature {
            inputs: vec![TensorSpec::new("x", Element::F32, &[1, -1])],
            outputs: vec![TensorSpec::new("y", Element::F32, &[1, -1])],
            metadata: Default::default(),
        };
        let err = detect(&unknown).unwrap_err().to_string();
        assert!(err.contains("not an RVC voice model") && err.contains("x [1,?] f32"), "{err}");
    }
}
