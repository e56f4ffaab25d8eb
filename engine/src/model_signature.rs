//! What an ONNX model takes and gives, read from its session: the facts format detection works on.

use std::collections::BTreeMap;
use std::fmt;

use ort::session::Session;
use ort::value::{TensorElementType, ValueType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    F32,
    F16,
    I64,
    Other,
}

/// One input or output. Dimensions the model leaves open are `-1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    pub element: Element,
    pub dims: Vec<i64>,
}

impl TensorSpec {
    pub fn new(name: &str, element: Element, dims: &[i64]) -> Self {
        Self { name: name.to_owned(), element, dims: dims.to_vec() }
    }

    /// The size of dimension `axis`, if the model fixes it.
    pub fn dim(&self, axis: usize) -> Option<i64> {
        self.dims.get(axis).copied().filter(|&d| d > 0)
    }
}

impl fmt::Display for TensorSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dims: Vec<String> = self.dims.iter().map(|d| if *d > 0 { d.to_string() } else { "?".into() }).collect();
        let element = match self.element {
            Element::F32 => "f32",
            Element::F16 => "f16",
            Element::I64 => "i64",
            Element::Other => "other",
        };
        write!(f, "{} [{}] {element}", self.name, dims.join(","))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelSignature {
    pub inputs: Vec<TensorSpec>,
    pub outputs: Vec<TensorSpec>,
    /// The model's custom metadata (key → value).
    pub metadata: BTreeMap<String, String>,
}

impl ModelSignature {
    pub fn of(session: &Session) -> Self {
        let spec = |name: &str, ty: &ValueType| match ty {
            ValueType::Tensor { ty, shape, .. } => TensorSpec {
                name: name.to_owned(),
                element: match ty {
                    TensorElementType::Float32 => Element::F32,
                    TensorElementType::Float16 => Element::F16,
                    TensorElementType::Int64 => Element::I64,
                    _ => Element::Other,
                },
                dims: shape.to_vec(),
            },
            _ => TensorSpec { name: name.to_owned(), element: Element::Other, dims: vec![] },
        };
        let mut metadata = BTreeMap::new();
        if let Ok(meta) = session.metadata()
            && let Ok(keys) = meta.custom_keys()
        {
            for key in keys {
                if let Some(value) = meta.custom(&key) {
                    metadata.insert(key, value);
                }
            }
        }
        Self {
            inputs: session.inputs().iter().map(|o| spec(o.name(), o.dtype())).collect(),
            outputs: session.outputs().iter().map(|o| spec(o.name(), o.dtype())).collect(),
            metadata,
        }
    }

    pub fn input(&self, name: &str) -> Option<&TensorSpec> {
        self.inputs.iter().find(|t| t.name == name)
    }

    pub fn output(&self, name: &str) -> Option<&TensorSpec> {
        self.outputs.iter().find(|t| t.name == name)
    }

    pub fn has_inputs(&self, names: &[&str]) -> bool {
        names.iter().all(|n| self.input(n).is_some())
    }

    /// "inputs a [1,?] f32, b [1] i64; outputs c [?] f32", for error messages.
    pub fn describe(&self) -> String {
        let list = |specs: &[TensorSpec]| specs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        format!("inputs {}; outputs {}", list(&self.inputs), list(&self.outputs))
    }
}
