//! A PyTorch checkpoint (`torch.save`: a ZIP holding one pickle and the tensors' storages) from a
//! stranger, read without running any of it.
//!
//! A pickle is a program: its `GLOBAL` and `REDUCE` opcodes name any Python callable and call it.
//! `pytorch-reader` interprets the opcodes itself and builds only tensors (from torch's own
//! rebuild functions) and plain data; whatever else a file names it keeps as an inert value holding
//! the callable's name. Such a value in a checkpoint means the file asks for more than a checkpoint
//! needs (`os.system`, `eval`, …), so [`TorchCheckpoint::refuse_foreign`] refuses it by name.
//! Tensor sizes are checked against the file before any tensor is read, so a few bytes claiming
//! gigabytes allocate nothing.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use half::{bf16, f16};
use pytorch_reader::{DType, PickleValue, PytorchReader, Tensor};

/// What a checkpoint's pickle may hold besides plain data: tensors, and numpy scalars (which some
/// trainers save for an epoch or a loss; the reader keeps them as data and calls nothing).
const DATA_TYPES: [&str; 3] = ["torch.Tensor", "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar"];

#[derive(Debug, Clone, PartialEq)]
pub enum CheckpointError {
    /// Not a PyTorch checkpoint, or a damaged one (truncated, a broken ZIP, a bad pickle).
    Unreadable { path: PathBuf, reason: String },
    /// The pickle names a Python callable that is not part of a checkpoint.
    Foreign { path: PathBuf, callable: String },
    /// A key the checkpoint must have is missing or holds the wrong kind of value.
    Missing { path: PathBuf, what: String },
    /// A tensor cannot be used: its type, or a size the file cannot hold.
    BadTensor { path: PathBuf, name: String, reason: String },
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable { path, reason } => {
                write!(f, "{} is not a readable PyTorch checkpoint: {reason}", path.display())
            }
            Self::Foreign { path, callable } => write!(
                f,
                "{} was refused: its pickle calls `{callable}`, which no checkpoint needs (nothing of it was run)",
                path.display()
            ),
            Self::Missing { path, what } => write!(f, "{} has no {what}", path.display()),
            Self::BadTensor { path, name, reason } => {
                write!(f, "{}: tensor `{name}` cannot be used: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for CheckpointError {}

/// A checkpoint's pickle as plain data, its tensors not yet read.
pub struct TorchCheckpoint {
    path: PathBuf,
    root: HashMap<String, PickleValue>,
    file_len: u64,
}

impl TorchCheckpoint {
    /// Parse the pickle of the checkpoint at `path`. Nothing of it runs; tensors are not read.
    pub fn open(path: &Path) -> Result<Self, CheckpointError> {
        let unreadable = |reason: String| CheckpointError::Unreadable { path: path.to_path_buf(), reason };
        let file_len = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?.len();
        let root = match PytorchReader::read_pickle_data(path, None).map_err(|e| unreadable(e.to_string()))? {
            PickleValue::Dict(root) => root,
            other => return Err(unreadable(format!("it holds {}, not a dictionary", kind(&other)))),
        };
        Ok(Self { path: path.to_path_buf(), root, file_len })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pickle's top-level dictionary.
    pub fn root(&self) -> &HashMap<String, PickleValue> {
        &self.root
    }

    /// Refuse the file if anything under the top-level keys not in `skip` names a callable other
    /// than torch's and numpy's data types. `skip` is for checkpoints whose trainer pickles its own
    /// configuration objects beside the weights (fairseq's `cfg`), which are then never looked at.
    pub fn refuse_foreign(&self, skip: &[&str]) -> Result<(), CheckpointError> {
        let mut found = None;
        for (key, value) in &self.root {
            if !skip.contains(&key.as_str()) {
                visit_foreign(value, &mut found);
            }
        }
        match found {
            Some(callable) => Err(CheckpointError::Foreign { path: self.path.clone(), callable }),
            None => Ok(()),
        }
    }

    /// The tensors of the dictionary under `key` (the whole root for `None`), not yet read.
    pub fn tensors(&self, key: Option<&str>) -> Result<TensorStore, CheckpointError> {
        let reader = match key {
            Some(key) => PytorchReader::with_top_level_key(&self.path, key),
            None => PytorchReader::new(&self.path),
        }
        .map_err(|e| CheckpointError::Unreadable { path: self.path.clone(), reason: e.to_string() })?;
        Ok(TensorStore { path: self.path.clone(), tensors: reader.into_tensors(), file_len: self.file_len })
    }
}

fn visit_foreign(value: &PickleValue, found: &mut Option<String>) {
    match value {
        PickleValue::Unsupported(name) if !DATA_TYPES.contains(&name.as_str()) => {
            found.get_or_insert_with(|| name.clone());
        }
        PickleValue::List(items) => items.iter().for_each(|v| visit_foreign(v, found)),
        PickleValue::Dict(map) => map.values().for_each(|v| visit_foreign(v, found)),
        _ => {}
    }
}

/// A value's kind in words, for messages.
fn kind(value: &PickleValue) -> String {
    match value {
        PickleValue::None => "None".into(),
        PickleValue::Bool(_) => "a bool".into(),
        PickleValue::Int(_) => "an integer".into(),
        PickleValue::Float(_) => "a float".into(),
        PickleValue::String(_) => "a string".into(),
        PickleValue::List(_) => "a list".into(),
        PickleValue::Dict(_) => "a dictionary".into(),
        PickleValue::Bytes(_) => "bytes".into(),
        PickleValue::Unsupported(name) => format!("a `{name}`"),
    }
}

/// A checkpoint's tensors by name, read on demand as f32.
pub struct TensorStore {
    path: PathBuf,
    tensors: HashMap<String, Tensor>,
    file_len: u64,
}

impl TensorStore {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.tensors.get(name).map(Tensor::shape)
    }

    /// Whether any tensor is stored in half precision (RVC's saved voices are; training
    /// checkpoints are not).
    pub fn any_half(&self) -> bool {
        self.tensors.values().any(|t| matches!(t.dtype(), DType::F16 | DType::BF16))
    }

    /// The tensor `name` as f32, from f16, bf16 or f32 storage.
    pub fn read_f32(&self, name: &str) -> Result<Vec<f32>, CheckpointError> {
        let bad = |reason: String| CheckpointError::BadTensor { path: self.path.clone(), name: name.into(), reason };
        let tensor = self
            .tensors
            .get(name)
            .ok_or_else(|| CheckpointError::Missing { path: self.path.clone(), what: format!("tensor `{name}`") })?;
        // Storages sit uncompressed in the file, so no honest tensor is larger than the file.
        let bytes = tensor.byte_len() as u64;
        if bytes > self.file_len {
            return Err(bad(format!("it claims {bytes} bytes in a file of {}", self.file_len)));
        }
        let raw = tensor.read().map_err(|e| bad(e.to_string()))?;
        let values: Vec<f32> = match tensor.dtype() {
            DType::F32 => raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            DType::F16 => raw.chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            DType::BF16 => raw.chunks_exact(2).map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            other => return Err(bad(format!("it is {other:?}, not a float tensor"))),
        };
        if values.len() != tensor.num_elements() {
            return Err(bad(format!("it holds {} values for shape {:?}", values.len(), tensor.shape())));
        }
        Ok(values)
    }
}
