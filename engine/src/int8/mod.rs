//! 8-bit copies of the content encoder and of the voice model's waveform decoder, made when a
//! voice loads: the opt-in "fast (approximate)" precision.
//!
//! On a CPU these two are nearly all of a block's compute, and ONNX Runtime's integer convolutions
//! and matrix products run them faster (a whole block of the full-size voice about 1.6 times as
//! fast, `cargo xtask bench --int8-models`). A copy is made around a calibration
//! run that the caller drives with real blocks of its own pipeline:
//! 1. [`Int8Plan::new`] finds the operators to quantise ([`targets`]) and makes a probe model that
//!    also outputs their inputs and outputs;
//! 2. the caller runs the probe over calibration audio ([`Calibration`]), recording
//!    [`TensorRanges`];
//! 3. [`Int8Plan::quantised`] writes the int8 model (QDQ form, see [`qdq`]).
//!
//! The user's files are never changed. How far the converted voice may drift from the float
//! models' is bounded by `engine/tests/int8_models.rs` (random-weight RVC models) and, in sound,
//! by `engine/tests/int8_trained_voice.rs` on a trained vocoder ([`sound_cost`]): the copies are
//! not transparent there, so they are off by default.

mod calibration;
mod freed_memory;
mod int8_error;
mod qdq;
mod ranges;
mod sound_cost;
mod targets;
mod tensors;

use onnx_protobuf::{Message, ModelProto, TypeProto, ValueInfoProto, type_proto};

pub use calibration::Calibration;
pub use freed_memory::return_to_system;
pub use int8_error::Int8Error;
pub use ranges::TensorRanges;
pub use sound_cost::{DECODER_COST, SoundCost, TRANSPARENT_PAUSE_RISE_DB, TRANSPARENT_PESQ_WB};
pub use targets::Scope;

/// Calibrated ranges are widened by this factor: input louder than the calibration signal then
/// still fits, for about 2 dB less resolution.
const HEADROOM: f32 = 1.25;

/// Per-channel `DequantizeLinear` (the `axis` attribute) needs opset 13.
const MIN_OPSET: i64 = 13;

pub struct Int8Plan {
    model: ModelProto,
    targets: Vec<targets::Target>,
}

impl Int8Plan {
    /// Parse `model` (an ONNX file's bytes) and find what in `scope` to quantise. Fails, saying why,
    /// for a model with nothing to quantise or too old an opset.
    pub fn new(model: &[u8], scope: Scope) -> Result<Self, Int8Error> {
        let model = ModelProto::parse_from_bytes(model)
            .map_err(|e| Int8Error::Protobuf(format!("cannot read the model: {e}")))?;
        let graph = model.graph.as_ref().ok_or_else(|| Int8Error::Protobuf("the model has no graph".into()))?;
        let opset = model.opset_import.iter().find(|o| o.domain.is_empty()).map_or(0, |o| o.version);
        if opset < MIN_OPSET {
            return Err(Int8Error::OldOpset { opset, minimum: MIN_OPSET });
        }
        let targets = targets::find(graph, scope);
        if targets.is_empty() {
            return Err(Int8Error::NothingToQuantise(match scope {
                Scope::Decoder => "decoder convolutions with constant weights",
                Scope::ContentEncoder => "transformer layers (matrix products with constant weights)",
            }));
        }
        Ok(Self { model, targets })
    }

    /// How many operators the plan would quantise.
    pub fn operators(&self) -> usize {
        self.targets.len()
    }

    /// The tensors to record during calibration: each target's input and output.
    pub fn probes(&self) -> Vec<String> {
        let mut names: Vec<String> = self.targets.iter().flat_map(|t| [t.input.clone(), t.output.clone()]).collect();
        names.sort();
        names.dedup();
        names
    }

    /// The float model with every probe added as an output.
    pub fn probe_model(&self) -> Result<Vec<u8>, Int8Error> {
        let mut model = self.model.clone();
        let graph = model.graph.mut_or_insert_default();
        for name in self.probes() {
            if graph.output.iter().any(|o| o.name == name) {
                continue;
            }
            let mut tensor = type_proto::Tensor::new();
            tensor.elem_type = onnx_protobuf::tensor_proto::DataType::FLOAT as i32;
            let mut value_type = TypeProto::new();
            value_type.value = Some(type_proto::Value::TensorType(tensor));
            let mut info = ValueInfoProto::new();
            info.name = name;
            info.type_ = protobuf::MessageField::some(value_type);
            graph.output.push(info);
        }
        model.write_to_bytes().map_err(|e| Int8Error::Protobuf(format!("cannot write the probe model: {e}")))
    }

    /// The int8 model. An operator whose input or output never varied during calibration stays
    /// in float. Returns the model's bytes and how many operators were quantised.
    pub fn quantised(mut self, ranges: &TensorRanges) -> Result<(Vec<u8>, usize), Int8Error> {
        let graph = self.model.graph.mut_or_insert_default();
        let mut replacements = Vec::with_capacity(self.targets.len());
        for target in &self.targets {
            let code = |name: &str| ranges.get(name).and_then(|r| ranges::ActivationCode::covering(r, HEADROOM));
            if let (Some(input), Some(output)) = (code(&target.input), code(&target.output)) {
                replacements.push((target.node, qdq::replace(graph, target, input, output)));
            }
        }
        let quantised = replacements.len();
        if quantised == 0 {
            return Err(Int8Error::NoSignal);
        }
        // Rebuild the node list in order, each replacement where its operator was, so the graph
        // stays topologically sorted.
        let mut by_node: std::collections::HashMap<usize, qdq::Replacement> = replacements.into_iter().collect();
        let old_nodes = std::mem::take(&mut graph.node);
        let mut replaced_constants = Vec::new();
        for (i, node) in old_nodes.into_iter().enumerate() {
            match by_node.remove(&i) {
                Some(replacement) => {
                    replaced_constants.extend(node.input.into_iter().skip(1));
                    graph.node.extend(replacement.nodes);
                    graph.initializer.extend(replacement.constants);
                }
                None => graph.node.push(node),
            }
        }
        // The float weights the int8 ones replace, unless something else still reads them: the
        // model handed to ONNX Runtime then holds one copy of the decoder, not two.
        let still_read: std::collections::HashSet<&str> =
            graph.node.iter().flat_map(|n| n.input.iter().map(String::as_str)).collect();
        let unused: std::collections::HashSet<String> =
            replaced_constants.into_iter().filter(|c| !still_read.contains(c.as_str())).collect();
        graph.initializer.retain(|t| !unused.contains(&t.name));
        let bytes = self
            .model
            .write_to_bytes()
            .map_err(|e| Int8Error::Protobuf(format!("cannot write the int8 model: {e}")))?;
        Ok((bytes, quantised))
    }
}
