//! The rewrite: each chosen operator gets quantise/dequantise pairs around it.
//!
//! This is ONNX's QDQ form: `DequantizeLinear` on the input, the int8 weights and the int32 bias,
//! the float operator, and `QuantizeLinear` → `DequantizeLinear` on its output. ONNX Runtime's CPU
//! provider fuses that pattern into one integer `QLinearConv` or `QLinearMatMul`; a provider that
//! does not still computes the same values in float. The output keeps its tensor name, so nothing
//! downstream changes.

use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::{AttributeProto, GraphProto, NodeProto, TensorProto};

use super::ranges::{ActivationCode, quantise_weights};
use super::targets::{Kind, Target};
use super::tensors::{f32_tensor, i8_tensor, i32_tensor, u8_tensor};

/// The nodes that replace `target`'s node and the constants they need.
pub struct Replacement {
    pub nodes: Vec<NodeProto>,
    pub constants: Vec<TensorProto>,
}

pub fn replace(graph: &GraphProto, target: &Target, input: ActivationCode, output: ActivationCode) -> Replacement {
    let original = &graph.node[target.node];
    // Names made from the output's, which is unique in the graph.
    let name = |suffix: &str| format!("{}__int8_{suffix}", target.output);
    let out_channels = target.weight_dims[0] as usize;
    // Convolutions scale each output channel's weights; matrix products one scale for all, the form
    // ONNX Runtime's integer matrix product takes everywhere.
    let (weights, scale_dims, axis) = match target.kind {
        Kind::Conv => (quantise_weights(&target.weight, out_channels), vec![out_channels as i64], Some(0)),
        Kind::MatMul => (quantise_weights(&target.weight, 1), vec![], None),
    };
    let zeros = vec![0; weights.scales.len()];
    let mut constants = vec![
        f32_tensor(&name("x_scale"), vec![], &[input.scale]),
        u8_tensor(&name("x_zero"), vec![], &[input.zero_point]),
        i8_tensor(&name("w"), target.weight_dims.clone(), &weights.values),
        f32_tensor(&name("w_scale"), scale_dims.clone(), &weights.scales),
        i8_tensor(&name("w_zero"), scale_dims, &zeros),
        f32_tensor(&name("y_scale"), vec![], &[output.scale]),
        u8_tensor(&name("y_zero"), vec![], &[output.zero_point]),
    ];
    let mut nodes = vec![
        node("QuantizeLinear", &[&target.input, &name("x_scale"), &name("x_zero")], &name("x_q"), None),
        node("DequantizeLinear", &[&name("x_q"), &name("x_scale"), &name("x_zero")], &name("x_dq"), None),
        node("DequantizeLinear", &[&name("w"), &name("w_scale"), &name("w_zero")], &name("w_dq"), axis),
    ];
    let mut op_inputs = vec![name("x_dq"), name("w_dq")];
    if let Some(bias) = &target.bias {
        // QLinearConv adds the bias in the accumulator's units: input scale × weight scale.
        let scales: Vec<f32> = weights.scales.iter().map(|s| s * input.scale).collect();
        let values: Vec<i32> =
            bias.iter().zip(&scales).map(|(b, s)| (f64::from(*b) / f64::from(*s)).round() as i32).collect();
        constants.push(i32_tensor(&name("b"), vec![out_channels as i64], &values));
        constants.push(f32_tensor(&name("b_scale"), vec![out_channels as i64], &scales));
        constants.push(i32_tensor(&name("b_zero"), vec![out_channels as i64], &vec![0; out_channels]));
        nodes.push(node("DequantizeLinear", &[&name("b"), &name("b_scale"), &name("b_zero")], &name("b_dq"), Some(0)));
        op_inputs.push(name("b_dq"));
    }
    let mut float_op = original.clone();
    float_op.input = op_inputs;
    float_op.output = vec![name("y")];
    if !float_op.name.is_empty() {
        float_op.name = format!("{}__int8", float_op.name);
    }
    nodes.push(float_op);
    nodes.push(node("QuantizeLinear", &[&name("y"), &name("y_scale"), &name("y_zero")], &name("y_q"), None));
    nodes.push(node("DequantizeLinear", &[&name("y_q"), &name("y_scale"), &name("y_zero")], &target.output, None));
    Replacement { nodes, constants }
}

fn node(op: &str, inputs: &[&str], output: &str, axis: Option<i64>) -> NodeProto {
    let mut n = NodeProto::new();
    n.op_type = op.to_owned();
    n.name = format!("{output}__node");
    n.input = inputs.iter().map(|s| (*s).to_owned()).collect();
    n.output = vec![output.to_owned()];
    if let Some(axis) = axis {
        let mut a = AttributeProto::new();
        a.name = "axis".to_owned();
        a.type_ = AttributeType::INT.into();
        a.i = axis;
        n.attribute.push(a);
    }
    n
}
