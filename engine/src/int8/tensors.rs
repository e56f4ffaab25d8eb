//! Reading and writing the constant tensors the rewrite touches.

use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::{GraphProto, TensorProto};

/// A float32 constant of the graph: an initializer or the value of a `Constant` node.
pub fn constant_f32(graph: &GraphProto, name: &str) -> Option<(Vec<i64>, Vec<f32>)> {
    let tensor = graph.initializer.iter().find(|t| t.name == name).or_else(|| {
        graph
            .node
            .iter()
            .filter(|n| n.op_type == "Constant" && n.domain.is_empty() && n.output.first().is_some_and(|o| o == name))
            .find_map(|n| n.attribute.iter().find(|a| a.name == "value").and_then(|a| a.t.as_ref()))
    })?;
    if tensor.data_type != DataType::FLOAT as i32 || !tensor.external_data.is_empty() {
        return None;
    }
    let count: i64 = tensor.dims.iter().product();
    let values: Vec<f32> = if !tensor.raw_data.is_empty() {
        tensor.raw_data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    } else {
        tensor.float_data.clone()
    };
    (values.len() as i64 == count).then(|| (tensor.dims.clone(), values))
}

fn tensor(name: &str, dims: Vec<i64>, data_type: DataType, raw_data: Vec<u8>) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.to_owned();
    t.dims = dims;
    t.data_type = data_type as i32;
    t.raw_data = raw_data;
    t
}

pub fn f32_tensor(name: &str, dims: Vec<i64>, values: &[f32]) -> TensorProto {
    tensor(name, dims, DataType::FLOAT, values.iter().flat_map(|v| v.to_le_bytes()).collect())
}

pub fn i8_tensor(name: &str, dims: Vec<i64>, values: &[i8]) -> TensorProto {
    tensor(name, dims, DataType::INT8, values.iter().map(|&v| v as u8).collect())
}

pub fn u8_tensor(name: &str, dims: Vec<i64>, values: &[u8]) -> TensorProto {
    tensor(name, dims, DataType::UINT8, values.to_vec())
}

pub fn i32_tensor(name: &str, dims: Vec<i64>, values: &[i32]) -> TensorProto {
    tensor(name, dims, DataType::INT32, values.iter().flat_map(|v| v.to_le_bytes()).collect())
}
