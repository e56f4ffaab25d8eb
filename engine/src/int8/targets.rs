//! Which operators to quantise.
//!
//! - In a voice model ([`Scope::Decoder`]): the convolutions of the waveform decoder. An RVC
//!   synthesizer spends most of its time in the NSF-HiFiGAN decoder's residual blocks, which run at
//!   up to the output sample rate, after the transposed convolutions that upsample the latent. The
//!   text encoder and the flow before them are cheap and shape what the voice says, so they stay in
//!   float. "Downstream of a `ConvTranspose`" finds the decoder in every export convention without
//!   relying on node names, which differ between exporters.
//! - In a content encoder ([`Scope::ContentEncoder`]): every convolution (the waveform front end)
//!   and every matrix product with constant weights (the transformer). An encoder without such
//!   matrix products is not the ContentVec/HuBERT shape the copy is made and checked for, so
//!   nothing in it is chosen.

use std::collections::{HashMap, HashSet};

use onnx_protobuf::GraphProto;

use super::tensors::constant_f32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Decoder,
    ContentEncoder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 1-D convolution: int8 weights per output channel.
    Conv,
    /// Matrix product with a constant right-hand side: int8 weights per tensor.
    MatMul,
}

/// An operator the rewrite can quantise: float weights (and bias) known at load.
#[derive(Debug, Clone)]
pub struct Target {
    /// Index of the node in the graph.
    pub node: usize,
    pub kind: Kind,
    pub input: String,
    pub output: String,
    /// Conv: `[out_channels, in_channels / group, kernel]`; MatMul: `[inner, columns]`.
    pub weight_dims: Vec<i64>,
    pub weight: Vec<f32>,
    pub bias: Option<Vec<f32>>,
}

pub fn find(graph: &GraphProto, scope: Scope) -> Vec<Target> {
    let candidates: Vec<usize> = match scope {
        Scope::Decoder => downstream_of_transposed_convolutions(graph).into_iter().collect(),
        Scope::ContentEncoder => (0..graph.node.len()).collect(),
    };
    let mut targets: Vec<Target> = candidates.into_iter().filter_map(|i| quantisable(graph, i, scope)).collect();
    if scope == Scope::ContentEncoder && !targets.iter().any(|t| t.kind == Kind::MatMul) {
        return Vec::new();
    }
    targets.sort_by_key(|t| t.node);
    targets
}

fn downstream_of_transposed_convolutions(graph: &GraphProto) -> HashSet<usize> {
    let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, node) in graph.node.iter().enumerate() {
        for input in &node.input {
            consumers.entry(input.as_str()).or_default().push(i);
        }
    }
    let mut reached = HashSet::new();
    let mut pending: Vec<&str> = graph
        .node
        .iter()
        .filter(|n| n.op_type == "ConvTranspose" && n.domain.is_empty())
        .flat_map(|n| n.output.iter().map(String::as_str))
        .collect();
    while let Some(tensor) = pending.pop() {
        for &i in consumers.get(tensor).map_or(&[][..], Vec::as_slice) {
            if reached.insert(i) {
                pending.extend(graph.node[i].output.iter().map(String::as_str));
            }
        }
    }
    reached
}

fn quantisable(graph: &GraphProto, index: usize, scope: Scope) -> Option<Target> {
    let node = &graph.node[index];
    let kind = match node.op_type.as_str() {
        "Conv" => Kind::Conv,
        "MatMul" if scope == Scope::ContentEncoder => Kind::MatMul,
        _ => return None,
    };
    if !node.domain.is_empty() || node.output.len() != 1 {
        return None;
    }
    let (weight_dims, weight) = constant_f32(graph, node.input.get(1)?)?;
    let rank = if kind == Kind::Conv { 3 } else { 2 };
    if weight_dims.len() != rank || weight_dims.iter().any(|&d| d <= 0) {
        return None;
    }
    let bias = match node.input.get(2).filter(|b| !b.is_empty()) {
        None => None,
        Some(name) => {
            let (dims, values) = constant_f32(graph, name)?;
            if dims != [weight_dims[0]] {
                return None;
            }
            Some(values)
        }
    };
    Some(Target {
        node: index,
        kind,
        input: node.input[0].clone(),
        output: node.output[0].clone(),
        weight_dims,
        weight,
        bias,
    })
}
