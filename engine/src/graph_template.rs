//! A graph template: an ONNX graph whose weights are marked as external data to be filled from a
//! checkpoint (`models/rvc/graph_template.py` takes them out of RVC's own exports). The voice graphs
//! ([`crate::voice_graph`]) and RMVPE's ([`crate::rmvpe_checkpoint`]) are built from them.

use std::io::Read;

use onnx_protobuf::tensor_proto::DataLocation;
use onnx_protobuf::{Message, ModelProto, TensorProto};

use crate::graph_templates::TEMPLATES;
use crate::torch_checkpoint::TensorStore;

/// The external-data location the template generator gives the weights.
const CHECKPOINT_LOCATION: &str = "checkpoint";
/// Metadata key of what the template fits.
const FITS_KEY: &str = "rvc_live_template";

pub struct GraphTemplate {
    pub name: String,
    pub model: ModelProto,
    /// What the template fits, as the generator wrote it.
    pub fits: serde_json::Value,
}

impl GraphTemplate {
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
            .ok_or_else(|| format!("{name}: not a graph template (no `{FITS_KEY}`)"))?;
        let fits = serde_json::from_str(&fits.value).map_err(|e| format!("{name}: {e}"))?;
        Ok(Self { name: name.to_owned(), model, fits })
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

/// Fill the first committed template named `prefix…` whose every weight `tensors` holds under the
/// same name and shape. Returns the model and the template's name, or what the first template
/// found wrong (for the caller's message).
pub fn fill_first_fitting(prefix: &str, tensors: &TensorStore) -> Result<(Vec<u8>, String), String> {
    let mut closest = None;
    for (name, gz) in TEMPLATES.iter().filter(|(name, _)| name.starts_with(prefix)) {
        let template = GraphTemplate::parse(name, gz).expect("a committed template parses");
        let mismatch = template.weights().find_map(|(weight, shape)| match tensors.shape(weight) {
            None => Some(format!("`{weight}` is missing")),
            Some(found) if found != shape.as_slice() => Some(format!("`{weight}` is {found:?}, not {shape:?}")),
            Some(_) => None,
        });
        match mismatch {
            None => {
                let onnx = template.fill(|weight| {
                    let values = tensors.read_f32(weight).map_err(|e| e.to_string())?;
                    Ok::<_, String>((tensors.shape(weight).unwrap_or_default().to_vec(), values))
                })?;
                return Ok((onnx, (*name).to_owned()));
            }
            Some(mismatch) => {
                closest.get_or_insert(mismatch);
            }
        }
    }
    Err(closest.unwrap_or_else(|| format!("no `{prefix}` template is built in")))
}

fn is_checkpoint_weight(tensor: &TensorProto) -> bool {
    tensor.data_location.enum_value() == Ok(DataLocation::EXTERNAL)
        && tensor.external_data.iter().any(|e| e.key == "location" && e.value == CHECKPOINT_LOCATION)
}
