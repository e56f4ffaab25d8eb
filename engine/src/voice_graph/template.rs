//! One voice graph template: RVC's partial-decoding graph for one configuration, its weights
//! marked as external data to be filled from a checkpoint (see `models/rvc/voice_template.py`).

use std::io::Read;

use onnx_protobuf::tensor_proto::DataLocation;
use onnx_protobuf::{Message, ModelProto, TensorProto};

use crate::synthesizer_format::ModelVersion;

/// The external-data location the template generator gives the weights.
const CHECKPOINT_LOCATION: &str = "checkpoint";
/// Metadata key of what the template fits.
const FITS_KEY: &str = "rvc_live_template";
/// Entries of RVC's `config` list the graph does not depend on (spec_channels, segment_size:
/// training only; spk_embed_dim: the checkpoint's speaker embedding decides it). The generator
/// writes them as null.
const UNUSED_CONFIG: [usize; 3] = [0, 1, 15];

/// What a checkpoint must be for a template to fit it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fits {
    pub version: ModelVersion,
    pub f0: bool,
    /// RVC's `config` list with the unused entries null.
    pub config: Vec<serde_json::Value>,
}

impl Fits {
    /// The sample rate: the config's last value.
    pub fn sample_rate(&self) -> u32 {
        self.config.last().and_then(serde_json::Value::as_u64).map_or(0, |sr| sr as u32)
    }

    /// Whether a checkpoint's own `config` list describes this configuration.
    pub fn matches_config(&self, config: &[serde_json::Value]) -> bool {
        config.len() == self.config.len()
            && config.iter().zip(&self.config).enumerate().all(|(i, (a, b))| UNUSED_CONFIG.contains(&i) || a == b)
    }

    pub fn describe(&self) -> String {
        format!(
            "{} {} kHz {}",
            self.version.name(),
            self.sample_rate() / 1000,
            if self.f0 { "with pitch" } else { "without pitch" }
        )
    }
}

pub struct VoiceTemplate {
    pub name: String,
    pub model: ModelProto,
    pub fits: Fits,
}

impl VoiceTemplate {
    /// Parse a gzipped template.
    pub fn parse(name: &str, gzipped: &[u8]) -> Result<Self, String> {
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(gzipped).read_to_end(&mut bytes).map_err(|e| format!("{name}: {e}"))?;
        Self::parse_onnx(name, &bytes)
    }

    /// Parse an uncompressed template (the tests' det ones).
    pub fn parse_onnx(name: &str, bytes: &[u8]) -> Result<Self, String> {
        let model = ModelProto::parse_from_bytes(bytes).map_err(|e| format!("{name}: {e}"))?;
        let fits = model
            .metadata_props
            .iter()
            .find(|p| p.key == FITS_KEY)
            .ok_or_else(|| format!("{name}: not a voice graph template (no `{FITS_KEY}`)"))?;
        let json: serde_json::Value = serde_json::from_str(&fits.value).map_err(|e| format!("{name}: {e}"))?;
        let version = match json["version"].as_str() {
            Some("v1") => ModelVersion::V1,
            Some("v2") => ModelVersion::V2,
            other => return Err(format!("{name}: unknown version {other:?}")),
        };
        let f0 = json["f0"].as_bool().ok_or_else(|| format!("{name}: no f0"))?;
        let config = json["config"].as_array().cloned().ok_or_else(|| format!("{name}: no config"))?;
        Ok(Self { name: name.to_owned(), model, fits: Fits { version, f0, config } })
    }

    /// The weights to fill: (name, shape) of every initializer whose data is in the checkpoint.
    pub fn weights(&self) -> impl Iterator<Item = (&str, Vec<usize>)> {
        self.model
            .graph
            .initializer
            .iter()
            .filter(|t| is_checkpoint_weight(t))
            .map(|t| (t.name.as_str(), t.dims.iter().map(|&d| d as usize).collect()))
    }

    /// Fill every weight with `fill(name)`'s shape and values, and serialise the model.
    pub fn fill<E>(mut self, mut fill: impl FnMut(&str) -> Result<(Vec<usize>, Vec<f32>), E>) -> Result<Vec<u8>, E> {
        for tensor in
            self.model.graph.mut_or_insert_default().initializer.iter_mut().filter(|t| is_checkpoint_weight(t))
        {
            let (shape, values) = fill(&tensor.name)?;
            tensor.dims = shape.iter().map(|&d| d as i64).collect();
            tensor.raw_data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            tensor.external_data.clear();
            tensor.data_location = DataLocation::DEFAULT.into();
        }
        self.model.metadata_props.retain(|p| p.key != FITS_KEY);
        Ok(self.model.write_to_bytes().expect("a parsed model serialises"))
    }
}

fn is_checkpoint_weight(tensor: &TensorProto) -> bool {
    tensor.data_location.enum_value() == Ok(DataLocation::EXTERNAL)
        && tensor.external_data.iter().any(|e| e.key == "location" && e.value == CHECKPOINT_LOCATION)
}
